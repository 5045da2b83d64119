"""The real probe: test plugins built from Go programs, run in the real runsc through the real CLI.

Every plugin declares the same things (tests/probe/images.py: api-acme.example:443, read /etc/acme,
write /tmp, the acme-token secret, get/list/watch pods); each program does what it declares and then
one thing more, and the probe must name that thing with its rule id, and nothing else.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from plugingate.schemas import load_schema
from tests.conftest import run_cli

from .images import write_bundle

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DURATION = "3"


def _probe(
    tmp_path: Path,
    program: Callable[[str], Path],
    tools: dict[str, str],
    name: str,
    *args: str,
    extra: tuple[str, ...] = (),
    manifests: bool = False,
) -> tuple[int, dict[str, Any], str]:
    bundle = write_bundle(tmp_path / name, program(name), args=args, manifests=manifests)
    out = tmp_path / f"out-{name}"
    done = run_cli("probe", bundle, "--out", out, "--duration", DURATION, *extra, env=tools, timeout=240)
    report = json.loads((out / "probe.json").read_text()) if (out / "probe.json").exists() else {}
    if report:
        jsonschema.validate(report, load_schema("probe.schema.json"))
    return done.code, report, done.stdout + done.stderr


def _rules(report: dict[str, Any]) -> set[str]:
    return {f["ruleId"] for f in report["findings"]}


def _props(report: dict[str, Any], rule: str, key: str) -> set[Any]:
    return {f["properties"][key] for f in report["findings"] if f["ruleId"] == rule}


def test_a_plugin_that_does_what_it_declares_passes(tmp_path: Path, program: Any, probe_tools: dict[str, str]) -> None:
    code, report, output = _probe(tmp_path, program, probe_tools, "declared")
    assert code == 0, output
    assert report["passed"] is True and report["findings"] == []
    image = report["images"][0]
    # NOTE: it did everything it declares, and each recorder saw it: the probe is not passing an idle program.
    assert {"name": "api-acme.example", "type": "A"} in image["dns"]
    assert any(c.get("sni") == "api-acme.example" and c["port"] == 443 for c in image["connections"])
    assert [(a["verb"], a["resource"], a["authenticated"]) for a in image["kubernetesApi"]] == [("list", "pods", True)]
    assert {w["path"] for w in image["writes"]} == {"/tmp/exporter.state"}
    assert image["canaries"] == ["acme-token/token"]
    assert 0 < image["usage"]["memoryPeakBytes"] < image["usage"]["memoryLimitBytes"]
    assert image["exitStatus"] == "stopped by the probe at the end of its time"


def test_an_undeclared_host_is_found(tmp_path: Path, program: Any, probe_tools: dict[str, str]) -> None:
    code, report, output = _probe(tmp_path, program, probe_tools, "undeclared-host")
    assert code == 1, output
    assert _rules(report) == {"PG-PRB-001"}
    assert _props(report, "PG-PRB-001", "host") == {"telemetry.evil.example"}
    assert "PG-PRB-001" in output


def test_a_canary_secret_sent_out_is_found_in_every_spelling(
    tmp_path: Path, program: Any, probe_tools: dict[str, str]
) -> None:
    code, report, output = _probe(tmp_path, program, probe_tools, "canary")
    assert code == 1, output
    assert "PG-PRB-003" in _rules(report)
    # NOTE: base64 in an HTTP body to an undeclared host, and hex split over two DNS labels.
    assert _props(report, "PG-PRB-003", "channel") == {"dns", "collector.evil.example:80"}
    assert _rules(report) == {"PG-PRB-001", "PG-PRB-003"}


@pytest.mark.parametrize("source", ["env:API_KEY", "file:/etc/creds/api-token"])
def test_a_canary_is_where_the_manifests_put_the_secret(
    tmp_path: Path, program: Any, probe_tools: dict[str, str], source: str
) -> None:
    """The program reads its secret only where its Deployment wires it; the canary is there and is caught."""
    code, report, output = _probe(tmp_path, program, probe_tools, "canary", source, manifests=True)
    assert code == 1, output
    assert "secret found: true" in report["images"][0]["outputTail"]
    assert _props(report, "PG-PRB-003", "channel") == {"dns", "collector.evil.example:80"}


def test_writes_outside_the_declared_paths_are_found(tmp_path: Path, program: Any, probe_tools: dict[str, str]) -> None:
    code, report, output = _probe(tmp_path, program, probe_tools, "writer")
    assert code == 1, output
    assert _rules(report) == {"PG-PRB-004"}
    paths = _props(report, "PG-PRB-004", "path")
    assert {"/etc/acme/override.conf", "/var/lib/acme/db", "/etc/acme-link"} <= paths
    assert not any(p.startswith("/tmp") for p in paths)


def test_kubernetes_api_calls_beyond_rbac_are_found(tmp_path: Path, program: Any, probe_tools: dict[str, str]) -> None:
    code, report, output = _probe(tmp_path, program, probe_tools, "kubeapi")
    assert code == 1, output
    assert _rules(report) == {"PG-PRB-005"}
    denied = {(f["properties"]["verb"], f["properties"]["resource"]) for f in report["findings"]}
    assert denied == {("list", "secrets"), ("delete", "pods"), ("list", "deployments")}
    calls = report["images"][0]["kubernetesApi"]
    assert ("list", "pods") in {(c["verb"], c["resource"]) for c in calls}  # granted: recorded, not a finding


def test_warn_mode_reports_and_exits_zero(tmp_path: Path, program: Any, probe_tools: dict[str, str]) -> None:
    extra = ("--mode", "warn", "--format", "markdown")
    code, report, output = _probe(tmp_path, program, probe_tools, "kubeapi", extra=extra)
    assert code == 0, output
    assert report["mode"] == "warn" and report["passed"] is False and "PG-PRB-005" in _rules(report)
    assert "# plugingate probe: ❌ DENIED (warn)" in output and "| `PG-PRB-005` |" in output


def _host_address() -> str:
    out = subprocess.run(["ip", "-4", "-o", "route", "get", "192.0.2.1"], capture_output=True, text=True, check=False)
    fields = out.stdout.split()
    return fields[fields.index("src") + 1] if "src" in fields else "127.0.0.1"


def test_the_host_network_cannot_be_reached(tmp_path: Path, program: Any, probe_tools: dict[str, str]) -> None:
    """A listener on the host's every address (loopback included) gets nothing from the sandbox."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    reached: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                reached.append(listener.accept()[1])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    host = _host_address()
    try:
        code, report, output = _probe(tmp_path, program, probe_tools, "hostnet", f"127.0.0.1:{port}", f"{host}:{port}")
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
    assert reached == [], "the sandbox reached the host's network"
    assert code == 1, output
    # NOTE: 127.0.0.1 is the sandbox's own loopback (nothing listens there); the host's address went to the sink.
    if host != "127.0.0.1":
        assert _props(report, "PG-PRB-001", "host") == {host}
    traced = {(c["address"], c["port"]) for c in report["images"][0]["connections"] if c["source"] == "trace"}
    assert ("127.0.0.1", port) in traced


