"""``report.json``: the machine-readable report, versioned and described by its JSON Schema."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from plugingate.files import write_atomic
from plugingate.result import GateResult, rfc3339


def _plain(value: object) -> object:
    """JSON for the values step details may hold besides plain data: times, dates and paths."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date | Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def render_json(result: GateResult) -> str:
    """The report as indented JSON text (what ``--format json`` prints)."""
    return json.dumps(result.to_dict(), indent=2, default=_plain) + "\n"


def write_json(result: GateResult, path: Path) -> None:
    """Write ``report.json``."""
    write_atomic(path, render_json(result))
