"""The containers of a pod spec, for every check that walks them (workloads, Windows pods, confinement).

A module of its own so that the checks that need it import it, not each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")


def containers(
    spec: dict[str, Any], base: tuple[str | int, ...]
) -> Iterator[tuple[str, dict[str, Any], tuple[str | int, ...]]]:
    """(field, container, path) for every container of a pod spec."""
    for field in CONTAINER_FIELDS:
        items = spec.get(field)
        for i, container in enumerate(items if isinstance(items, list) else []):
            if isinstance(container, dict):
                yield field, container, (*base, field, i)
