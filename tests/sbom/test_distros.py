"""Images of two distributions in one bundle: grype must match each one's OS packages against its own.

grype applies one distribution to a whole SBOM. The real syft and grype show that a merged SBOM with
an Alpine and a Debian image gets one distribution from a single grype run, and that the scan step
splits it into one run per image, so both distributions are used and nothing else is lost.
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
from plugingate.vulnerabilities import database_dir, scan_sbom
from plugingate.vulnerabilities.grype import distros, load_grype_json, parse_matches, run_grype
from plugingate.vulnerabilities.split import operating_systems, split_by_image

from .conftest import BUNDLES
from .imagefiles import ADVISORY, ALPINE, DEBIAN, FILES, write_docker_archive

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)


def _two_distro_bundle(tmp_path: Path) -> Path:
    root = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "vulnerable", root)
    write_docker_archive(root / "images" / "agent.tar", "acme/agent:1", files={**ALPINE, **FILES})
    write_docker_archive(root / "images" / "webhook.tar", "acme/webhook:1", files=DEBIAN)
    return root


def test_each_image_is_scanned_against_its_own_distribution(runner: ToolRunner, tmp_path: Path) -> None:
    sbom = generate_sbom(
        _two_distro_bundle(tmp_path), name="two-distros", version="1.0.0", out_dir=tmp_path / "out", runner=runner
    )
    assert len(sbom.images) == 2 and sbom.scan_input == sbom.cyclonedx_path
    merged = json.loads(sbom.cyclonedx_path.read_text())
    assert operating_systems(merged) == ["alpine 3.18.4", "debian 12"]

    # One grype run over the merged SBOM: one distribution for both images' OS packages.
    whole = tmp_path / "whole.grype.json"
    run_grype(runner, sbom.cyclonedx_path, whole, database_dir()).check("scanning whole")
    assert len(distros(load_grype_json(whole))) == 1

    # The scan step: one run per image, each with its own distribution; no match lost.
    result = scan_sbom(sbom.scan_input, VulnerabilityPolicy(), runner=runner, now=NOW, out_dir=tmp_path / "out")
    assert result.distros == ("alpine 3.18.4", "debian 12")
    ids = {m.match.id for m in result.matches}
    assert ADVISORY in ids  # urllib3 inside the Alpine image
    assert ids >= {m.id for m in parse_matches(load_grype_json(whole))}
    vulns = json.loads((tmp_path / "out" / "vulns.json").read_text())
    assert vulns["distros"] == ["alpine 3.18.4", "debian 12"]


def test_the_split_keeps_every_component_once(runner: ToolRunner, tmp_path: Path) -> None:
    sbom = generate_sbom(
        _two_distro_bundle(tmp_path), name="two-distros", version="1.0.0", out_dir=tmp_path / "out", runner=runner
    )
    merged = json.loads(sbom.cyclonedx_path.read_text())
    parts = split_by_image(merged)
    assert parts is not None
    assert [label for label, _ in parts] == ["bundle", "image images/agent.tar", "image images/webhook.tar"]
    assert [operating_systems(doc) for _, doc in parts] == [[], ["alpine 3.18.4"], ["debian 12"]]

    def refs(doc: dict[str, object]) -> list[object]:
        out: list[object] = []
        stack = list(doc.get("components") or [])  # type: ignore[call-overload]
        while stack:
            c = stack.pop()
            if c.get("type") != "container":
                out.append(c.get("bom-ref"))
            stack.extend(c.get("components") or [])
        return out

    assert sorted(map(str, refs(merged))) == sorted(str(r) for _, doc in parts for r in refs(doc))
    # One operating system: scanned whole, as before.
    one = {**merged, "components": [c for c in merged["components"] if "webhook" not in str(c.get("name"))]}
    assert split_by_image(one) is None
