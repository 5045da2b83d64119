"""Image contents for the tests: a vulnerable Python package's metadata, as an installed package."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

# NOTE: urllib3 1.26.4 is affected by GHSA-pgpy-2q3r-0005 in testdata/vulndb (fixed in 1.26.5).
SITE = "usr/lib/python3.11/site-packages"
FILES = {
    f"{SITE}/urllib3-1.26.4.dist-info/METADATA": "Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.4\n",
    f"{SITE}/urllib3-1.26.4.dist-info/RECORD": "urllib3/__init__.py,,\n",
    f"{SITE}/urllib3/__init__.py": "__version__ = '1.26.4'\n",
}
ADVISORY = "GHSA-pgpy-2q3r-0005"

# NOTE: two distributions' package databases, as their package managers write them, one package each:
# busybox 1.36.1-r2 is affected by CVE-2026-91001 (testdata/vulndb/alpine, fixed in 1.36.1-r5) and
# bash 5.2.15-2+b2 by CVE-2026-91002 (testdata/vulndb/debian, fixed in 5.2.15-2+b3).
ALPINE = {
    "etc/os-release": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.4\n',
    "lib/apk/db/installed": "P:busybox\nV:1.36.1-r2\nA:x86_64\nS:1\nI:1\nT:Size optimized toolbox\no:busybox\n\n",
}
DEBIAN = {
    "etc/os-release": 'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
    "var/lib/dpkg/status": (
        "Package: bash\nStatus: install ok installed\nPriority: required\nArchitecture: amd64\n"
        "Version: 5.2.15-2+b2\nDescription: GNU Bourne Again SHell\n\n"
    ),
}
OS_ADVISORIES = {"CVE-2026-91001", "CVE-2026-91002"}


def write_tree(root: Path) -> Path:
    """The image's files under ``root`` (a Docker build context)."""
    for name, text in FILES.items():
        path = root / "rootfs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "Dockerfile").write_text("FROM scratch\nCOPY rootfs/ /\n")
    return root


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_docker_archive(
    path: Path, tag: str = "plugingate-test/vulnimg:1", files: dict[str, str] | None = None
) -> str:
    """A docker-archive (as ``docker save`` writes) of a one-layer image of ``files``; returns its image id."""
    layer = _tar_bytes({name: text.encode() for name, text in (FILES if files is None else files).items()})
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "COPY rootfs/ / # plugingate test"}],
        }
    ).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    layer_dir = hashlib.sha256(layer).hexdigest()
    manifest = [{"Config": f"{config_hex}.json", "RepoTags": [tag], "Layers": [f"{layer_dir}/layer.tar"]}]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        _tar_bytes(
            {
                "manifest.json": json.dumps(manifest).encode(),
                f"{config_hex}.json": config,
                f"{layer_dir}/layer.tar": layer,
            }
        )
    )
    return f"sha256:{config_hex}"


# NOTE: OCI images as registries serve them and as `skopeo copy ... oci-archive:`, `crane pull
# --format=oci` or Docker 25+'s `docker save` (OCI layout plus manifest.json) write them: every blob
# under blobs/sha256/<hex>, named by the digest of its bytes.
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


def _json(doc: object) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class OciImage:
    """An image's blobs by digest; ``digest`` is what a reference pins (the index's, else the manifest's)."""

    blobs: dict[str, bytes]
    manifests: dict[str, str]  # platform -> manifest digest
    configs: dict[str, str]  # platform -> config digest
    layers: dict[str, list[str]]  # platform -> layer digests
    index: str | None = None

    @property
    def digest(self) -> str:
        return self.index or next(iter(self.manifests.values()))

    @property
    def manifest(self) -> str:
        return next(iter(self.manifests.values()))

    def blob(self, digest: str) -> bytes:
        return self.blobs[digest]


def oci_image(files: dict[str, str] | None = None, *, platforms: tuple[str, ...] = ()) -> OciImage:
    """An image of one layer of ``files``: one manifest, or (with ``platforms``) an index of one per platform."""
    layer = _tar_bytes({name: text.encode() for name, text in (FILES if files is None else files).items()})
    image = OciImage(blobs={_digest(layer): layer}, manifests={}, configs={}, layers={})
    descriptors = []
    for platform in platforms or ("linux/amd64",):
        os_name, arch = platform.split("/")[:2]
        config = _json(
            {
                "architecture": arch,
                "os": os_name,
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [_digest(layer)]},
                "history": [{"created_by": "COPY rootfs/ / # plugingate test"}],
            }
        )
        manifest = _json(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": _digest(config), "size": len(config)},
                "layers": [{"mediaType": OCI_LAYER, "digest": _digest(layer), "size": len(layer)}],
            }
        )
        image.blobs[_digest(config)] = config
        image.blobs[_digest(manifest)] = manifest
        image.manifests[platform] = _digest(manifest)
        image.configs[platform] = _digest(config)
        image.layers[platform] = [_digest(layer)]
        descriptors.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": _digest(manifest),
                "size": len(manifest),
                "platform": {"os": os_name, "architecture": arch},
            }
        )
    if platforms:
        index = _json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors})
        image.blobs[_digest(index)] = index
        image.index = _digest(index)
    return image


def layout_members(
    image: OciImage, *, names: str | None = None, docker: bool = False, tag: str = "plugingate-test/vulnimg:1"
) -> dict[str, bytes]:
    """An OCI layout's files: ``oci-layout``, ``index.json`` naming ``names`` (else the image) and the blobs.

    ``docker`` adds the manifest.json that Docker 25+'s ``docker save`` writes beside them.
    """
    top = names or image.digest
    top_blob = image.blobs.get(top, b"")
    media = OCI_INDEX if top == image.index else OCI_MANIFEST
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": media,
                "digest": top,
                "size": len(top_blob),
                "annotations": {"io.containerd.image.name": tag, "org.opencontainers.image.ref.name": "1"},
            }
        ],
    }
    members = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', "index.json": _json(index)}
    for digest, data in image.blobs.items():
        members[f"blobs/sha256/{digest.removeprefix('sha256:')}"] = data
    if docker:
        platform = next(iter(image.manifests))
        members["manifest.json"] = _json(
            [
                {
                    "Config": f"blobs/sha256/{image.configs[platform].removeprefix('sha256:')}",
                    "RepoTags": [tag],
                    "Layers": [f"blobs/sha256/{d.removeprefix('sha256:')}" for d in image.layers[platform]],
                }
            ]
        )
    return members


def write_tar(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    """A tar of ``members`` (sorted) and of symbolic links ``name -> target``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        for name, target in sorted((links or {}).items()):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


def write_dir(path: Path, members: dict[str, bytes]) -> Path:
    """An OCI layout folder of ``members``."""
    for name, data in members.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    return path
