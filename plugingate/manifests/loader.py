"""Reading ``spec.manifests`` from an unpacked bundle: bounded, inside the root, every object typed.

The folder comes from the plugin's author, so it is walked without ever leaving the bundle root (a
symlink that points out is an error, one that points back in is read once), with limits on the
number of files, their total size and the number of objects, and with the bounded YAML loader.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from plugingate.declaration import PLUGIN_FILE, Declaration
from plugingate.errors import InputError
from plugingate.files import read_bounded
from plugingate.manifests.model import ManifestObject, ManifestSet
from plugingate.safeyaml import JsonPath, YamlDocument, YamlLimits, load_yaml

EXTENSIONS = (".yaml", ".yml", ".json")


@dataclass(frozen=True, slots=True)
class ManifestLimits:
    """Bounds on what ``spec.manifests`` may hold; no honest plugin comes near them."""

    max_files: int = 1000
    max_entries: int = 20_000
    max_file_bytes: int = 4 << 20
    max_total_bytes: int = 32 << 20
    max_objects: int = 5000


DEFAULT_LIMITS = ManifestLimits()


def load_manifests(root: Path, declaration: Declaration, limits: ManifestLimits = DEFAULT_LIMITS) -> ManifestSet:
    """Read every manifest file ``spec.manifests`` names (files or folders, recursive, sorted)."""
    reader = _Reader(root, declaration, limits)
    return reader.read()


class _Reader:
    def __init__(self, root: Path, declaration: Declaration, limits: ManifestLimits) -> None:
        self.root = Path(os.path.realpath(root))
        self.declaration = declaration
        self.limits = limits
        self.files: list[tuple[str, Path]] = []
        self.seen_files: set[Path] = set()
        self.seen_dirs: set[Path] = set()
        self.entries = 0

    def read(self) -> ManifestSet:
        for n, entry in enumerate(self.declaration.manifests):
            self._entry(entry, n)
        objects: list[ManifestObject] = []
        total = 0
        yaml_limits = YamlLimits(max_bytes=self.limits.max_file_bytes)
        for display, real in self.files:
            size = real.stat().st_size
            total += size
            if total > self.limits.max_total_bytes:
                raise InputError(
                    f"the manifests are more than {self.limits.max_total_bytes} bytes together",
                    path=display,
                    hint="a plugin's Kubernetes manifests are small; check what spec.manifests points at",
                )
            raw = read_bounded(real, self.limits.max_file_bytes, "the manifest", shown_as=display)
            for doc in load_yaml(raw, path=display, limits=yaml_limits):
                objects.extend(_objects(doc, doc.data, ()))
                if len(objects) > self.limits.max_objects:
                    raise InputError(f"more than {self.limits.max_objects} Kubernetes objects", path=display)
        return ManifestSet(objects=tuple(objects), files=tuple(d for d, _ in self.files))

    def _where(self, n: int) -> tuple[str, int | None, str]:
        if len(self.declaration.manifests) == 1 and isinstance(
            self.declaration.document.data.get("spec", {}).get("manifests"), str
        ):
            return self.declaration.path, self.declaration.line("spec", "manifests"), "spec.manifests"
        return self.declaration.path, self.declaration.line("spec", "manifests", n), f"spec.manifests[{n}]"

    def _entry(self, entry: str, n: int) -> None:
        path, line, field = self._where(n)
        pure = PurePosixPath(entry)
        if pure.is_absolute() or ".." in pure.parts:
            raise InputError(
                f"{entry!r} leaves the bundle; expected a path inside it such as deploy/",
                path=path,
                line=line,
                field=field,
            )
        target = self.root.joinpath(*pure.parts)
        real = Path(os.path.realpath(target))
        if not _inside(real, self.root):
            raise InputError(f"{entry!r} resolves outside the bundle (a symlink?)", path=path, line=line, field=field)
        if real.is_dir():
            self._walk(real, PurePosixPath(*pure.parts) if pure.parts else PurePosixPath("."))
        elif real.is_file():
            self._add(str(PurePosixPath(*pure.parts)), real)
        else:
            raise InputError(
                f"{entry!r} is not in the bundle; expected a file or folder of Kubernetes manifests",
                path=path,
                line=line,
                field=field,
            )

    def _walk(self, folder: Path, display: PurePosixPath) -> None:
        if folder in self.seen_dirs:
            return
        self.seen_dirs.add(folder)
        children = sorted(os.scandir(folder), key=lambda e: e.name)
        for child in children:
            self.entries += 1
            if self.entries > self.limits.max_entries:
                raise InputError(f"more than {self.limits.max_entries} entries under spec.manifests", path=str(display))
            shown = display / child.name
            real = Path(os.path.realpath(child.path)) if child.is_symlink() else Path(child.path)
            if child.is_symlink() and not _inside(real, self.root):
                raise InputError(
                    "symlink points outside the bundle; expected every manifest inside it", path=str(shown)
                )
            if real.is_dir():
                self._walk(real, shown)
            elif real.is_file() and child.name.lower().endswith(EXTENSIONS):
                self._add(str(shown), real)

    def _add(self, display: str, real: Path) -> None:
        # NOTE: `manifests: .` walks the whole bundle; plugin.yaml itself is not a Kubernetes object.
        if real in self.seen_files or real == self.root / PLUGIN_FILE:
            return
        self.seen_files.add(real)
        if len(self.files) >= self.limits.max_files:
            raise InputError(f"more than {self.limits.max_files} manifest files", path=display)
        self.files.append((display.removeprefix("./"), real))


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _objects(doc: YamlDocument, data: Any, prefix: JsonPath, depth: int = 0) -> list[ManifestObject]:
    """The objects of one document; a ``List`` (``kind: List`` or ``…List`` with ``items``) is unrolled."""
    line = doc.line_of(prefix)
    if not isinstance(data, dict):
        raise InputError(
            f"expected a Kubernetes object (a map with apiVersion and kind), found {type(data).__name__}",
            path=doc.path,
            line=line,
        )
    api_version, kind = data.get("apiVersion"), data.get("kind")
    missing = [k for k, v in (("apiVersion", api_version), ("kind", kind)) if not isinstance(v, str) or not v]
    if missing:
        raise InputError(
            f"object without {' and '.join(missing)}; every Kubernetes object needs both",
            path=doc.path,
            line=line,
        )
    assert isinstance(api_version, str) and isinstance(kind, str)
    if kind == "List" or (kind.endswith("List") and isinstance(data.get("items"), list)):
        items = data.get("items") or []
        if not isinstance(items, list):
            raise InputError("a List's items must be a list", path=doc.path, line=doc.line_of((*prefix, "items")))
        if depth > 2:
            raise InputError("Lists nested more than twice", path=doc.path, line=line)
        out: list[ManifestObject] = []
        for i, item in enumerate(items):
            out.extend(_objects(doc, item, (*prefix, "items", i), depth + 1))
        return out
    return [ManifestObject(api_version=api_version, kind=kind, data=data, document=doc, prefix=prefix)]
