"""Locations in plugin.yaml for capability findings."""

from __future__ import annotations

from plugingate.declaration import Declaration
from plugingate.findings import Location


def at(declaration: Declaration, *json_path: str | int) -> Location:
    """The location of a field of plugin.yaml (its nearest ancestor's line when it is absent)."""
    return Location(declaration.path, declaration.line(*json_path))


CAPS = ("spec", "capabilities")
