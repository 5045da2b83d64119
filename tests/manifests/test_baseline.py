"""The baseline bundle and the example plugin pass; every finding names a file and a line."""

from __future__ import annotations

from pathlib import Path

from plugingate.capabilities import check_capabilities
from plugingate.declaration import load_declaration
from plugingate.manifests import check_manifests, load_manifests
from plugingate.policy import load_policy

from .conftest import Runner, good_objects

REPO = Path(__file__).resolve().parents[2]


def test_baseline_has_no_findings(run: Runner) -> None:
    assert run.all(good_objects()) == []


def test_example_plugin_passes_the_default_policy() -> None:
    root = REPO / "examples" / "acme-exporter"
    policy = load_policy(REPO / "policies" / "default.yaml")
    decl = load_declaration(root)
    manifests = load_manifests(root, decl)
    assert {o.kind for o in manifests.objects} >= {
        "Deployment",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "Service",
        "NetworkPolicy",
    }
    findings = check_capabilities(decl, policy.capabilities) + check_manifests(manifests, decl, policy.capabilities)
    assert [f for f in findings if f.denies] == []


def test_example_requirements_are_pinned() -> None:
    lines = (REPO / "examples" / "acme-exporter" / "app" / "requirements.txt").read_text().splitlines()
    pins = [line for line in lines if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)
