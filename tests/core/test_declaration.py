"""plugin.yaml: schema, unknown keys, and errors that name the file, line and field."""

from __future__ import annotations

import pytest

from plugingate.declaration import parse_declaration
from plugingate.errors import ExitCode, InputError

GOOD = b"""apiVersion: plugingate.dev/v1
kind: Plugin
metadata: {name: acme-exporter, version: 1.4.2, publisher: acme.example}
spec:
  images:
    - name: exporter
      ref: registry.example.com/acme/exporter@sha256:%s
  manifests: deploy/
  capabilities:
    network:
      egress: [{host: API.acme.example., ports: [443], reason: "push metrics"}]
      ingress: [{port: 9100, reason: "prometheus scrape"}]
    filesystem: {read: [/etc/acme], write: [/tmp]}
    secrets: [{name: acme-token, keys: [token], as: env}]
    kubernetes: {rules: [{apiGroups: [""], resources: [pods], verbs: [get, list, watch]}]}
    privileges: {runAsNonRoot: true, capabilities: [], hostNetwork: false, hostPID: false, hostPath: []}
    resources: {cpu: 500m, memory: 256Mi}
""" % (b"a" * 64)


def test_contract_example_loads_into_typed_values() -> None:
    decl = parse_declaration(GOOD)
    assert (decl.name, decl.version, decl.publisher) == ("acme-exporter", "1.4.2", "acme.example")
    assert decl.images[0].digest == "sha256:" + "a" * 64
    assert decl.images[0].repository == "registry.example.com/acme/exporter"
    assert decl.manifests == ("deploy/",)
    caps = decl.capabilities
    assert caps.egress[0].host == "api.acme.example" and caps.egress[0].ports == (443,)
    assert caps.resources.cpu_millicores == 500 and caps.resources.memory_bytes == 256 << 20
    assert caps.rbac_rules[0].verbs == ("get", "list", "watch")
    assert caps.privileges.run_as_non_root and not caps.privileges.privileged
    assert decl.line("spec", "capabilities", "secrets", 0) == 14


def expect_error(raw: bytes) -> InputError:
    with pytest.raises(InputError) as info:
        parse_declaration(raw)
    assert info.value.exit_code is ExitCode.USAGE
    return info.value


def test_unknown_key_is_an_error_with_line_and_field() -> None:
    err = expect_error(GOOD.replace(b"    filesystem:", b"    gpu: true\n    filesystem:"))
    assert "unknown key(s) 'gpu'" in err.message
    assert err.line == 13 and err.field == "spec.capabilities"
    assert "plugin.yaml:13: spec.capabilities:" in err.message


def test_wrong_kind_and_missing_fields() -> None:
    err = expect_error(b"apiVersion: plugingate.dev/v1\nkind: Pod\nmetadata: {name: x}\n")
    assert "kind" in err.message and "'spec' is a required property" in err.message
    assert "'version' is a required property" in err.message


def test_bad_quantity_names_the_field() -> None:
    err = expect_error(GOOD.replace(b"cpu: 500m", b"cpu: lots"))
    assert "spec.capabilities.resources.cpu" in err.message


def test_egress_without_reason_is_refused() -> None:
    err = expect_error(GOOD.replace(b', reason: "push metrics"', b""))
    assert "'reason' is a required property" in err.message and "egress[0]" in err.message


@pytest.mark.parametrize(
    "ref",
    [
        b"registry.example.com/acme/exporter@sha256:" + b"A" * 64,  # upper-case hex
        b"registry.example.com/acme/exporter@sha256:" + b"a" * 63,  # one digit short
        b"registry.example.com/acme/exporter@sha256:zz",
        b"registry.example.com/acme/exporter@",
        b"registry.example.com/acme/exporter@latest",
    ],
)
def test_a_malformed_image_digest_is_bad_input_on_its_line(ref: bytes) -> None:
    # The digest becomes an attestation subject: a malformed one must stop the gate as bad input
    # (exit 2, naming the line), not later as a crash in the attestation step.
    err = expect_error(GOOD.replace(b"registry.example.com/acme/exporter@sha256:" + b"a" * 64, ref))
    assert err.field == "spec.images[0].ref" and err.line == 7
    assert "not pinned by a well-formed digest" in err.message and err.hint and "sha256:<64" in err.hint


def test_other_digest_algorithms_and_tags_are_accepted() -> None:
    for ref in (b"registry.example.com/acme/exporter@sha512:" + b"b" * 128, b"registry.example.com/acme/exporter:1.4"):
        decl = parse_declaration(GOOD.replace(b"registry.example.com/acme/exporter@sha256:" + b"a" * 64, ref))
        assert decl.images[0].ref == ref.decode()