def test_a_hard_coded_resolver_is_found(tmp_path: Path, program: Any, probe_tools: dict[str, str]) -> None:
    code, report, output = _probe(tmp_path, program, probe_tools, "resolver")
    assert code == 1, output
    dialled = {
        (f["properties"]["host"], f["properties"].get("port"))
        for f in report["findings"]
        if f["ruleId"] == "PG-PRB-001"
    }
    assert ("8.8.8.8", 53) in dialled
    assert any(c["address"] == "8.8.8.8" and c["protocol"] == "udp" for c in report["images"][0]["connections"])


def test_escape_attempts_are_reported(tmp_path: Path, program: Any, probe_tools: dict[str, str]) -> None:
    code, report, output = _probe(tmp_path, program, probe_tools, "escape")
    assert code == 1, output
    assert _rules(report) == {"PG-PRB-009"}
    (finding,) = report["findings"]
    assert {"unshare", "mount", "ptrace", "chroot"} <= set(finding["properties"]["syscalls"])


def test_a_fork_bomb_is_bounded_and_reported(tmp_path: Path, program: Any, probe_tools: dict[str, str]) -> None:
    code, report, output = _probe(tmp_path, program, probe_tools, "forkbomb")
    assert code == 1, output
    assert "PG-PRB-007" in _rules(report)
    image = report["images"][0]
    assert len(image["executions"]) >= 1 and image["usage"]["pidsLimit"] == 256
    # NOTE: with gVisor's ptrace platform each process is a host process: at the bound the sandbox stops.
    assert image["exitStatus"].startswith(("the sandbox stopped itself", "exited before the end"))
    assert image["durationSeconds"] < float(DURATION) + 10


def test_unbounded_memory_is_stopped_at_the_declared_limit(
    tmp_path: Path, program: Any, probe_tools: dict[str, str]
) -> None:
    code, report, output = _probe(tmp_path, program, probe_tools, "memhog")
    assert code == 1, output
    assert _rules(report) == {"PG-PRB-006"}
    usage = report["images"][0]["usage"]
    assert usage["oomKilled"] is True
    # NOTE: 128Mi declared plus the 64Mi sandbox allowance; the peak stays at the limit (the kernel's
    # accounting may overshoot it by a page or so before the OOM killer acts).
    assert usage["memoryLimitBytes"] == 192 << 20
    assert 128 << 20 < usage["memoryPeakBytes"] <= usage["memoryLimitBytes"] + (1 << 20)
