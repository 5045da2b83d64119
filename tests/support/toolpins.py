"""Stand-in tools are pinned as an operator pins any binary: a line in the file PLUGINGATE_TOOL_PINS names.

plugingate runs no binary whose sha256 is not pinned (plugingate/tools/verify.py). The tests' fake
tools (probes, tools that fail on purpose) are pinned here, in the session's own pins file, which
tests/conftest.py names in the environment; the real tools are checked against the packaged pins.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from plugingate.tools.verify import this_platform

VARIABLE = "PLUGINGATE_TOOL_PINS"


def pin_fake(path: Path, tool: str | None = None) -> Path:
    """Append ``path``'s digest to the session's pins file as a ``tool`` (default: its file name); returns it."""
    pins = Path(os.environ[VARIABLE])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pins.open("a", encoding="utf-8") as handle:
        handle.write(f"{tool or path.name} test-fake {this_platform()} none {digest}\n")
    return path
