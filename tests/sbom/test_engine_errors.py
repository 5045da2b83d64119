"""A missing, closed or failing Docker engine is said in plain words: which engine, why, what to do.

The engine addresses are real: a unix socket path that does not exist, a unix socket nobody listens on,
a closed loopback port, an address the SDK refuses. The "stops answering" engine is a loopback HTTP
server that answers the SDK's version probe and ping and then drops the connection (the real-engine
twin is tests/sbom/test_docker_engine.py).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from plugingate.errors import ExitCode
from plugingate.sbom import Image
from plugingate.sbom.engine import EngineUnavailableError, connect
from plugingate.sbom.images import engine_image_ids, save_from_engine

RAW = ("DockerException", "FileNotFoundError", "ConnectionRefusedError", "HTTPConnectionPool", "Max retries", "(2, ")
IMAGE = Image("app", "registry.example/app@sha256:" + "d" * 64)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _plain(message: str) -> None:
    for raw in RAW:
        assert raw not in message, message


@pytest.fixture
def dead_socket(tmp_path: Path) -> Iterator[Path]:
    """A unix socket file that nobody listens on (a stopped engine leaves one behind)."""
    path = tmp_path / "dead.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
    yield path


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("unix://{tmp}/no-such.sock", "its socket does not exist"),
        ("unix://{dead}", "nothing is listening there"),
        ("tcp://127.0.0.1:{port}", "nothing is listening there"),
        ("tcp://127.0.0.1:99999", "not a valid engine address"),
        ("ftp://127.0.0.1:1", "not a valid engine address"),
    ],
)
def test_no_engine_is_said_in_plain_words(
    host: str, why: str, tmp_path: Path, dead_socket: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = host.format(tmp=tmp_path, dead=dead_socket, port=_closed_port())
    monkeypatch.setenv("DOCKER_HOST", address)
    with pytest.raises(EngineUnavailableError) as caught:
        connect(5)
    error = caught.value
    assert error.exit_code is ExitCode.UNDECIDED
    assert error.message == f"no Docker engine answered at {address}: " + error.message.split(": ", 1)[1]
    assert why in error.message
    _plain(error.message)
    assert "DOCKER_HOST" in error.diagnostics() and "docker save" in error.diagnostics()


def test_skipped_images_carry_the_plain_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    address = f"tcp://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("DOCKER_HOST", address)
    saved, skipped, unproven = save_from_engine([IMAGE], tmp_path / "out", timeout=5)
    assert saved == [] and unproven == [] and len(skipped) == 1
    reason = skipped[0].reason
    assert reason.startswith(f"no Docker engine answered at {address}: nothing is listening there")
    assert "start the Docker engine" in reason and "--no-docker" in reason
    _plain(reason)
    assert engine_image_ids([IMAGE], timeout=5) == {}


class _Forgetful(BaseHTTPRequestHandler):
    """Answers the SDK's version probe and ping like an engine, then drops every other request."""

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.endswith("/version"):
            body = json.dumps({"ApiVersion": "1.43", "Version": "24.0.0"}).encode()
        elif path.endswith("/_ping"):
            body = b"OK"
        else:
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def forgetful_engine() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Forgetful)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_engine_that_stops_answering_cannot_decide(
    forgetful_engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half way is not "no such image": the check was not made, so exit 3 with the engine named."""
    monkeypatch.setenv("DOCKER_HOST", forgetful_engine)
    with pytest.raises(EngineUnavailableError) as caught:
        save_from_engine([IMAGE], tmp_path / "out", timeout=5)
    message = caught.value.message
    assert caught.value.exit_code is ExitCode.UNDECIDED
    assert message.startswith(f"the Docker engine stopped answering while looking up {IMAGE.ref}: ")
    assert f"no Docker engine answered at {forgetful_engine}" in message
    _plain(message)


def _bundle_with_an_engine_image(root: Path) -> Path:
    """The vulnerable test bundle, naming an image in spec.images that it does not ship."""
    import shutil

    from .conftest import BUNDLES

    bundle = root / "bundle"
    shutil.copytree(BUNDLES / "vulnerable", bundle)
    plugin = bundle / "plugin.yaml"
    text = plugin.read_text()
    plugin.write_text(text.replace("spec:\n", f"spec:\n  images:\n    - {{name: app, ref: '{IMAGE.ref}'}}\n", 1))
    return bundle


def _sbom_cli(bundle: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    return subprocess.run(
        [sys.executable, "-m", "plugingate", "sbom", str(bundle), "--out", str(out), "--no-cache"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )


@pytest.mark.integration
def test_cli_without_an_engine_names_it_in_plain_words(scanners: dict[str, str], tmp_path: Path) -> None:
    """The real command with syft: the skipped image's finding says which engine and why (the default denies)."""
    address = f"tcp://127.0.0.1:{_closed_port()}"
    done = _sbom_cli(_bundle_with_an_engine_image(tmp_path), tmp_path / "out", {**scanners, "DOCKER_HOST": address})
    assert done.returncode == 1, done.stderr
    assert f"no Docker engine answered at {address}: nothing is listening there" in done.stdout
    _plain(done.stdout + done.stderr)
    assert "Traceback" not in done.stderr


@pytest.mark.integration
def test_cli_with_an_engine_that_stops_answering_exits_3(
    scanners: dict[str, str], forgetful_engine: str, tmp_path: Path
) -> None:
    env = {**scanners, "DOCKER_HOST": forgetful_engine}
    done = _sbom_cli(_bundle_with_an_engine_image(tmp_path), tmp_path / "out", env)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "plugingate: error: the Docker engine stopped answering while looking up" in done.stderr
    assert "start the Docker engine" in done.stderr
    _plain(done.stderr)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
