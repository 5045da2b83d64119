"""The OCI client against a scripted loopback server: bearer tokens, size limits, redirects.

docker-registry (the real twin, see test_attach.py and test_cosign_interop.py) speaks only Basic
auth; the bearer-token flow that ghcr.io and Docker Hub use, and hostile answers, are scripted here.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from plugingate.oci.auth import Credentials
from plugingate.oci.client import MAX_MANIFEST_BYTES, RegistryClient, RegistryError, sha256_digest

Handler = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture()
def server() -> Iterator[tuple[str, dict[str, Any]]]:
    state: dict[str, Any] = {"routes": {}, "seen": []}

    class Scripted(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _dispatch(self) -> None:
            state["seen"].append((self.command, self.path, self.headers.get("Authorization")))
            for prefix, handler in state["routes"].items():
                if self.path.startswith(prefix):
                    handler(self)
                    return
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = do_PUT = do_POST = _dispatch  # noqa: N815

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()
    httpd.server_close()


def reply(
    handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> None:
    handler.send_response(status)
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}).encode()


def test_bearer_token_flow_with_docker_config_credentials(server: tuple[str, dict[str, Any]]) -> None:
    host, state = server

    def token(h: BaseHTTPRequestHandler) -> None:
        expected = "Basic " + base64.b64encode(b"ci:s3cret").decode()
        if h.headers.get("Authorization") != expected or "scope=repository%3Aacme%2Fx%3Apull" not in h.path:
            reply(h, 401)
            return
        reply(h, 200, json.dumps({"token": "T0KEN"}).encode(), {"Content-Type": "application/json"})

    def manifests(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("Authorization") != "Bearer T0KEN":
            challenge = f'Bearer realm="http://{host}/token",service="test",scope="repository:acme/x:pull"'
            reply(h, 401, b'{"errors":[]}', {"WWW-Authenticate": challenge})
            return
        reply(h, 200, MANIFEST, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})

    state["routes"] = {"/token": token, "/v2/acme/x/manifests/": manifests}
    client = RegistryClient(host, credentials=Credentials(username="ci", password="s3cret"))
    found = client.get_manifest("acme/x", "v1")
    assert found is not None and found.digest == sha256_digest(MANIFEST)
    # the token is reused for the same scope: one token request in all
    assert client.get_manifest("acme/x", "v1") is not None
    assert sum(1 for _, path, _ in state["seen"] if path.startswith("/token")) == 1
    wrong = RegistryClient(host, credentials=Credentials(username="ci", password="nope"))
    with pytest.raises(RegistryError, match=r"token service .* refused"):
        wrong.get_manifest("acme/x", "v1")


def test_token_realm_must_not_be_plain_http_elsewhere(server: tuple[str, dict[str, Any]]) -> None:
    host, state = server
    state["routes"] = {
        "/v2/": lambda h: reply(h, 401, b"", {"WWW-Authenticate": 'Bearer realm="http://auth.example.com/token"'})
    }
    with pytest.raises(RegistryError, match="refusing to send credentials"):
        RegistryClient(host, credentials=Credentials(username="u", password="p")).get_manifest("acme/x", "v1")


def test_oversized_and_mismatched_answers(server: tuple[str, dict[str, Any]]) -> None:
    host, state = server
    big = b"{" + b" " * (MAX_MANIFEST_BYTES + 10) + b"}"
    state["routes"] = {
        "/v2/acme/big/manifests/": lambda h: reply(h, 200, big, {"Content-Type": "application/json"}),
        "/v2/acme/liar/manifests/": lambda h: reply(h, 200, MANIFEST, {"Content-Type": "application/json"}),
        "/v2/acme/liar/blobs/": lambda h: reply(h, 200, b"not what you asked for"),
    }
    client = RegistryClient(host)
    with pytest.raises(RegistryError, match="larger than"):
        client.get_manifest("acme/big", "v1")
    with pytest.raises(RegistryError, match="has digest"):
        client.get_manifest("acme/liar", "sha256:" + "0" * 64)
    with pytest.raises(RegistryError, match="does not match its digest"):
        client.get_blob("acme/liar", "sha256:" + "0" * 64)


def test_redirect_loops_and_foreign_schemes(server: tuple[str, dict[str, Any]]) -> None:
    host, state = server
    state["routes"] = {
        "/v2/acme/loop/": lambda h: reply(h, 307, b"", {"Location": h.path}),
        "/v2/acme/file/": lambda h: reply(h, 302, b"", {"Location": "file:///etc/passwd"}),
    }
    client = RegistryClient(host)
    with pytest.raises(RegistryError, match="too many redirects"):
        client.get_blob("acme/loop", "sha256:" + "0" * 64)
    with pytest.raises(RegistryError, match="refusing a 'file' URL"):
        client.get_blob("acme/file", "sha256:" + "0" * 64)


def test_registry_errors_name_the_status_and_a_hint(server: tuple[str, dict[str, Any]]) -> None:
    host, state = server
    state["routes"] = {"/v2/acme/x/manifests/": lambda h: reply(h, 403, b'{"errors":[{"code":"DENIED"}]}')}
    with pytest.raises(RegistryError, match="answered 403") as info:
        RegistryClient(host).put_manifest("acme/x", "v1", MANIFEST, "application/vnd.oci.image.manifest.v1+json")
    assert "permission" in (info.value.hint or "")
    assert info.value.exit_code == 3
