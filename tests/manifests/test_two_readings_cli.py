"""Attacks on the gate's reading of YAML, through the real CLI: each bundle must be refused.

Each bundle is the example plugin whose harmless ConfigMap is replaced by a file that the Python
reading alone sees as that ConfigMap (or as a harmless object) while kubectl applies a privileged
pod with the host's PID and network namespaces and ``/`` mounted. Before the second reading, the
gate passed such bundles. Now the objects are checked only where both readings agree, so each is
refused: exit 2 naming the file and what each reading saw, or exit 1 when both readings see the pod
(the ``items`` list, which the Python reading now unrolls the kubectl way).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from plugingate.declaration import load_declaration
from plugingate.manifests import load_manifests
from tests.conftest import REPO, run_cli
from tests.manifests.kube import require_helper

pytestmark = pytest.mark.integration

EXAMPLE = REPO / "examples" / "acme-exporter"
POLICY = REPO / "testdata" / "policies" / "cases.yaml"
IMAGE = "registry.example.com/acme/exporter@sha256:401f7f357acbd9443618aaae4d976373d16659237926568dd2b9f18fdd3e08d3"

PRIVILEGED_SPEC = (
    "{hostPID: true, hostNetwork: true, containers: [{name: x, image: '" + IMAGE + "', "
    "securityContext: {privileged: true}, volumeMounts: [{name: root, mountPath: /host}]}], "
    "volumes: [{name: root, hostPath: {path: /}}]}"
)
HARMLESS = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: acme-exporter-config}\ndata: {a: b}\n"
POD = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: pwn}}\nspec: {PRIVILEGED_SPEC}\n"


def _bundle(tmp_path: Path, text: bytes, name: str = "configmap.yaml") -> Path:
    root = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("image", "app"))
    plugin = (root / "plugin.yaml").read_text()
    (root / "plugin.yaml").write_text(plugin.replace("      archive: image/exporter.oci.tar\n", ""))
    (root / "deploy" / "configmap.yaml").unlink()
    (root / "deploy" / name).write_bytes(text)
    return root


def _gate(bundle: Path, tmp_path: Path) -> tuple[int, str, str]:
    done = run_cli("gate", bundle, "--policy", POLICY, "--out", tmp_path / "out", "--format", "json", timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done.code, done.stdout, done.stderr


def test_the_plain_example_passes_with_both_readings(tmp_path: Path) -> None:
    require_helper()
    code, out, err = _gate(_bundle(tmp_path, HARMLESS.encode()), tmp_path)
    assert code == 0, err + out


def test_a_merge_key_after_kind_makes_the_configmap_a_privileged_pod(tmp_path: Path) -> None:
    """yaml.v2 lets a later ``<<`` override earlier keys; PyYAML keeps the mapping's own keys."""
    require_helper()
    text = f"{HARMLESS}<<: {{kind: Pod, spec: {PRIVILEGED_SPEC}}}\n".encode()
    bundle = _bundle(tmp_path, text)
    alone = load_manifests(bundle, load_declaration(bundle))
    assert [o.kind for o in alone.objects if o.path == "deploy/configmap.yaml"] == ["ConfigMap"]
    code, _, err = _gate(bundle, tmp_path)
    assert code == 2, err
    assert "deploy/configmap.yaml:2: kind:" in err
    assert "the gate read string 'ConfigMap' but kubectl reads string 'Pod'" in err
    assert "ambiguous" in err


def test_yaml_1_1_booleans_are_host_namespaces_for_kubectl(tmp_path: Path) -> None:
    require_helper()
    text = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: pwn}}\nspec: {PRIVILEGED_SPEC}\n"
    text = text.replace("hostPID: true, hostNetwork: true", "hostPID: y, hostNetwork: Y")
    code, _, err = _gate(_bundle(tmp_path, text.encode()), tmp_path)
    assert code == 2, err
    assert "spec.hostNetwork: document 1, object 1 (Pod/pwn)" in err
    assert "the gate read string 'Y' but kubectl reads boolean True" in err


