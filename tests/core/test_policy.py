"""Gate policies: the packaged default, the schema, the safe defaults, and lint."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from plugingate.errors import InputError
from plugingate.findings import Severity
from plugingate.policy import Mode, VulnSeverity, load_policy, parse_policy
from plugingate.policy.lint import lint_policy
from plugingate.policy.model import GatePolicy

HEAD = b"apiVersion: plugingate.dev/v1\nkind: GatePolicy\nmetadata: {name: p}\n"


def parse(raw: bytes, tmp_path: Path | None = None) -> object:
    return parse_policy(HEAD + raw, source="policy.yaml", base_dir=tmp_path or Path("."))


def test_default_policy_is_safe_and_clean(repo_dir: Path) -> None:
    policy = load_policy(repo_dir / "policies" / "default.yaml")
    packaged = load_policy(None)
    assert (packaged.name, packaged.sha256) == (policy.name, policy.sha256)
    assert policy.mode is Mode.ENFORCE and policy.signature.required and policy.signature.trusted_signers
    caps = policy.capabilities
    assert not caps.privileges.allow_privileged and not caps.kubernetes.allow_wildcards
    assert not caps.network.allow_metadata_addresses and caps.images.require_digest
    assert policy.vulnerabilities.fail_on is VulnSeverity.HIGH
    assert not policy.vulnerabilities.allow_test_database and policy.vulnerabilities.min_advisories >= 1000
    assert [i for i in lint_policy(policy) if i.severity is Severity.ERROR] == []


def test_the_test_database_variant_of_the_default_policy_differs_only_there(repo_dir: Path) -> None:
    """Tests that gate with the test database use a copy of the default policy: it must not drift."""
    shipped = yaml.safe_load((repo_dir / "policies" / "default.yaml").read_text())
    variant = yaml.safe_load((repo_dir / "testdata" / "policies" / "default-test-db.yaml").read_text())
    test_db, shipped_db = variant["spec"]["vulnerabilities"]["database"], shipped["spec"]["vulnerabilities"]["database"]
    assert (test_db.pop("allowTestDatabase"), test_db.pop("minAdvisories")) == (True, 0)
    assert (shipped_db.pop("allowTestDatabase"), shipped_db.pop("minAdvisories")) == (False, 1000)
    assert variant == shipped


def test_database_requirements_are_read_and_max_age_is_said_once(tmp_path: Path) -> None:
    policy = parse(
        b"spec:\n  vulnerabilities:\n    database:\n      maxAge: 24h\n      requireProviders: [go-vulndb]\n"
        b"      minAdvisories: 10\n      allowTestDatabase: true\n"
    )
    assert isinstance(policy, GatePolicy)
    v = policy.vulnerabilities
    assert v.max_database_age == timedelta(hours=24) and v.require_providers == ("go-vulndb",)
    assert v.min_advisories == 10 and v.allow_test_database
    with pytest.raises(InputError) as err:
        parse(b"spec:\n  vulnerabilities:\n    maxDatabaseAge: 1h\n    database:\n      maxAge: 2h\n")
    assert err.value.line == 8 and "database.maxAge" in err.value.message


def test_empty_spec_takes_safe_defaults() -> None:
    policy = parse_policy(HEAD, source="p.yaml", base_dir=Path("."))
    assert policy.signature.required and policy.capabilities.resources.require_limits
    assert policy.vulnerabilities.max_database_age == timedelta(hours=120)
    assert policy.bundle.max_files == 20_000


def test_unknown_key_and_bad_values_name_line_and_field(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_policy(HEAD + b"spec:\n  mode: enforce\n  capabilites: {}\n", source="p.yaml", base_dir=tmp_path)
    assert "p.yaml:6: spec: unknown key(s) 'capabilites'" in info.value.message
    with pytest.raises(InputError) as info:
        parse_policy(
            HEAD + b"spec:\n  vulnerabilities:\n    maxDatabaseAge: 5 days\n", source="p.yaml", base_dir=tmp_path
        )
    assert "maxDatabaseAge" in info.value.message


def test_exception_fields_are_all_required() -> None:
    with pytest.raises(InputError) as info:
        parse_policy(
            HEAD + b"spec:\n  vulnerabilities:\n    exceptions:\n      - {id: CVE-2024-1234, package: pkg:pypi/x}\n",
            source="p.yaml",
            base_dir=Path("."),
        )
    assert "'expires' is a required property" in info.value.message
    assert "'reason' is a required property" in info.value.message


def test_key_paths_resolve_against_the_policy_folder(tmp_path: Path) -> None:
    from plugingate.keys import fingerprint, generate_key_pair, public_key_from_pem

    (tmp_path / "keys").mkdir()
    pem = generate_key_pair(b"").public_pem
    (tmp_path / "keys" / "a.pub").write_bytes(pem)
    file = tmp_path / "p.yaml"
    file.write_bytes(HEAD + b"spec:\n  signature:\n    trustedSigners:\n      - {name: a, key: {path: keys/a.pub}}\n")
    policy = load_policy(file)
    key = policy.signature.trusted_signers[0].key
    assert key is not None and key.source == "keys/a.pub"
    assert fingerprint(key.key) == fingerprint(public_key_from_pem(pem).key)
    file.write_bytes(HEAD + b"spec:\n  signature:\n    trustedSigners:\n      - {name: a, key: {path: nope.pub}}\n")
    with pytest.raises(InputError, match="cannot read the public key"):
        load_policy(file)


def test_a_trusted_key_that_is_no_key_is_the_policys_error_with_its_place(tmp_path: Path) -> None:
    (tmp_path / "a.pub").write_text("-----BEGIN PUBLIC KEY-----\nX\n-----END PUBLIC KEY-----\n")
    file = tmp_path / "p.yaml"
    file.write_bytes(HEAD + b"spec:\n  signature:\n    trustedSigners:\n      - {name: a, key: {path: a.pub}}\n")
    with pytest.raises(InputError) as caught:
        load_policy(file)
    assert caught.value.path == str(file) and caught.value.field == "spec.signature.trustedSigners[0].key.path"
    assert "not a PEM public key" in caught.value.message
    inline = HEAD + b"spec:\n  signature:\n    trustedSigners:\n      - {name: a, key: {pem: nonsense}}\n"
    file.write_bytes(inline)
    with pytest.raises(InputError, match=r"trustedSigners\[0\]\.key\.pem"):
        load_policy(file)


def test_the_policy_and_the_verifiers_share_one_trusted_signer_type(tmp_path: Path) -> None:
    from plugingate.policy import model
    from plugingate.signature import identity

    assert model.TrustedSigner is identity.TrustedSigner
    assert not hasattr(model, "KeySigner") and not hasattr(model, "KeylessSigner")


def test_lint_finds_unwise_but_valid_policies() -> None:
    raw = (
        HEAD
        + b"""spec:
  mode: warn
  signature: {required: true, trustedSigners: []}
  capabilities:
    network: {egressAllow: ["*"], allowedAddresses: [0.0.0.0/0]}
  vulnerabilities:
    exceptions:
      - {id: CVE-2020-1111, package: pkg:pypi/a, expires: 2020-01-01, reason: "upstream says unreachable"}
      - {id: CVE-2020-2222, package: pkg:pypi/b, expires: 2099-01-01, reason: "upstream says unreachable"}
