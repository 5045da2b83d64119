"""The real syft on bundles that ship images: archives inside the bundle, and images it cannot get."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugingate.findings import Severity
from plugingate.policy.model import VulnerabilityPolicy
from plugingate.sbom import Image, OnSkippedImage, generate_sbom
from plugingate.tools import ToolRunner
from plugingate.vulnerabilities import scan_sbom
from tests.conftest import SCHEMAS

from .conftest import BUNDLES
from .imagefiles import ADVISORY, ALPINE, layout_members, oci_image, write_dir, write_docker_archive, write_tar

pytestmark = pytest.mark.integration


def _bundle_with_image(tmp_path: Path) -> tuple[Path, str]:
    """The vulnerable bundle with its image as Docker 25+'s ``docker save`` writes it (OCI layout + manifest.json)."""
    root = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "vulnerable", root)
    image = oci_image()
    write_tar(root / "images" / "exporter.tar", layout_members(image, docker=True))
    return root, image.digest


def test_an_image_archive_in_the_bundle_is_scanned(runner: ToolRunner, tmp_path: Path) -> None:
    root, image_id = _bundle_with_image(tmp_path)
    ref = f"registry.example.com/acme/exporter@{image_id}"
    result = generate_sbom(
        root,
        name="vuln-demo",
        version="0.3.0",
        out_dir=tmp_path / "out",
        images=[Image("exporter", ref)],
        runner=runner,
    )
    assert [(i.name, i.ref, i.origin, i.packages, i.digest) for i in result.images] == [
        ("exporter", ref, "bundle:images/exporter.tar", 1, image_id)
    ]
    assert result.proven_digests == {ref: image_id} and result.unproven_images == ()
    assert result.proof_bytes > 0
    assert result.skipped_images == ()
    assert [f.rule_id for f in result.findings] == ["PG-SBOM-002"]
    cdx = json.loads(result.cyclonedx_path.read_text())
    container = next(c for c in cdx["components"] if c["type"] == "container")
    assert container["name"] == "exporter" and container["version"] == image_id
    assert [c["purl"] for c in container["components"] if c["type"] == "library"] == ["pkg:pypi/urllib3@1.26.4"]
    spdx = json.loads(result.spdx_path.read_text())
    assert "urllib3" in {p["name"] for p in spdx["packages"]}

    scan = scan_sbom(
        result.cyclonedx_path,
        VulnerabilityPolicy(allow_test_database=True),
        runner=runner,
        now=datetime.now(UTC),
        out_dir=tmp_path / "out",
    )
    urllib3 = [m for m in scan.matches if m.match.id == ADVISORY]
    assert len(urllib3) == 1
    assert urllib3[0].match.package_version == "1.26.4" and urllib3[0].match.fix_versions == ("1.26.5",)
    assert urllib3[0].match.severity == "high"


@pytest.mark.parametrize(
    ("policy", "severity"), [(OnSkippedImage.DENY, Severity.ERROR), (OnSkippedImage.WARN, Severity.WARNING)]
)
def test_an_image_that_cannot_be_had_is_reported_and_the_policy_decides(
    runner: ToolRunner, tmp_path: Path, policy: OnSkippedImage, severity: Severity
) -> None:
    ref = "registry.example.com/acme/missing@sha256:" + "f" * 64
    result = generate_sbom(
        BUNDLES / "vulnerable",
        name="vuln-demo",
        version="0.3.0",
        out_dir=tmp_path,
        images=[Image("missing", ref)],
        runner=runner,
        on_skipped_image=policy,
        use_docker=False,
    )
    assert [(s.name, s.ref) for s in result.skipped_images] == [("missing", ref)]
    [finding] = [f for f in result.findings if f.rule_id == "PG-SBOM-001"]
    assert finding.severity is severity and ref in finding.message and "was not scanned" in finding.message


def test_cli_sbom_writes_both_files_and_exits_by_policy(scanners: dict[str, str], tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, **scanners, "PLUGINGATE_CACHE": str(tmp_path / "cache")}
    cmd = [
        sys.executable,
        "-m",
        "plugingate",
        "sbom",
        str(BUNDLES / "vulnerable"),
        "--out",
        str(tmp_path / "o"),
        "--format",
        "json",
    ]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    assert doc["cached"] is False and doc["packages"] >= 10 and doc["syftVersion"] == "1.57.1"
    assert (tmp_path / "o" / "sbom.cdx.json").is_file() and (tmp_path / "o" / "sbom.spdx.json").is_file()
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert json.loads(again.stdout)["cached"] is True


def test_an_image_whose_archive_is_not_an_image_is_skipped_not_looked_up(runner: ToolRunner, tmp_path: Path) -> None:
    from plugingate.cache import ResultCache
    from plugingate.declaration.model import ImageRef

    root = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "vulnerable", root)
    (root / "images").mkdir()
    (root / "images" / "fake.tar").write_bytes(b"not an image")
    image = ImageRef("exporter", "registry.example.com/acme/exporter@sha256:" + "a" * 64, archive="images/fake.tar")
    cache = ResultCache(tmp_path / "cache")
    for _ in range(2):
        result = generate_sbom(
            root,
            name="vuln-demo",
            version="0.3.0",
            out_dir=tmp_path / "out",
            images=[image],
            runner=runner,
            bundle_digest="sha256:" + "9" * 64,
            cache=cache,
        )
        assert [s.reason for s in result.skipped_images] == [
            "the archive 'images/fake.tar' it names is not a docker-archive or oci-archive (.tar) or an OCI layout "
            "folder in the bundle"
        ]
    assert result.cached


