"""Where a field of a rendered object came from, and findings moved back to that place.

A check reads the rendered copy (a file in the gate's work folder), so its finding points at a line
of that copy. ``relocate`` turns the line back into the field's path in the rendered object and asks
the object's ``Origin`` where that field was written: the base file of a kustomization, the patch that
set it, or the ClusterServiceVersion field an OLM object was made from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from plugingate.findings import Finding, Location
from plugingate.safeyaml import JsonPath, YamlDocument, format_path


@dataclass(frozen=True, slots=True)
class Source:
    """A place in the bundle: the file and line, and the field a reader should look at."""

    location: Location
    field: str


class Origin(Protocol):
    """Maps a field of one rendered object to the place in the bundle it came from."""

    def source_of(self, path: JsonPath) -> Source:
        """Where the field at ``path`` (inside the rendered object) was written."""
        ...


@dataclass(frozen=True, slots=True)
class FixedOrigin:
    """Every field of the object comes from one place (an object copied as it is)."""

    source: Source

    def source_of(self, path: JsonPath) -> Source:
        """The one place, whatever the field."""
        return self.source


def line_in(doc: YamlDocument, prefix: JsonPath, path: JsonPath, rendered: Any) -> int | None:
    """The line in ``doc`` (its object at ``prefix``) of the field the rendered object holds at ``path``.

    List items are matched by their ``name`` when they have one (kustomize merges containers by
    name, so a patch's first container may be the rendered object's third), else by position; the
    nearest field the source document has is used when it lacks the exact one.
    """
    source: Any = doc.data
    for part in prefix:
        if isinstance(source, dict) and isinstance(part, str):
            source = source.get(part)
        elif isinstance(source, list) and isinstance(part, int) and part < len(source):
            source = source[part]
        else:
            source = None
    here: list[str | int] = list(prefix)
    for part in path:
        if isinstance(part, int) and isinstance(rendered, list) and isinstance(source, list):
            item = rendered[part] if part < len(rendered) else None
            name = item.get("name") if isinstance(item, dict) else None
            index = next(
                (i for i, s in enumerate(source) if isinstance(s, dict) and name is not None and s.get("name") == name),
                part if name is None and part < len(source) else None,
            )
            if index is None:
                break
            here.append(index)
            rendered, source = item, source[index]
        elif isinstance(part, str) and isinstance(rendered, dict) and isinstance(source, dict) and part in source:
            here.append(part)
            rendered, source = rendered.get(part), source[part]
        else:
            break
    return doc.line_of(tuple(here))


def path_at_line(doc: YamlDocument, prefix: JsonPath, line: int | None) -> JsonPath:
    """The shortest field path (inside the object at ``prefix``) written on ``line``; () when none is."""
    if line is None:
        return ()
    best: JsonPath | None = None
    for path, at in doc.lines.items():
        if at == line and path[: len(prefix)] == tuple(prefix) and (best is None or len(path) < len(best)):
            best = path
    return tuple(best[len(prefix) :]) if best is not None else ()


@dataclass(frozen=True, slots=True)
class RenderedObjectRef:
    """A rendered object as the loader read it: its document, its place in it, and its origin."""

    document: YamlDocument
    prefix: JsonPath
    origin: Origin


def relocate(findings: Sequence[Finding], rendered: Mapping[str, RenderedObjectRef]) -> list[Finding]:
    """Each finding on a rendered copy, pointed at the bundle file and field it came from.

    The rendered copy's own place stays in the finding's ``rendered`` property, so a reader can
    still see the object exactly as it was checked.
    """
    out: list[Finding] = []
    for finding in findings:
        where = finding.location
        ref = rendered.get(where.path) if where is not None else None
        if where is None or ref is None:
            out.append(finding)
            continue
        path = path_at_line(ref.document, ref.prefix, where.line)
        source = ref.origin.source_of(path)
        properties = {**finding.properties, "rendered": str(where), "source": source.field}
        out.append(
            replace(
                finding,
                message=f"{finding.message} [from {source.field}]",
                location=source.location,
                properties=properties,
            )
        )
    return out


def field_name(base: str, path: JsonPath) -> str:
    """``base`` followed by ``path`` as a field (``spec.install.spec.deployments[0].spec.replicas``)."""
    if not path:
        return base
    return f"{base}{format_path(path)}" if isinstance(path[0], int) else f"{base}.{format_path(path)}"
