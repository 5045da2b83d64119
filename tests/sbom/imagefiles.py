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
