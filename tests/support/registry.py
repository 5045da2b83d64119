"""A real OCI registry for tests: Debian's ``docker-registry`` (distribution 2.8) on 127.0.0.1.

``start_registry(tmp)`` runs it on a free loopback port with its storage in ``tmp`` and, when asked,
basic authentication (htpasswd with a bcrypt hash); ``stop()`` ends the process it started. When the
binary is missing the tests skip with the command that installs it
(``apt-get install -y docker-registry``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REGISTRY_ENV = "PLUGINGATE_DOCKER_REGISTRY"


def registry_binary() -> str | None:
    """``$PLUGINGATE_DOCKER_REGISTRY``, else ``docker-registry`` on PATH (or /usr/bin)."""
    explicit = os.environ.get(REGISTRY_ENV)
    if explicit:
        return explicit
    return shutil.which("docker-registry") or (
        "/usr/bin/docker-registry" if Path("/usr/bin/docker-registry").exists() else None
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Registry:
    """A running registry: ``host`` is ``127.0.0.1:PORT``."""

    host: str
    process: subprocess.Popen[bytes]
    log: Path
    username: str | None = None
    password: str | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _bcrypt(password: str) -> str:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # NOTE: Debian's libcrypt does bcrypt; distribution's htpasswd reads only bcrypt

        # NOTE: the lowest bcrypt cost (2^4): the registry checks it on every request of a test
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))


def start_registry(workdir: Path, *, username: str | None = None, password: str | None = None) -> Registry:
    """Start ``docker-registry`` on 127.0.0.1 with storage under ``workdir``; skip if it is not installed."""
    binary = registry_binary()
    if binary is None:
        pytest.skip("Debian's docker-registry is not installed (apt-get install -y docker-registry)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = ""
    if username is not None and password is not None:
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text(f"{username}:{_bcrypt(password)}\n")
        auth = f"auth:\n  htpasswd:\n    realm: plugingate-test\n    path: {htpasswd}\n"
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: plugingate-test-secret\n"
        f"{auth}"
    )
    log = workdir / "registry.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    registry = Registry(f"127.0.0.1:{port}", process, log, username, password)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://{registry.host}/v2/", timeout=1)
            return registry
        except urllib.error.HTTPError as exc:
            if exc.code == 401:  # NOTE: up, and asking for a login
                return registry
        except OSError:
            pass
        time.sleep(0.1)
    registry.stop()
    raise RuntimeError(f"docker-registry did not answer on {registry.host}: {log.read_text()[-2000:]}")


def push_test_image(registry: str, repository: str, content: bytes, *, tag: str = "latest") -> str:
    """Build a one-layer OCI image holding ``content`` at /hello.txt, push it, return its digest.

    Written by hand (layer tarball, config, manifest) and pushed with plugingate's own OCI client,
    so no Docker is needed.
    """
    import gzip
    import hashlib
    import io
    import json
    import tarfile

    from plugingate.oci.client import RegistryClient

    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mode, info.mtime = len(content), 0o644, 0
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = tar_buf.getvalue()
    layer = gzip.compress(tar_bytes, mtime=0)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar_bytes).hexdigest()]},
    }
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    client = RegistryClient(registry)
    layer_digest = client.put_blob(repository, layer)
    config_digest = client.put_blob(repository, config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": len(config_bytes),
            "digest": config_digest,
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "size": len(layer),
                "digest": layer_digest,
            }
        ],
    }
    body = json.dumps(manifest, separators=(",", ":")).encode()
    return client.put_manifest(repository, tag, body, "application/vnd.oci.image.manifest.v1+json")
