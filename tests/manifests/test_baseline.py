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


def test_example_image_archive_is_reproducible_and_pinned(tmp_path: Path) -> None:
    """The shipped OCI archive is what the build script makes, and plugin.yaml pins its manifest digest."""
    import runpy

    example = REPO / "examples" / "acme-exporter"
    # NOTE: run_path compiles without writing __pycache__ into the example (it would change the bundle).
    script = runpy.run_path(str(example / "app" / "build_image_archive.py"), run_name="build_image_archive")
    digest = script["build"](tmp_path / "exporter.oci.tar")
    assert (tmp_path / "exporter.oci.tar").read_bytes() == (example / "image" / "exporter.oci.tar").read_bytes()
    decl = load_declaration(example)
    assert [i.digest for i in decl.images] == [digest]
    assert decl.images[0].archive == "image/exporter.oci.tar"
