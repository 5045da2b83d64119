"""Build image/exporter.oci.tar: the exporter's image as an OCI archive, byte for byte reproducible.

The archive ships in the bundle so that the gate can scan the image it is asked to admit without a
registry or a Docker engine. It holds one layer: the app, its pinned requirements, and the
``dist-info`` metadata of the installed packages (what ``pip install -r requirements.txt`` leaves
behind), so that the image's SBOM lists them. Run it after changing the app; it prints the
manifest digest, which plugin.yaml and deploy/deployment.yaml pin.

    python app/build_image_archive.py
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = ROOT / "image" / "exporter.oci.tar"
NAME = "registry.example.com/acme/exporter:1.4.2"
SITE = "usr/local/lib/python3.12/site-packages"


def _tar(files: dict[str, bytes]) -> bytes:
    """A tar of ``files`` with fixed owners, modes and times."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime, info.uid, info.gid = len(data), 0o644, 0, 0, 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _requirements() -> list[tuple[str, str]]:
    pins = []
    for line in (HERE / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins.append((name.strip(), version.strip()))
    return pins


def _layer() -> bytes:
    files = {
        "app/exporter.py": (HERE / "exporter.py").read_bytes(),
        "app/requirements.txt": (HERE / "requirements.txt").read_bytes(),
    }
    for name, version in _requirements():
        dist = f"{SITE}/{name.replace('-', '_')}-{version}.dist-info"
        files[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        files[f"{dist}/INSTALLER"] = b"pip\n"
    return _tar(files)


def _blob(data: bytes) -> tuple[str, bytes]:
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def build(out: Path = OUT) -> str:
    """Write the archive to ``out`` and return the manifest digest."""
    layer_digest, layer = _blob(_layer())
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": "10001:10001",
            "Entrypoint": ["python", "/app/exporter.py"],
            "ExposedPorts": {"9100/tcp": {}},
            "WorkingDir": "/app",
        },
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "COPY app/ /app/ and pip install -r requirements.txt"}],
    }
    config_digest, config_bytes = _blob(json.dumps(config, sort_keys=True, separators=(",", ":")).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": len(config_bytes),
        },
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": len(layer)}],
    }
    manifest_digest, manifest_bytes = _blob(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": len(manifest_bytes),
                "annotations": {"io.containerd.image.name": NAME, "org.opencontainers.image.ref.name": "1.4.2"},
            }
        ],
    }
    files = {
        "oci-layout": b'{"imageLayoutVersion":"1.0.0"}',
        "index.json": json.dumps(index, sort_keys=True, separators=(",", ":")).encode(),
    }
    for digest, data in ((layer_digest, layer), (config_digest, config_bytes), (manifest_digest, manifest_bytes)):
        files[f"blobs/sha256/{digest.split(':', 1)[1]}"] = data
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(_tar(files))
    return manifest_digest


if __name__ == "__main__":
    print(build())
