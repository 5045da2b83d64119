"""examples/acme-exporter-kustomize and examples/acme-operator pass the quick-start policy end to end.

The default policy's EXAMPLE signer vouches for examples/acme-exporter.tgz alone (its key was
destroyed), so each example is packed and signed here with a key made for the test, and gated with
the default policy's test-database twin whose EXAMPLE signer is that key; nothing else differs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from plugingate.capabilities import check_capabilities
from plugingate.declaration import load_declaration
from plugingate.manifests import check_manifests, load_manifests
from plugingate.manifests.kubedecode import HelperReader
from plugingate.policy import load_policy
from tests.conftest import REPO, run_cli
from tests.packaging.conftest import kustomize_or_skip

POLICY = REPO / "testdata" / "policies" / "default-test-db.yaml"
EXAMPLES = [REPO / "examples" / "acme-exporter-kustomize", REPO / "examples" / "acme-operator"]


@pytest.mark.integration
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_renders_and_passes_the_checks(example: Path) -> None:
    kustomize_or_skip()
    declaration = load_declaration(example)
    policy = load_policy(POLICY)
    manifests = load_manifests(example, declaration, second_reading=HelperReader())
    assert len(manifests.objects) == 7
    findings = check_capabilities(declaration, policy.capabilities)
    findings += check_manifests(manifests, declaration, policy.capabilities)
    assert [f for f in findings if f.denies] == []


@pytest.mark.integration
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_passes_the_quick_start_policy_through_the_cli(example: Path, tmp_path: Path) -> None:
    kustomize_or_skip()
    archive = tmp_path / f"{example.name}.tgz"
    for args in (
        ("pack", example, "-o", archive),
        ("keygen", "--output-prefix", tmp_path / "publisher"),
        ("sign", archive, "--key", tmp_path / "publisher.key"),
    ):
        done = run_cli(*args, env={"PLUGINGATE_PASSWORD": ""})
        assert done.code == 0, done.stderr
    policy = yaml.safe_load(POLICY.read_text())
    signers = policy["spec"]["signature"]["trustedSigners"]
    signers[0]["key"] = {"pem": (tmp_path / "publisher.pub").read_text()}
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(policy, sort_keys=False))
    out = tmp_path / "out"
    done = run_cli("gate", archive, "--policy", policy_file, "--out", out, "--format", "json")
    assert done.code == 0, done.stderr + done.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "passed"
    manifests = next(s for s in report["steps"] if s["step"] == "manifests")
    assert "7 Kubernetes object(s)" in manifests["summary"]
    expected_tool = "kustomize" if "kustomize" in example.name else "olmvalidate"
    assert expected_tool in report["tools"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_image_is_the_exporters_image(example: Path) -> None:
    original = REPO / "examples" / "acme-exporter" / "image" / "exporter.oci.tar"
    assert (example / "image" / "exporter.oci.tar").read_bytes() == original.read_bytes()
