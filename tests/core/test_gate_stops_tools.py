"""A gate that is stopped while syft runs stops syft too, and removes its temporary folder.

syft runs in its own session (a Ctrl-C in the terminal doesn't reach it) in a worker thread beside
the checks; when the gate is terminated, it must kill syft's process group rather than wait for it.
A slow fake syft stands in for a long real scan (the real twin: every gate test with the real syft).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.toolpins import pin_fake

PLUGIN = """apiVersion: plugingate.dev/v1
kind: Plugin
metadata: {name: demo, version: 1.0.0, publisher: acme.example}
spec:
  capabilities: {}
"""


def test_sigterm_during_syft_stops_syft_and_cleans_up(tmp_path: Path) -> None:
    bundle = tmp_path / "demo"
    bundle.mkdir()
    (bundle / "plugin.yaml").write_text(PLUGIN)
    marker = tmp_path / "syft-started"
    syft = tmp_path / "fake-syft"
    syft.write_text(
        f'#!/bin/sh\n[ "$1" = version ] && {{ echo "Version: 1.57.1"; exit 0; }}\ntouch {marker}\nexec sleep 120\n'
    )
    syft.chmod(0o755)
    pin_fake(syft, "syft")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    policy = Path(__file__).resolve().parents[2] / "testdata" / "policies" / "cases.yaml"
    env = {**os.environ, "PLUGINGATE_SYFT": str(syft), "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plugingate",
            "gate",
            str(bundle),
            "--policy",
            str(policy),
            "--out",
            str(tmp_path / "out"),
            "--no-cache",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "syft was never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    _, stderr = proc.communicate(timeout=30)
    assert time.monotonic() - started < 10, "the gate waited for syft"
    assert proc.returncode != 0, stderr
    found = subprocess.run(["pgrep", "-f", str(syft)], capture_output=True, text=True)
    assert found.stdout.strip() == "", f"syft still running: {found.stdout}"
    assert list(tmp.iterdir()) == [], "the temporary folder was left behind"
