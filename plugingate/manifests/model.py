"""The bundle's Kubernetes objects, each with the file and line it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from plugingate.findings import Finding, Location
from plugingate.packaging.origin import Origin
from plugingate.safeyaml import JsonPath, YamlDocument


@dataclass(frozen=True, slots=True)
class ManifestObject:
    """One Kubernetes object. ``prefix`` is its place inside its YAML document (``("items", 3)`` in a List)."""

    api_version: str
    kind: str
    data: dict[str, Any]
    document: YamlDocument
    prefix: JsonPath = ()

    @property
    def group(self) -> str:
        """The API group (``""`` for the core group)."""
        return self.api_version.rsplit("/", 1)[0] if "/" in self.api_version else ""

    @property
    def name(self) -> str:
        """``metadata.name`` (``generateName`` or ``?`` when there is none)."""
        meta = self.metadata
        return str(meta.get("name") or meta.get("generateName") or "?")

    @property
    def namespace(self) -> str | None:
        """``metadata.namespace`` when set."""
        value = self.metadata.get("namespace")
        return str(value) if value is not None else None

    @property
    def metadata(self) -> dict[str, Any]:
        """``metadata``, empty when absent or not a map."""
        meta = self.data.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def path(self) -> str:
        """The file, relative to the bundle root."""
        return self.document.path

    @property
    def ref(self) -> str:
        """``Kind/name`` for messages."""
        return f"{self.kind}/{self.name}"

    def line(self, *json_path: str | int) -> int | None:
        """The line of a field of this object."""
        return self.document.line_of((*self.prefix, *json_path))

    def location(self, *json_path: str | int) -> Location:
        """The location of a field of this object."""
        return Location(self.path, self.line(*json_path))


@dataclass(frozen=True, slots=True)
class ManifestSet:
    """Every object of the plugin, in file order; ``files`` are the files read (relative to the root, or rendered)."""

    objects: tuple[ManifestObject, ...]
    files: tuple[str, ...]
    # NOTE: for a rendered form (kustomize, an operator bundle): findings about the form itself (without
    # objects: what refused it), and each rendered file's origin by the name it is shown as, so that
    # findings name the bundle's own file.
    form_findings: tuple[Finding, ...] = ()
    origins: Mapping[str, Origin] = field(default_factory=dict)
    tools: Mapping[str, str] = field(default_factory=dict)

    def tool_versions(self) -> dict[str, str]:
        """The tools that rendered a packaging form (``{"kustomize": "5.5.0"}``), for report.json's ``tools``."""
        return dict(self.tools)

    def of_kind(self, *kinds: str) -> list[ManifestObject]:
        """The objects of the given kinds."""
        return [o for o in self.objects if o.kind in kinds]
