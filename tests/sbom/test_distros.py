"""Images of two distributions in one bundle, scanned as one merged SBOM.

grype reports one distribution per run, which raised the question whether a merged SBOM holding an
Alpine and a Debian image matches one image's OS packages against the other's advisories. It does
not: syft writes each OS package's distribution into its purl (``?distro=debian-12``) and grype
matches each package against its own. This pins that down with the real tools and the project's
database (one Alpine and one Debian advisory under testdata/vulndb), so a tool upgrade that broke it
would fail here rather than silently miss OS advisories.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugingate.policy.model import VulnerabilityPolicy
from plugingate.sbom import generate_sbom
from plugingate.tools import ToolRunner
from plugingate.vulnerabilities import scan_sbom

from .conftest import BUNDLES
from .imagefiles import ADVISORY, ALPINE, DEBIAN, FILES, OS_ADVISORIES, write_docker_archive

pytestmark = pytest.mark.integration


def test_each_image_is_matched_against_its_own_distribution(runner: ToolRunner, tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "vulnerable", root)
    write_docker_archive(root / "images" / "agent.tar", "acme/agent:1", files={**ALPINE, **FILES})
    write_docker_archive(root / "images" / "webhook.tar", "acme/webhook:1", files=DEBIAN)
    sbom = generate_sbom(root, name="two-distros", version="1.0.0", out_dir=tmp_path / "out", runner=runner)
    assert len(sbom.images) == 2 and sbom.scan_input == sbom.cyclonedx_path
    purls = {
        c.get("purl", "")
        for image in json.loads(sbom.cyclonedx_path.read_text())["components"]
        if image.get("type") == "container"
        for c in image["components"]
    }
    assert any(p.startswith("pkg:apk/alpine/busybox@1.36.1-r2?") and "distro=alpine-3.18.4" in p for p in purls)
    assert any(p.startswith("pkg:deb/debian/bash@5.2.15-2%2Bb2?") and "distro=debian-12" in p for p in purls)

    result = scan_sbom(
        sbom.scan_input,
        VulnerabilityPolicy(allow_test_database=True),
        runner=runner,
        now=datetime.now(UTC),
        out_dir=tmp_path / "out",
    )
    found = {m.match.id: m.match for m in result.matches}
    assert found.keys() >= {*OS_ADVISORIES, ADVISORY}
    assert (found["CVE-2026-91001"].package_name, found["CVE-2026-91001"].namespace) == (
        "busybox",
        "alpine:distro:alpine:3.18",
    )
    assert (found["CVE-2026-91002"].package_name, found["CVE-2026-91002"].namespace) == (
        "bash",
        "debian:distro:debian:12",
    )