def test_the_merged_cyclonedx_is_valid_against_the_shared_schema(runner: ToolRunner, tmp_path: Path) -> None:
    import jsonschema
    from referencing import Registry, Resource

    root, image_id = _bundle_with_image(tmp_path)
    result = generate_sbom(
        root,
        name="vuln-demo",
        version="0.3.0",
        out_dir=tmp_path / "out",
        images=[Image("exporter", f"registry.example.com/acme/exporter@{image_id}")],
        runner=runner,
    )
    schemas = SCHEMAS / "cyclonedx"
    resources = []
    for path in schemas.glob("*.json"):
        doc = json.loads(path.read_text())
        resources += [(doc["$id"], Resource.from_contents(doc)), (path.name, Resource.from_contents(doc))]
    schema = json.loads((schemas / "bom-1.6.schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema, registry=Registry().with_resources(resources))
    sbom = json.loads(result.cyclonedx_path.read_text())
    assert any(c["type"] == "container" for c in sbom["components"])
    assert [e.message for e in validator.iter_errors(sbom)] == []


def test_a_docker_save_archive_without_proof_is_not_scanned_and_denies(runner: ToolRunner, tmp_path: Path) -> None:
    """Docker < 25's docker save: the image id (config digest) it names is no registry digest."""
    root = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "vulnerable", root)
    image_id = write_docker_archive(root / "images" / "exporter.tar")
    ref = f"registry.example.com/acme/exporter@{image_id}"
    result = generate_sbom(
        root,
        name="vuln-demo",
        version="0.3.0",
        out_dir=tmp_path / "out",
        images=[Image("exporter", ref)],
        runner=runner,
        on_skipped_image=OnSkippedImage.WARN,
        use_docker=False,
    )
    assert result.images == () and result.proven_digests == {}
    [unproven] = result.unproven_images
    assert (unproven.ref, unproven.digest) == (ref, image_id) and "no registry digest" in unproven.reason
    [finding] = [f for f in result.findings if f.rule_id == "PG-SBOM-004"]
    assert finding.severity is Severity.ERROR and image_id in finding.message
    cdx = json.loads(result.cyclonedx_path.read_text())
    assert not [c for c in cdx.get("components", []) if c.get("type") == "container"]


def test_an_oci_layout_folder_named_by_archive_is_proven_and_scanned(runner: ToolRunner, tmp_path: Path) -> None:
    from plugingate.declaration.model import ImageRef

    root = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "vulnerable", root)
    image = oci_image()
    write_dir(root / "images" / "exporter", layout_members(image))
    ref = f"registry.example.com/acme/exporter@{image.digest}"
    result = generate_sbom(
        root,
        name="vuln-demo",
        version="0.3.0",
        out_dir=tmp_path / "out",
        images=[ImageRef("exporter", ref, archive="images/exporter")],
        runner=runner,
        use_docker=False,
    )
    assert [(i.origin, i.digest, i.packages) for i in result.images] == [("bundle:images/exporter", image.digest, 1)]
    # A link to that folder is not followed: the image is then not in the bundle at all.
    (root / "images" / "link").symlink_to(root / "images" / "exporter")
    linked = generate_sbom(
        root,
        name="vuln-demo",
        version="0.3.0",
        out_dir=tmp_path / "out2",
        images=[ImageRef("exporter", ref, archive="images/link")],
        runner=runner,
        use_docker=False,
    )
    assert linked.images == () and [s.ref for s in linked.skipped_images] == [ref]


def test_a_cached_result_keeps_each_image_proven_or_unproven(runner: ToolRunner, tmp_path: Path) -> None:
    from plugingate.cache import ResultCache
    from plugingate.declaration.model import ImageRef

    root = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "vulnerable", root)
    good, held = oci_image(), oci_image(ALPINE)
    write_tar(root / "images" / "good.tar", layout_members(good))
    write_tar(root / "images" / "other.tar", layout_members(held))
    images = [
        ImageRef("good", f"registry.example.com/acme/good@{good.digest}", archive="images/good.tar", line=3),
        ImageRef("bad", f"registry.example.com/acme/bad@{good.manifest[:-4]}beef", archive="images/other.tar", line=7),
    ]
    cache = ResultCache(tmp_path / "cache")
    runs = [
        generate_sbom(
            root,
            name="vuln-demo",
            version="0.3.0",
            out_dir=tmp_path / f"out-{n}",
            images=images,
            runner=runner,
            bundle_digest="sha256:" + "8" * 64,
            cache=cache,
            use_docker=False,
        )
        for n in range(2)
    ]
    assert [r.cached for r in runs] == [False, True]
    for result in runs:
        assert result.proven_digests == {images[0].ref: good.digest}
        assert [(u.name, u.digest) for u in result.unproven_images] == [("bad", images[1].ref.rpartition("@")[2])]
        [finding] = [f for f in result.findings if f.rule_id == "PG-SBOM-004"]
        assert finding.location is not None and finding.location.line == 7
