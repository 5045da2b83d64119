"""``report.json``: the machine-readable report, versioned and described by its JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

from plugingate.report.files import write_atomic
from plugingate.result import GateResult


def render_json(result: GateResult) -> str:
    """The report as indented JSON text (what ``--format json`` prints)."""
    return json.dumps(result.to_dict(), indent=2, sort_keys=False) + "\n"


def write_json(result: GateResult, path: Path) -> None:
    """Write ``report.json``."""
    write_atomic(path, render_json(result))