"""
    )
    policy = parse_policy(raw, source="p.yaml", base_dir=Path("."))
    codes = {i.code: i for i in lint_policy(policy, today=date(2026, 11, 29))}
    assert codes["PL001"].severity is Severity.ERROR
    assert {"PL010", "PL012", "PL040", "PL041", "PL060"} <= set(codes)
    assert codes["PL040"].location.line == 11


def test_policy_lint_cli(repo_dir: Path, cli: object, tmp_path: Path) -> None:
    run = cli  # type: ignore[assignment]
    ok = run("policy", "lint", repo_dir / "policies" / "default.yaml")
    assert ok.code == 0, ok.stderr
    assert "ok: policy 'default'" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(HEAD + b"spec:\n  signature: {required: true, trustedSigners: []}\n")
    res = run("policy", "lint", bad)
    assert res.code == 1 and "PL001" in res.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_bytes(HEAD + b"spec: {mode: yolo}\n")
    res = run("policy", "lint", broken)
    assert res.code == 2 and "broken.yaml:4" in res.stderr and "spec.mode" in res.stderr


def test_every_capability_key_of_the_schema_reaches_the_model() -> None:
    import dataclasses
    import json

    from plugingate.policy import loader, model

    schema = json.loads((Path(loader.__file__).parents[1] / "schemas" / "policy.schema.json").read_text())
    caps = schema["properties"]["spec"]["properties"]["capabilities"]["properties"]
    sections = {
        "network": model.NetworkPolicy,
        "filesystem": model.FilesystemPolicy,
        "secrets": model.SecretsPolicy,
        "kubernetes": model.KubernetesPolicy,
        "privileges": model.PrivilegesPolicy,
        "images": model.ImagesPolicy,
    }
    for name, cls in sections.items():
        fields = {loader._yaml_key(f.name) for f in dataclasses.fields(cls)}
        assert set(caps[name]["properties"]) == fields, name


def test_capability_sections_take_given_values_and_keep_defaults() -> None:
    policy = parse_policy(
        HEAD
        + b"spec:\n  capabilities:\n    privileges: {allowHostPID: true, allowedCapabilities: [NET_ADMIN]}\n"
        + b"    network: {egressPorts: [443, 8443]}\n",
        source="p.yaml",
        base_dir=Path("."),
    )
    priv = policy.capabilities.privileges
    assert priv.allow_host_pid and not priv.allow_host_ipc and priv.allowed_capabilities == ("NET_ADMIN",)
    assert policy.capabilities.network.egress_ports == (443, 8443)
    assert not policy.capabilities.network.allow_private_addresses
    assert policy.capabilities.kubernetes.forbidden_verbs == ("escalate", "bind", "impersonate")
