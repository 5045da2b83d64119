"""Run a command in a subprocess and measure it: exit code, output, wall time, peak memory."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Measured:
    """How a command ended and what it cost."""

    rc: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float


def run_measured(
    cmd: Sequence[str], *, env: Mapping[str, str], cwd: str | None = None, timeout: float = 120
) -> Measured:
    """Run ``cmd``; its peak RSS comes from ``wait4`` (this child alone, not every child so far)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=dict(env), cwd=cwd)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            rc=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            seconds=seconds,
            max_rss_mb=usage.ru_maxrss / 1024,  # NOTE: kilobytes on Linux
        )


def snapshot(root: str) -> set[str]:
    """Every path under ``root`` (files, folders, links), relative to it."""
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            found.add(os.path.relpath(os.path.join(dirpath, name), root))
    return found
