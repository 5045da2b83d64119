"""Where the tests find the pinned cosign (built by scripts/setup-tools)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

COSIGN_VERSION = "v3.1.3"


def cosign() -> str:
    """``$PLUGINGATE_COSIGN``, else ``~/.cache/plugingate/tools/cosign-v3.1.3/cosign``; skip when absent."""
    path = os.environ.get("PLUGINGATE_COSIGN") or str(
        Path.home() / ".cache" / "plugingate" / "tools" / f"cosign-{COSIGN_VERSION}" / "cosign"
    )
    if not Path(path).is_file():
        pytest.skip(f"cosign {COSIGN_VERSION} not found at {path}: run scripts/setup-tools (or set PLUGINGATE_COSIGN)")
    return path


def run_cosign(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Run cosign offline (no TUF, no update checks) and capture its output."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "COSIGN_EXPERIMENTAL": "0",
        "TUF_ROOT": str(Path(os.environ.get("HOME", "/tmp")) / ".sigstore-test-unused"),
    }
    return subprocess.run([cosign(), *args], capture_output=True, text=True, timeout=timeout, env=env, check=False)
