"""An image named in spec.images, built in the test FROM scratch, saved from a real Docker engine and scanned."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugingate.policy.model import VulnerabilityPolicy
from plugingate.sbom import Image, SbomResult, generate_sbom
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


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``127.0.0.1:PORT`` of a real registry (Debian's docker-registry) the engine pushes to."""
    from support.registry import start_registry

    started = start_registry(tmp_path_factory.mktemp("registry"))
    try:
        yield started.host
    finally:
        started.stop()


def test_an_image_from_the_engine_is_saved_and_scanned(
    engine: str, registry: str, scanners: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docker

    client = docker.DockerClient(base_url=engine, timeout=60)
    repository = f"{registry}/acme/vulnimg"
    image, _ = client.images.build(path=str(write_tree(tmp_path / "ctx")), tag=f"{repository}:1", rm=True)
    # NOTE: pushing gives the engine's image a repository digest, the registry manifest's digest:
    # the only digest of an engine image that proves what a reference pins.
    client.images.push(repository, tag="1")
    image.reload()
    [repo_digest] = image.attrs["RepoDigests"]
    client.close()
    ref = repo_digest
    monkeypatch.setenv("DOCKER_HOST", engine)
    runner = ToolRunner(env={**os.environ, **scanners})

    def sbom(ref: str, out: str) -> SbomResult:
        return generate_sbom(
            BUNDLES / "vulnerable",
            name="vuln-demo",
            version="0.3.0",
            out_dir=tmp_path / out,
            images=[Image("exporter", ref)],
            runner=runner,
        )

    result = sbom(ref, "out")
    assert result.skipped_images == () and result.unproven_images == ()
    assert [(i.name, i.ref, i.origin) for i in result.images] == [("exporter", ref, "docker engine")]
    assert result.proven_digests == {ref: ref.rpartition("@")[2]}
    cdx = json.loads(result.cyclonedx_path.read_text())
    container = next(c for c in cdx["components"] if c["type"] == "container")
    assert "pkg:pypi/urllib3@1.26.4" in {c.get("purl") for c in container["components"]}

    scan = scan_sbom(
        result.cyclonedx_path,
        VulnerabilityPolicy(allow_test_database=True),
        runner=runner,
        now=datetime.now(UTC),
        out_dir=tmp_path / "out",
    )
    [found] = [m for m in scan.matches if m.match.id == ADVISORY]
    assert found.match.package_name == "urllib3" and found.match.fix_versions == ("1.26.5",)
    assert scan.denied

    # Pinned by the image id (the config's digest, which a local build takes on): the engine has the
    # image, but no repository digest proves it. Denied, not scanned, never attested.
    by_id = f"{repository}@{image.id}"
    unproven = sbom(by_id, "out-id")
    assert unproven.images == () and unproven.proven_digests == {}
    [bad] = unproven.unproven_images
    assert bad.digest == image.id and "repository digests" in bad.reason
    assert [f.rule_id for f in unproven.findings if f.rule_id == "PG-SBOM-004"] == ["PG-SBOM-004"]

    # The right digest under another repository: the engine's record is of another name, not proven.
    elsewhere = "registry.example.com/acme/vulnimg@" + ref.rpartition("@")[2]
    other_repo = sbom(elsewhere, "out-repo")
    assert other_repo.images == () and other_repo.proven_digests == {}
    assert [i.ref for i in (*other_repo.skipped_images, *other_repo.unproven_images)] == [elsewhere]

    # The same reference pinned to another digest is not accepted from the engine.
    wrong = f"{repository}@sha256:" + "0" * 64
    other = sbom(wrong, "out2")
    assert [s.ref for s in other.skipped_images] == [wrong]
    assert "no such image (not pulled)" in other.skipped_images[0].reason
