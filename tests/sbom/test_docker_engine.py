"""An image named in spec.images, built in the test FROM scratch, saved from a real Docker engine and scanned."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugingate.policy.model import VulnerabilityPolicy
from plugingate.sbom import Image, generate_sbom
from plugingate.tools import ToolRunner
from plugingate.vulnerabilities import scan_sbom

from .conftest import BUNDLES
from .imagefiles import ADVISORY, write_tree

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine() -> Iterator[str]:
    """``DOCKER_HOST`` of a private dockerd this test started."""
    from support.dockerd import start_dockerd

    started = start_dockerd()
    try:
        yield started.host
    finally:
        started.stop()


def test_an_image_from_the_engine_is_saved_and_scanned(
    engine: str, scanners: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docker

    client = docker.DockerClient(base_url=engine, timeout=60)
    image, _ = client.images.build(path=str(write_tree(tmp_path / "ctx")), tag="plugingate-test/vulnimg:1", rm=True)
    client.close()
    # NOTE: pinned by digest as spec.images requires; a locally built image's digest is its id.
    ref = f"registry.example.com/acme/vulnimg@{image.id}"
    monkeypatch.setenv("DOCKER_HOST", engine)
    runner = ToolRunner(env={**os.environ, **scanners})

    result = generate_sbom(
        BUNDLES / "vulnerable",
        name="vuln-demo",
        version="0.3.0",
        out_dir=tmp_path / "out",
        images=[Image("exporter", ref)],
        runner=runner,
    )
    assert result.skipped_images == ()
    assert [(i.name, i.ref, i.origin) for i in result.images] == [("exporter", ref, "docker engine")]
    cdx = json.loads(result.cyclonedx_path.read_text())
    container = next(c for c in cdx["components"] if c["type"] == "container")
    assert "pkg:pypi/urllib3@1.26.4" in {c.get("purl") for c in container["components"]}

    scan = scan_sbom(
        result.cyclonedx_path, VulnerabilityPolicy(), runner=runner, now=datetime.now(UTC), out_dir=tmp_path / "out"
    )
    [found] = [m for m in scan.matches if m.match.id == ADVISORY]
    assert found.match.package_name == "urllib3" and found.match.fix_versions == ("1.26.5",)
    assert scan.denied

    # The same reference pinned to another digest is not accepted from the engine.
    wrong = "registry.example.com/acme/vulnimg@sha256:" + "0" * 64
    other = generate_sbom(
        BUNDLES / "vulnerable",
        name="vuln-demo",
        version="0.3.0",
        out_dir=tmp_path / "out2",
        images=[Image("exporter", wrong)],
        runner=runner,
    )
    assert [s.ref for s in other.skipped_images] == [wrong]
    assert "no such image (not pulled)" in other.skipped_images[0].reason
