"""Proving an image archive holds its pinned digest: every way of claiming one without holding it.

Unit tests of ``prove_archive`` on archives the test builds; the same attacks go through the real
CLI, syft and grype in test_image_proofs_cli.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from plugingate.sbom.proof import ImageProofError, prove_archive

from .imagefiles import ALPINE, layout_members, oci_image, write_dir, write_docker_archive, write_tar


def _hex(digest: str) -> str:
    return digest.removeprefix("sha256:")


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _fails(archive: Path, digest: str, *expected: str) -> str:
    with pytest.raises(ImageProofError) as caught:
        prove_archive(archive, digest, where="images/x.tar")
    message = str(caught.value)
    for text in expected:
        assert text in message, message
    return message


@pytest.mark.parametrize("docker", [False, True], ids=["oci-archive", "docker-save-25"])
def test_an_archive_whose_digests_all_hold_is_proven_and_rebuilt(tmp_path: Path, docker: bool) -> None:
    image = oci_image()
    archive = write_tar(tmp_path / "x.tar", layout_members(image, docker=docker))
    proof = prove_archive(archive, image.digest, where="x.tar", layout=tmp_path / "layout")
    assert (proof.digest, proof.manifest, proof.platform, proof.layers) == (
        image.digest,
        image.manifest,
        "linux/amd64",
        1,
    )
    assert proof.hashed_bytes == sum(len(b) for b in image.blobs.values())
    blobs = {p.name: p.read_bytes() for p in (tmp_path / "layout" / "blobs" / "sha256").iterdir()}
    assert blobs == {_hex(d): b for d, b in image.blobs.items()}
    assert all(_sha(data) == f"sha256:{name}" for name, data in blobs.items())
    index = json.loads((tmp_path / "layout" / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [image.manifest]


def test_an_oci_layout_folder_is_proven(tmp_path: Path) -> None:
    image = oci_image()
    folder = write_dir(tmp_path / "layout-in", layout_members(image))
    assert prove_archive(folder, image.digest, where="x").manifest == image.manifest


def test_an_index_is_hashed_and_so_is_the_platform_manifest_chosen(tmp_path: Path) -> None:
    image = oci_image(platforms=("linux/arm64", "linux/amd64"))
    archive = write_tar(tmp_path / "x.tar", layout_members(image))
    proof = prove_archive(archive, image.digest, where="x", layout=tmp_path / "layout")
    assert (proof.digest, proof.manifest, proof.platform) == (
        image.index,
        image.manifests["linux/amd64"],
        "linux/amd64",
    )
    index = json.loads((tmp_path / "layout" / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [image.manifests["linux/amd64"]]
    assert (
        prove_archive(archive, image.digest, where="x", platform="linux/arm64").manifest
        == image.manifests["linux/arm64"]
    )
    with pytest.raises(ImageProofError, match=r"no linux/s390x image \(it has: linux/amd64, linux/arm64\)"):
        prove_archive(archive, image.digest, where="x", platform="linux/s390x")


def test_an_index_json_claiming_a_digest_its_manifest_does_not_hash_to_is_refused(tmp_path: Path) -> None:
    pinned, other = oci_image(), oci_image(ALPINE)
    members = layout_members(pinned)
    # The blob stored under the pinned name is another image's manifest: index.json's claim, a file name.
    members[f"blobs/sha256/{_hex(pinned.manifest)}"] = other.blob(other.manifest)
    members.update({f"blobs/sha256/{_hex(d)}": b for d, b in other.blobs.items() if d != other.manifest})
    _fails(write_tar(tmp_path / "x.tar", members), pinned.digest, "does not hash to its descriptor", pinned.digest)


def test_an_index_whose_platform_manifest_does_not_hash_is_refused(tmp_path: Path) -> None:
    image, other = oci_image(platforms=("linux/amd64",)), oci_image(ALPINE)
    members = layout_members(image)
    members[f"blobs/sha256/{_hex(image.manifests['linux/amd64'])}"] = other.blob(other.manifest)
    _fails(write_tar(tmp_path / "x.tar", members), image.digest, "the linux/amd64 manifest", "does not hash")


def test_an_archive_holding_another_image_is_refused(tmp_path: Path) -> None:
    pinned, held = oci_image(), oci_image(ALPINE)
    archive = write_tar(tmp_path / "x.tar", layout_members(held))
    _fails(archive, pinned.digest, "does not hold the pinned image", f"blobs/sha256/{_hex(pinned.digest)} is missing")
    # Naming the pinned digest in index.json, without its blob, proves nothing either.
    archive = write_tar(tmp_path / "y.tar", layout_members(held, names=pinned.digest))
    _fails(archive, pinned.digest, "is missing")
    # The pinned blobs present, but index.json names the other image: two readings, refused.
    members = {**layout_members(held), **{f"blobs/sha256/{_hex(d)}": b for d, b in pinned.blobs.items()}}
    _fails(write_tar(tmp_path / "z.tar", members), pinned.digest, "index.json names", "another image")


def test_a_docker_save_archive_without_the_manifest_blob_is_refused(tmp_path: Path) -> None:
    image_id = write_docker_archive(tmp_path / "x.tar")
    _fails(tmp_path / "x.tar", image_id, "docker save archive without the manifest blob", "no registry digest")


def test_a_legacy_docker_save_archive_with_the_manifest_blob_as_proof_is_proven(tmp_path: Path) -> None:
    image = oci_image()
    config, [layer] = image.configs["linux/amd64"], image.layers["linux/amd64"]
    legacy = {
        "manifest.json": json.dumps(
            [{"Config": f"{_hex(config)}.json", "RepoTags": ["a:1"], "Layers": [f"{_hex(layer)}/layer.tar"]}]
        ).encode(),
        f"{_hex(config)}.json": image.blob(config),
        f"{_hex(layer)}/layer.tar": image.blob(layer),
        f"blobs/sha256/{_hex(image.manifest)}": image.blob(image.manifest),
    }
    proof = prove_archive(write_tar(tmp_path / "x.tar", legacy), image.digest, where="x", layout=tmp_path / "l")
    assert proof.manifest == image.manifest
    assert (tmp_path / "l" / "blobs" / "sha256" / _hex(layer)).read_bytes() == image.blob(layer)
    # The same archive whose layer.tar (what docker load reads) is another layer: refused.
    legacy[f"{_hex(layer)}/layer.tar"] = oci_image(ALPINE).blob(oci_image(ALPINE).layers["linux/amd64"][0])
    _fails(write_tar(tmp_path / "y.tar", legacy), image.digest, f"{_hex(layer)}/layer.tar", "does not hash")


def test_a_manifest_json_naming_another_image_is_refused(tmp_path: Path) -> None:
    image, other = oci_image(), oci_image(ALPINE)
    members = layout_members(image, docker=True)
    members["manifest.json"] = layout_members(other, docker=True)["manifest.json"]
    _fails(write_tar(tmp_path / "x.tar", members), image.digest, "manifest.json (what docker load reads) names")


@pytest.mark.parametrize("size_kept", [True, False], ids=["same-size", "other-size"])
def test_a_layer_that_does_not_hash_to_its_descriptor_is_refused(tmp_path: Path, size_kept: bool) -> None:
    image = oci_image()
    [layer] = image.layers["linux/amd64"]
    members = layout_members(image)
    data = image.blob(layer)
    members[f"blobs/sha256/{_hex(layer)}"] = (data[:-1] + b"x") if size_kept else data + b"\0" * 512
    message = _fails(write_tar(tmp_path / "x.tar", members), image.digest, "layer 0 of", "does not hash")
    assert ("expected " + layer) in message if size_kept else "bytes" in message


def test_a_missing_layer_or_config_blob_is_refused(tmp_path: Path) -> None:
    image = oci_image()
    for missing in (image.layers["linux/amd64"][0], image.configs["linux/amd64"]):
        members = layout_members(image)
        del members[f"blobs/sha256/{_hex(missing)}"]
        _fails(write_tar(tmp_path / f"{_hex(missing)}.tar", members), image.digest, f"({missing}) is missing")


@pytest.mark.parametrize("which", ["manifest", "layer"])
def test_a_symlinked_blob_escaping_the_archive_is_refused(tmp_path: Path, which: str) -> None:
    image = oci_image()
    target = image.manifest if which == "manifest" else image.layers["linux/amd64"][0]
    members = layout_members(image)
    del members[f"blobs/sha256/{_hex(target)}"]
    links = {f"blobs/sha256/{_hex(target)}": "../../../../etc/passwd"}
    _fails(write_tar(tmp_path / "x.tar", members, links), image.digest, "is a link to '../../../../etc/passwd'")
    # The same in an OCI layout folder: the link is never followed.
    folder = write_dir(tmp_path / "dir", members)
    outside = tmp_path / "outside"
    outside.write_bytes(image.blob(target))  # NOTE: even with the right bytes behind it
    (folder / "blobs" / "sha256" / _hex(target)).symlink_to(outside)
    _fails(folder, image.digest, "is a symbolic link to")


def test_a_tar_with_two_entries_for_one_blob_is_refused(tmp_path: Path) -> None:
    image = oci_image()
    archive = write_tar(tmp_path / "x.tar", layout_members(image))
    with open(archive, "rb") as handle:
        data = handle.read()
    import io
    import tarfile

    # Append a second entry for the manifest blob after the first: readers differ on which one wins.
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    buffer = io.BytesIO()
    with tarfile.open(archive) as src, tarfile.open(fileobj=buffer, mode="w") as out:
        for member in members:
            out.addfile(member, src.extractfile(member))
        dup = tarfile.TarInfo(f"./blobs/sha256/{_hex(image.manifest)}")
        dup.size = 2
        out.addfile(dup, io.BytesIO(b"{}"))
    (tmp_path / "dup.tar").write_bytes(buffer.getvalue())
    _fails(tmp_path / "dup.tar", image.digest, "two entries for", _hex(image.manifest))


def test_manifests_with_duplicate_keys_or_a_mismatched_media_type_are_refused(tmp_path: Path) -> None:
    image = oci_image()
    manifest = image.blob(image.manifest)
    doubled = manifest[:-1] + b',"layers":[]}'
    members = layout_members(image)
    members[f"blobs/sha256/{_hex(_sha(doubled))}"] = doubled
    members["index.json"] = json.dumps({"manifests": [{"digest": _sha(doubled), "size": len(doubled)}]}).encode()
    _fails(write_tar(tmp_path / "x.tar", members), _sha(doubled), "a key appears twice")
    weird = json.dumps({**json.loads(manifest), "mediaType": "application/x-unknown"}).encode()
    members[f"blobs/sha256/{_hex(_sha(weird))}"] = weird
    members["index.json"] = json.dumps({"manifests": [{"digest": _sha(weird), "size": len(weird)}]}).encode()
    _fails(write_tar(tmp_path / "y.tar", members), _sha(weird), "application/x-unknown")


def test_a_malformed_pinned_digest_is_refused(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "x.tar", layout_members(oci_image()))
    _fails(archive, "sha256:" + "A" * 64, "not sha256:<64 lowercase hex>")


def test_a_large_layer_copied_by_the_kernel_is_hashed_as_copied(tmp_path: Path) -> None:
    """Layers over 4 MiB take the copy_file_range path: the copy is what is hashed, and a bad one is dropped."""
    import random

    files = {"opt/blob.bin": random.Random(7).randbytes(5 * 1024 * 1024).hex()[: 5 * 1024 * 1024]}
    image = oci_image(files)
    [layer] = image.layers["linux/amd64"]
    assert len(image.blob(layer)) > 4 * 1024 * 1024
    archive = write_tar(tmp_path / "x.tar", layout_members(image))
    proof = prove_archive(archive, image.digest, where="x", layout=tmp_path / "good")
    assert (tmp_path / "good" / "blobs" / "sha256" / _hex(layer)).read_bytes() == image.blob(layer)
    assert proof.hashed_bytes == sum(len(b) for b in image.blobs.values())
    members = layout_members(image)
    data = image.blob(layer)
    members[f"blobs/sha256/{_hex(layer)}"] = data[: len(data) // 2] + b"!" + data[len(data) // 2 + 1 :]
    with pytest.raises(ImageProofError, match="does not hash to its descriptor"):
        prove_archive(write_tar(tmp_path / "y.tar", members), image.digest, where="y", layout=tmp_path / "bad")
    assert not (tmp_path / "bad" / "blobs" / "sha256" / _hex(layer)).exists()
    assert not list((tmp_path / "bad").rglob("*.part"))


def test_a_hard_linked_blob_or_an_entry_leaving_the_archive_is_refused(tmp_path: Path) -> None:
    import io
    import tarfile

    image = oci_image()
    [layer] = image.layers["linux/amd64"]
    members = layout_members(image)
    del members[f"blobs/sha256/{_hex(layer)}"]
    members["decoy"] = image.blob(layer)
    archive = write_tar(tmp_path / "x.tar", members)
    with tarfile.open(archive, "a") as tar:
        info = tarfile.TarInfo(f"blobs/sha256/{_hex(layer)}")
        info.type, info.linkname = tarfile.LNKTYPE, "decoy"
        tar.addfile(info)
    _fails(archive, image.digest, "is a link to 'decoy'")
    escaping = write_tar(tmp_path / "y.tar", layout_members(image))
    with tarfile.open(escaping, "a") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/x")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    _fails(escaping, image.digest, "an entry outside the archive")


@pytest.mark.parametrize(
    ("ref", "repo_digests", "proven"),
    [
        ("nginx@sha256:" + "a" * 64, ["nginx@sha256:" + "a" * 64], True),
        ("docker.io/library/nginx@sha256:" + "a" * 64, ["nginx@sha256:" + "a" * 64], True),
        ("index.docker.io/library/nginx@sha256:" + "a" * 64, ["nginx@sha256:" + "a" * 64], True),
        ("nginx@sha256:" + "a" * 64, ["other/nginx@sha256:" + "a" * 64], False),
        ("nginx@sha256:" + "a" * 64, ["nginx@sha256:" + "b" * 64], False),
        ("nginx@sha256:" + "a" * 64, [], False),
        ("nginx:1.27", ["nginx@sha256:" + "a" * 64], False),
        ("registry.example.com/a/b@sha256:" + "a" * 64, ["registry.example.com/a/b/c@sha256:" + "a" * 64], False),
        ("registry.example.com/a/b@sha256:" + "a" * 64, ["REGISTRY.example.com/a/b@sha256:" + "a" * 64], True),
    ],
)
def test_an_engine_image_is_proven_by_its_repository_digest_exactly(
    ref: str, repo_digests: list[str], proven: bool
) -> None:
    from plugingate.sbom.images import repo_digest_proves

    assert repo_digest_proves(ref, repo_digests) is proven


def test_what_docker_load_reads_is_hashed_even_beside_the_oci_blob(tmp_path: Path) -> None:
    """manifest.json names a legacy config path while blobs/sha256/<config> holds the right bytes."""
    image, other = oci_image(), oci_image(ALPINE)
    config, [layer] = image.configs["linux/amd64"], image.layers["linux/amd64"]
    members = layout_members(image)
    members["manifest.json"] = json.dumps(
        [{"Config": f"{_hex(config)}.json", "RepoTags": ["a:1"], "Layers": [f"blobs/sha256/{_hex(layer)}"]}]
    ).encode()
    members[f"{_hex(config)}.json"] = image.blob(config)
    assert prove_archive(write_tar(tmp_path / "x.tar", members), image.digest, where="x").config == config
    members[f"{_hex(config)}.json"] = other.blob(other.configs["linux/amd64"])
    _fails(write_tar(tmp_path / "y.tar", members), image.digest, f"{_hex(config)}.json", "does not hash")
