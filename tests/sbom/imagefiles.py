"""Image contents for the tests: a vulnerable Python package's metadata, as an installed package."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

# NOTE: urllib3 1.26.4 is affected by GHSA-pgpy-2q3r-0005 in testdata/vulndb (fixed in 1.26.5).
SITE = "usr/lib/python3.11/site-packages"
FILES = {
    f"{SITE}/urllib3-1.26.4.dist-info/METADATA": "Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.4\n",
    f"{SITE}/urllib3-1.26.4.dist-info/RECORD": "urllib3/__init__.py,,\n",
    f"{SITE}/urllib3/__init__.py": "__version__ = '1.26.4'\n",
}
ADVISORY = "GHSA-pgpy-2q3r-0005"


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


def write_docker_archive(path: Path, tag: str = "plugingate-test/vulnimg:1") -> str:
    """A docker-archive (as ``docker save`` writes) of a one-layer image; returns its image id."""
    layer = _tar_bytes({name: text.encode() for name, text in FILES.items()})
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
