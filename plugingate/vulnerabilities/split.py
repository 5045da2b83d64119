"""One grype run per operating system: grype applies a single distribution to a whole SBOM.

The gate's CycloneDX nests each image as a ``container`` component. When two images run different
distributions (an Alpine and a Debian image), one grype run would match both images' OS packages
against one distribution's advisories and miss the other's. Such an SBOM is split into one document
per image (and one for the bundle's own packages), each scanned on its own, and the matches are put
together; an SBOM with at most one operating system is scanned whole, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _walk(components: object) -> Iterator[dict[str, Any]]:
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict):
            yield component
            yield from _walk(component.get("components"))


def operating_systems(doc: dict[str, Any]) -> list[str]:
    """The distinct ``name version`` of every operating-system component, nested ones included."""
    found = {
        f"{c.get('name', '')} {c.get('version', '')}".strip()
        for c in _walk(doc.get("components"))
        if c.get("type") == "operating-system"
    }
    return sorted(found)


def split_by_image(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]] | None:
    """``(label, CycloneDX document)`` per image and one for the rest, or None when one scan is right.

    Each part keeps the document's metadata and the dependencies among its own components.
    """
    if len(operating_systems(doc)) <= 1:
        return None
    base = {k: v for k, v in doc.items() if k not in ("components", "dependencies")}
    components = [c for c in doc.get("components") or [] if isinstance(c, dict)]
    dependencies = [d for d in doc.get("dependencies") or [] if isinstance(d, dict)]
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    own = [c for c in components if c.get("type") != "container"]
    if own:
        groups.append(("bundle", own))
    for container in components:
        if container.get("type") == "container":
            nested = [c for c in container.get("components") or [] if isinstance(c, dict)]
            groups.append((f"image {container.get('name', '')}", nested))
    parts: list[tuple[str, dict[str, Any]]] = []
    for label, members in groups:
        refs = {c.get("bom-ref") for c in _walk(members)}
        part = {**base, "components": members}
        kept = [d for d in dependencies if d.get("ref") in refs]
        if kept:
            part["dependencies"] = kept
        parts.append((label, part))
    return parts