def test_an_items_list_of_any_kind_is_checked_as_the_pods_kubectl_applies(tmp_path: Path) -> None:
    require_helper()
    item = POD.replace("\n", "\n  ").strip()
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: acme-exporter-config}}\nitems:\n- {item}\n"
    bundle = _bundle(tmp_path, text.encode())
    code, out, err = _gate(bundle, tmp_path)
    assert code == 1, err + out
    findings = [f for s in json.loads(out)["steps"] for f in s["findings"] if f["severity"] == "error"]
    on_pod = {f["ruleId"] for f in findings if "Pod/pwn" in f["message"]}
    assert {"PG-MAN-010", "PG-MAN-011", "PG-MAN-012"} <= on_pod, findings


def test_an_item_without_a_type_takes_the_lists_type(tmp_path: Path) -> None:
    require_helper()
    text = f"apiVersion: v1\nkind: PodList\nitems:\n- metadata: {{name: pwn}}\n  spec: {PRIVILEGED_SPEC}\n"
    code, out, err = _gate(_bundle(tmp_path, text.encode()), tmp_path)
    assert code == 1, err + out
    findings = [f for s in json.loads(out)["steps"] for f in s["findings"] if f["severity"] == "error"]
    assert any(f["ruleId"] == "PG-MAN-011" and "Pod/pwn" in f["message"] for f in findings), findings


SEPARATORS = {
    # kubectl refuses a separator followed by anything but a comment; PyYAML reads a tagged document
    "tag-after-separator": f"{HARMLESS}--- !!map\n{POD}",
    # PyYAML splits on a lone CR, kubectl's document reader only on LF (then yaml.v2 reads one document)
    "carriage-returns": f"{HARMLESS}---\n{POD}".replace("\n", "\r"),
    # NEL is a line break for YAML, not for kubectl's document reader
    "next-line": f"{HARMLESS}\u0085---\u0085{POD}",
    # kubectl reads a stream of JSON objects; PyYAML does not
    "json-stream": '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}\n'
    '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pwn"},"spec":{"hostPID":true}}\n',
    # a non-breaking space after --- is a separator for kubectl, text for PyYAML
    "nbsp-separator": f"{HARMLESS}---\u00a0\n{POD}",
    # the document end marker: yaml.v2 stops at it, PyYAML reads on
    "document-end": f"{HARMLESS}...\n---\n{POD}".replace("---\n", "--- \n"),
}


@pytest.mark.parametrize("name", sorted(SEPARATORS))
def test_document_separator_variants_are_refused(tmp_path: Path, name: str) -> None:
    require_helper()
    code, out, err = _gate(_bundle(tmp_path, SEPARATORS[name].encode()), tmp_path)
    assert code in (1, 2), err + out
    if code == 2:
        assert "deploy/configmap.yaml" in err
    else:
        findings = [f for s in json.loads(out)["steps"] for f in s["findings"] if f["severity"] == "error"]
        assert any(f["ruleId"] == "PG-MAN-011" for f in findings), findings


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        (f"{HARMLESS}<<: {{kind: Pod, spec: {PRIVILEGED_SPEC}}}\n", "kind", "Pod"),
        (POD.replace("hostPID: true, hostNetwork: true", "hostPID: y, hostNetwork: Y"), "hostNetwork", True),
    ],
    ids=["merge-key", "yaml-1.1-boolean"],
)
def test_the_real_kubectl_sends_the_privileged_pod(tmp_path: Path, text: str, field: str, value: object) -> None:
    """The attacks above are real: kubectl itself sends what the helper said, not what PyYAML read."""
    from tests.manifests.kubectl import fake_api_server, kubectl_binary, kubectl_create

    kubectl = kubectl_binary()
    path = tmp_path / "attack.yaml"
    path.write_text(text)
    with fake_api_server([("v1", "Pod"), ("v1", "ConfigMap")], tmp_path) as config:
        sent = kubectl_create(kubectl, config, path, tmp_path)
    assert not sent.failed, sent.stderr
    [obj] = sent.objects
    assert obj["kind"] == "Pod" and obj["spec"]["volumes"][0]["hostPath"]["path"] == "/"
    assert (obj if field == "kind" else obj["spec"])[field] == value
