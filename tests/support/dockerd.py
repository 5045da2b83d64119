"""A private Docker engine for tests: Debian's ``dockerd``, started by the test itself.

``start_dockerd()`` runs dockerd with its own socket, data and exec folders (under a short folder in
/tmp: a unix socket path must stay under 108 bytes), no iptables and no bridge (the tests need no
container networking, only images), and the ``vfs`` storage driver, which works anywhere. ``stop()``
ends the process it started, by its pid. When dockerd is missing it is installed with apt
(``apt-get install -y docker.io``) where that is possible, as CI does; otherwise the test skips with
the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCKERD_ENV = "PLUGINGATE_DOCKERD"


def dockerd_binary() -> str | None:
    """``$PLUGINGATE_DOCKERD``, else ``dockerd`` on PATH or in /usr/sbin."""
    explicit = os.environ.get(DOCKERD_ENV)
    if explicit:
        return explicit
    return shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").is_file() else None)


def ensure_dockerd() -> str:
    """The dockerd binary, installing Debian's docker.io when it is missing and apt can; else skip."""
    found = dockerd_binary()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("dockerd is not installed and cannot be (needs root and apt-get): apt-get install -y docker.io")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "docker.io"]):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
        if done.returncode != 0:
            pytest.skip(f"installing docker.io failed ({' '.join(cmd)}: exit {done.returncode}): {done.stderr[-500:]}")
    found = dockerd_binary()
    if not found:
        pytest.skip("apt-get install docker.io succeeded but no dockerd binary was found")
    return found


@dataclass
class Dockerd:
    """A running private engine: its ``DOCKER_HOST`` and the process to stop."""

    host: str
    root: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop this engine (SIGTERM, then SIGKILL), and remove its folders."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        # NOTE: vfs layers may hold read-only folders; removal is best effort.
        shutil.rmtree(self.root, ignore_errors=True)


def start_dockerd(timeout: float = 90.0) -> Dockerd:
    """Start a private dockerd and wait until it answers; skip with its log when it cannot start."""
    binary = ensure_dockerd()
    root = Path(tempfile.mkdtemp(prefix="pgd-", dir="/tmp"))
    sock = root / "docker.sock"
    log = (root / "dockerd.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            "--host",
            f"unix://{sock}",
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "docker.pid"),
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--storage-driver=vfs",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    engine = Dockerd(host=f"unix://{sock}", root=root, process=process)
    deadline = time.monotonic() + timeout
    import docker

    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if sock.exists():
            try:
                client = docker.DockerClient(base_url=engine.host, timeout=5)
                client.ping()
                client.close()
                return engine
            except Exception:
                pass
        time.sleep(0.5)
    tail = (root / "dockerd.log").read_text(errors="replace")[-1500:]
    engine.stop()
    pytest.skip(f"dockerd did not come up within {timeout:g} s: {tail}")
