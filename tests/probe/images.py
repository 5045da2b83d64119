"""Test plugins for the probe: static Go programs from testdata/probe, built and packed as FROM-scratch images.

Each program is built with ``CGO_ENABLED=0 go build`` (a static binary, nothing else in the image) and
written as an OCI image layout tar with one layer holding ``/plugin`` and an entrypoint that runs
it, as ``docker save`` of ``FROM scratch / COPY plugin / / ENTRYPOINT ["/plugin"]`` would.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "testdata" / "probe"


def _tar(members: dict[str, tuple[bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, (data, mode) in sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def go_build(program: str, out: Path) -> Path:
    """``testdata/probe/<program>`` built as a static linux/amd64 binary at ``out``."""
    go = shutil.which("go") or "/usr/local/go/bin/go"
    env = {**os.environ, "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "amd64", "GOFLAGS": "-mod=mod"}
    subprocess.run(
        [go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), f"./{program}"],
        cwd=PROGRAMS,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


def write_image(
    binary: Path,
    archive: Path,
    *,
    args: tuple[str, ...] = (),
    user: str = "65534",
    entrypoint: tuple[str, ...] = ("/plugin",),
) -> str:
    """An OCI layout tar of a FROM-scratch image running ``binary`` as ``/plugin``; its manifest digest."""
    layer = _tar({"plugin": (binary.read_bytes(), 0o755)})
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Entrypoint": list(entrypoint), "Cmd": list(args), "User": user},
            "rootfs": {"type": "layers", "diff_ids": [_digest(layer)]},
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": _digest(layer), "size": len(layer)}
            ],
        },
        sort_keys=True,
    ).encode()
    index = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": _digest(manifest),
                    "size": len(manifest),
                }
            ],
        }
    ).encode()
    members = {"oci-layout": (b'{"imageLayoutVersion":"1.0.0"}', 0o644), "index.json": (index, 0o644)}
    for blob in (layer, config, manifest):
        members[f"blobs/sha256/{_digest(blob).removeprefix('sha256:')}"] = (blob, 0o644)
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.write_bytes(_tar(members))
    return _digest(manifest)


PLUGIN_YAML = """\
apiVersion: plugingate.dev/v1
kind: Plugin
metadata:
  name: probe-test
  version: 1.0.0
  publisher: acme.example
spec:
  images:
    - name: plugin
      ref: registry.example.com/acme/probe-test@{digest}
      archive: image/plugin.oci.tar
  capabilities:
    network:
      egress:
        - host: api-acme.example
          ports: [443]
          reason: the ACME API
    filesystem:
      read: [/etc/acme]
      write: [/tmp]
    secrets:
      - name: acme-token
        keys: [token]
        as: env
    kubernetes:
      rules:
        - apiGroups: [""]
          resources: [pods]
          verbs: [get, list, watch]
    privileges:
      runAsNonRoot: true
    resources:
      cpu: 500m
      memory: 128Mi
"""


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: probe-test, namespace: probe-test}}
spec:
  selector: {{matchLabels: {{app: probe-test}}}}
  template:
    metadata: {{labels: {{app: probe-test}}}}
    spec:
      containers:
        - name: plugin
          image: registry.example.com/acme/probe-test@{digest}
          env:
            - name: API_KEY
              valueFrom: {{secretKeyRef: {{name: acme-token, key: token}}}}
          volumeMounts:
            - {{name: creds, mountPath: /etc/creds, readOnly: true}}
      volumes:
        - name: creds
          secret: {{secretName: acme-token, items: [{{key: token, path: api-token}}]}}
"""


def write_bundle(folder: Path, binary: Path, *, args: tuple[str, ...] = (), manifests: bool = False) -> Path:
    """A bundle folder declaring what ``declared`` does, whose one image runs ``binary``.

    With ``manifests``, a Deployment wires the secret as the variable ``API_KEY`` and the file
    ``/etc/creds/api-token``, as a plugin's own manifests would.
    """
    digest = write_image(binary, folder / "image" / "plugin.oci.tar", args=args)
    text = PLUGIN_YAML.format(digest=digest)
    if manifests:
        text = text.replace("  capabilities:\n", "  manifests: deploy/\n  capabilities:\n", 1)
        (folder / "deploy").mkdir()
        (folder / "deploy" / "deployment.yaml").write_text(DEPLOYMENT.format(digest=digest))
    (folder / "plugin.yaml").write_text(text)
    return folder
