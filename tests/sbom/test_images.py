"""Image archives in a bundle, matching spec.images, and folding image SBOMs into the bundle's."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from plugingate.declaration.model import ImageRef
from plugingate.sbom.images import ArchiveKind, Image, find_image_archives, match_archive, save_from_engine
from plugingate.sbom.merge import count_packages, merge_cyclonedx, merge_spdx

from .imagefiles import write_docker_archive


def _oci_archive(path: Path, digest: str, name: str) -> None:
    index = {"schemaVersion": 2, "manifests": [{"digest": digest, "annotations": {"io.containerd.image.name": name}}]}
    with tarfile.open(path, "w") as tar:
        for member, data in (
            ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
            ("index.json", json.dumps(index).encode()),
        ):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_docker_and_oci_archives_are_found_and_other_tars_ignored(tmp_path: Path) -> None:
    image_id = write_docker_archive(tmp_path / "images" / "app.tar")
    _oci_archive(tmp_path / "images" / "side.tar", "sha256:" + "b" * 64, "registry.example/side:1")
    with tarfile.open(tmp_path / "plain.tar", "w") as tar:
        tar.add(tmp_path / "images" / "app.tar", arcname="x")
    (tmp_path / "broken.tar").write_bytes(b"not a tar")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link.tar").symlink_to(tmp_path / "images" / "app.tar")
    found = find_image_archives(tmp_path)
    assert [(a.origin, a.kind) for a in found] == [
        ("bundle:images/app.tar", ArchiveKind.DOCKER),
        ("bundle:images/side.tar", ArchiveKind.OCI),
    ]
    assert image_id in found[0].digests and "plugingate-test/vulnimg:1" in found[0].tags
    assert found[1].digests == {"sha256:" + "b" * 64}


def test_spec_images_match_archives_by_archive_field_digest_or_tag(tmp_path: Path) -> None:
    image_id = write_docker_archive(tmp_path / "images" / "app.tar")
    archives = find_image_archives(tmp_path)
    assert match_archive(ImageRef("app", f"registry.example/app@{image_id}"), archives) is archives[0]
    assert match_archive(ImageRef("app", "registry.example/app@sha256:" + "c" * 64), archives) is None
    assert match_archive(ImageRef("app", "r/x@sha256:" + "c" * 64, archive="images/app.tar"), archives) is archives[0]
    assert match_archive(Image("app", "plugingate-test/vulnimg:1"), archives) is archives[0]
    assert match_archive(Image("app", "plugingate-test/other:1"), archives) is None


def test_without_an_engine_every_image_is_skipped_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    saved, skipped, unproven = save_from_engine(
        [Image("app", "registry.example/app@sha256:" + "d" * 64)], tmp_path / "out"
    )
    assert saved == [] and unproven == []
    assert [(s.name, s.reason.split(": ")[0]) for s in skipped] == [
        ("app", f"no Docker engine answered at unix://{tmp_path}/no-such.sock")
    ]


def test_cyclonedx_merge_nests_images_with_unique_refs() -> None:
    main = {
        "components": [{"bom-ref": "a", "type": "library", "name": "x"}],
        "dependencies": [{"ref": "a", "dependsOn": []}],
    }
    image = {
        "components": [
            {"bom-ref": "a", "type": "library", "name": "urllib3"},
            {"bom-ref": "f", "type": "file", "name": "/etc/x"},
        ],
        "dependencies": [{"ref": "a", "dependsOn": ["f"]}],
    }
    merged = merge_cyclonedx(main, [("app", "r/app@sha256:" + "e" * 64, image)])
    container = merged["components"][1]
    assert (
        container["type"] == "container" and container["name"] == "app" and container["version"] == "sha256:" + "e" * 64
    )
    assert [c["bom-ref"] for c in container["components"]] == ["image-0:a", "image-0:f"]
    assert merged["dependencies"][1] == {"ref": "image-0:a", "dependsOn": ["image-0:f"]}
    assert count_packages(merged) == 2


def test_spdx_merge_prefixes_ids_and_describes_the_image() -> None:
    main = {"packages": [{"SPDXID": "SPDXRef-Package-a", "name": "x"}], "relationships": []}
    image = {
        "packages": [{"SPDXID": "SPDXRef-Package-a", "name": "urllib3"}],
        "relationships": [
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relatedSpdxElement": "SPDXRef-Root",
                "relationshipType": "DESCRIBES",
            },
            {
                "spdxElementId": "SPDXRef-Root",
                "relatedSpdxElement": "SPDXRef-Package-a",
                "relationshipType": "CONTAINS",
            },
        ],
    }
    merged = merge_spdx(main, [("app", "r/app:1", image)])
    assert [p["SPDXID"] for p in merged["packages"]] == ["SPDXRef-Package-a", "SPDXRef-image0-Package-a"]
    pairs = [(r["spdxElementId"], r["relatedSpdxElement"], r["relationshipType"]) for r in merged["relationships"]]
    assert pairs == [
        ("SPDXRef-image0-Root", "SPDXRef-image0-Package-a", "CONTAINS"),
        ("SPDXRef-DOCUMENT", "SPDXRef-image0-Root", "DESCRIBES"),
    ]
    assert "files" not in merged
