"""The real kubectl, run offline: ``kubectl create --dry-run=client -o json`` against a fake discovery server.

``create --dry-run=client`` still maps every object to an API resource, so it asks a server for its
API groups. A small HTTP server on 127.0.0.1 answers kubectl's discovery requests with every kind
the files use (all cluster-scoped, so that kubectl adds no namespace); kubectl then decodes the files
with its own resource builder and prints the objects it would send, without sending them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


def kubectl_binary() -> Path:
    """kubectl from ``PLUGINGATE_KUBECTL`` or PATH; skip with directions when there is none."""
    found = os.environ.get("PLUGINGATE_KUBECTL") or shutil.which("kubectl")
    if not found:
        pytest.skip("kubectl is not installed: the differential suite checks the Go helper against it")
    return Path(found)


def _discovery(kinds: Iterable[tuple[str, str]], namespaced: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
    groups: dict[str, set[str]] = {}
    for api_version, kind in kinds:
        groups.setdefault(api_version, set()).add(kind)
    groups.setdefault("v1", set())
    answers: dict[str, dict[str, Any]] = {
        "/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.4"},
        "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
    }
    apis = []
    for api_version, names in sorted(groups.items()):
        resources = [
            {
                "name": f"{k.lower()}s",
                "singularName": k.lower(),
                "namespaced": k in namespaced,
                "kind": k,
                "verbs": ["create"],
            }
            for k in sorted(names)
        ]
        listing = {"kind": "APIResourceList", "groupVersion": api_version, "resources": resources}
        if "/" not in api_version:
            answers[f"/api/{api_version}"] = listing
            continue
        group, version = api_version.split("/", 1)
        answers[f"/apis/{api_version}"] = listing
        entry = {"groupVersion": api_version, "version": version}
        apis.append({"name": group, "versions": [entry], "preferredVersion": entry})
    answers["/apis"] = {"kind": "APIGroupList", "apiVersion": "v1", "groups": apis}
    return answers


@contextmanager
def fake_api_server(
    kinds: Iterable[tuple[str, str]], home: Path, namespaced: frozenset[str] = frozenset()
) -> Iterator[Path]:
    """A kubeconfig pointing at a discovery-only server on 127.0.0.1 that knows ``kinds`` (the ``namespaced``
    ones as namespaced, the rest cluster-scoped)."""
    answers = _discovery(kinds, namespaced)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            body = answers.get(self.path.split("?", 1)[0])
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = home / "kubeconfig"
        config.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
                    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                    "current-context": "c",
                    "users": [{"name": "u", "user": {}}],
                }
            )
        )
        yield config
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True, slots=True)
class KubectlResult:
    """What ``kubectl create --dry-run=client -o json -f FILE`` printed: the objects, and whether it failed."""

    objects: list[dict[str, Any]]
    failed: bool
    stderr: str


def kubectl_create(kubectl: Path, config: Path, file: Path, home: Path) -> KubectlResult:
    """The objects kubectl would create from ``file`` (it goes on past a bad document, as it does)."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(config)}
    done = subprocess.run(
        [str(kubectl), "create", "--dry-run=client", "--validate=false", "-o", "json", "-f", str(file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    decoder = json.JSONDecoder()
    objects: list[dict[str, Any]] = []
    text, at = done.stdout, 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        value, at = decoder.raw_decode(text, at)
        objects.append(value)
    return KubectlResult(objects=objects, failed=done.returncode != 0, stderr=done.stderr)
