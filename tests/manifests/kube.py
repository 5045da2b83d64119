"""The Go helper for tests: found as the gate finds it, or the test is skipped (a failure under CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugingate.errors import Error
from plugingate.tools import Helper, ToolRunner


def require_helper() -> Path:
    """The k8sdecode binary ``scripts/setup-tools`` built; skip with directions when there is none."""
    try:
        return ToolRunner().info(Helper.K8SDECODE).path
    except Error as exc:
        pytest.skip(f"{exc.message}: run scripts/setup-tools")
