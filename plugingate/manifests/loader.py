"""Reading ``spec.manifests`` from an unpacked bundle: bounded, inside the root, every object typed.

The folder comes from the plugin's author, so it is walked without ever leaving the bundle root (a
symlink that points out is an error, one that points back in is read once), with limits on the
number of files, their total size and the number of objects, and with the bounded YAML loader.

That Python reading is held against a second one, Kubernetes' own (``kubedecode``), when the caller
hands a ``KubernetesReader`` (the gate always does): the objects are returned only when both readings
agree (``agreement``). Lists are unrolled the kubectl way, so both readings expand the same objects.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from plugingate.declaration import PLUGIN_FILE, Declaration
from plugingate.errors import InputError
from plugingate.files import read_bounded
from plugingate.manifests.agreement import check_agreement
from plugingate.manifests.kubedecode import KubernetesReader
from plugingate.manifests.model import ManifestObject, ManifestSet
from plugingate.safeyaml import JsonPath, YamlDocument, YamlLimits, load_yaml

if TYPE_CHECKING:
    from plugingate.tools.runner import ToolRunner

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


def load_manifests(
    root: Path,
    declaration: Declaration,
    limits: ManifestLimits = DEFAULT_LIMITS,
    *,
    second_reading: KubernetesReader | None = None,
    runner: ToolRunner | None = None,
) -> ManifestSet:
    """Read every manifest file ``spec.manifests`` names (files or folders, recursive, sorted).

    With ``second_reading``, the files are also decoded as Kubernetes decodes them (started before
    the Python reading, so both run at once) and any difference is an ``InputError`` (exit 2); a
    decoder that cannot run is a ``ToolError`` (exit 3).

    A plugin declared in another form (``spec.kustomize``, ``spec.operator``) is first rendered into
    files in a private work folder (``plugingate.packaging``, with ``runner``'s tools), which are then
    read exactly as plain manifest files are.
    """
    from plugingate.packaging import Form, form_of, render_form

    if form_of(declaration) is Form.MANIFESTS:
        return _Reader(root, declaration, limits, second_reading).read()
    with tempfile.TemporaryDirectory(prefix="plugingate-render-") as work:
        rendering = render_form(root, declaration, Path(work), runner)
        if not rendering.files:
            return ManifestSet(objects=(), files=(), form_findings=rendering.findings, tools=rendering.tools)
        # NOTE: the sources first, so that a field read two ways is refused at the author's own line.
        if second_reading is not None and rendering.sources:
            _agree(rendering.sources, second_reading, limits)
        reader = _Reader(root, declaration, limits, second_reading)
        reader.rendered = [(f.shown, f.path) for f in rendering.files]
        result = reader.read()
    origins = {f.shown: f.origin for f in rendering.files if f.origin is not None}
    return replace(result, form_findings=rendering.findings, origins=origins, tools=rendering.tools)


def manifest_files(
    root: Path, declaration: Declaration, limits: ManifestLimits = DEFAULT_LIMITS
) -> tuple[tuple[str, Path], ...]:
    """The files ``load_manifests`` reads (shown path, real path), without reading them.

    None for a rendered form: its files exist only once ``load_manifests`` has rendered them.
    """
    from plugingate.packaging import Form, form_of

    if form_of(declaration) is not Form.MANIFESTS:
        return ()
    reader = _Reader(root, declaration, limits, None)
    reader.collect()
    return tuple(reader.files)


class _Reader:
    def __init__(
        self, root: Path, declaration: Declaration, limits: ManifestLimits, second: KubernetesReader | None
    ) -> None:
        self.root = Path(os.path.realpath(root))
        self.declaration = declaration
        self.limits = limits
        self.second = second
        self.files: list[tuple[str, Path]] = []
        self.seen_files: set[Path] = set()
        self.seen_dirs: set[Path] = set()
        self.entries = 0
        self.rendered: list[tuple[str, Path]] | None = None

    def collect(self) -> None:
        if self.rendered is not None:
            self.files = list(self.rendered)
        for n, entry in enumerate(self.declaration.manifests):
            self._entry(entry, n)
        # NOTE: the sizes are checked before either reading starts: the Kubernetes reading runs
        # beside the Python one and must never be handed a file the gate would refuse for its size.
        total = 0
        for display, real in self.files:
            size = real.stat().st_size
            total += size
            if size > self.limits.max_file_bytes:
                raise InputError(
                    f"file is {size} bytes, more than the {self.limits.max_file_bytes} allowed",
                    path=display,
                    hint="a YAML file of this size is not a plugin description; check the bundle",
                )
            if total > self.limits.max_total_bytes:
                raise InputError(
                    f"the manifests are more than {self.limits.max_total_bytes} bytes together",
                    path=display,
                    hint="a plugin's Kubernetes manifests are small; check what spec.manifests points at",
                )

    def read(self) -> ManifestSet:
        self.collect()
        pending = self.second.start(self.files) if self.second is not None and self.files else None
        objects = self._read_python()
        if pending is not None:
            check_agreement([d for d, _ in self.files], objects, pending.result())
        return ManifestSet(objects=tuple(objects), files=tuple(d for d, _ in self.files))

    def _read_python(self) -> list[ManifestObject]:
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
            objects.extend(python_reading(raw, display, yaml_limits))
            if len(objects) > self.limits.max_objects:
                raise InputError(f"more than {self.limits.max_objects} Kubernetes objects", path=display)
        return objects

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


def _agree(sources: tuple[tuple[str, Path], ...], second: KubernetesReader, limits: ManifestLimits) -> None:
    """Kubernetes' reading of the files a form was made from agrees with the gate's (else ``InputError``).

    NOTE: the objects made from an OLM CSV are only as sure as the gate's reading of the CSV: a field
    Kubernetes reads otherwise (``y`` is true to it, a string to the gate) is refused at its own line.
    """
    pending = second.start(sources)
    objects: list[ManifestObject] = []
    for shown, real in sources:
        raw = read_bounded(real, limits.max_file_bytes, "the manifest", shown_as=shown)
        objects.extend(python_reading(raw, shown, YamlLimits(max_bytes=limits.max_file_bytes)))
    check_agreement([shown for shown, _ in sources], objects, pending.result())


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def python_reading(raw: bytes, path: str, limits: YamlLimits | None = None) -> list[ManifestObject]:
    """The objects of one manifest file as the gate's own reading sees them (lists unrolled the kubectl way)."""
    objects: list[ManifestObject] = []
    for doc in load_yaml(raw, path=path, limits=limits):
        objects.extend(_objects(doc))
    return objects


def _objects(doc: YamlDocument) -> list[ManifestObject]:
    """The objects kubectl applies from one document: a list (any object with ``items``) is unrolled.

    kubectl's decoder takes any object that has an ``items`` key for a list, whatever its kind
    (``kind: ConfigMap`` included), and applies its items instead of it: ``items: null`` applies
    nothing, an item with neither ``kind`` nor ``apiVersion`` takes the list's (``PodList`` gives
    ``Pod``), and a list inside a list is an error. The gate reads them the same way, so that what it
    checks is what the cluster gets.
    """
    data = doc.data
    _require_map(doc, data, ())
    if "items" not in data:
        return [_object(doc, data, ())]
    api_version, kind = _type_of(doc, data, ())
    items = data["items"]
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError(
            f"'items' is a {type(items).__name__}: kubectl reads any object with 'items' as a list of objects",
            path=doc.path,
            line=doc.line_of(("items",)),
            field="items",
        )
    out: list[ManifestObject] = []
    for i, item in enumerate(items):
        prefix: JsonPath = ("items", i)
        _require_map(doc, item, prefix)
        if isinstance(item.get("items"), list):
            raise InputError(
                "a list inside a list: kubectl refuses it (no Items field); expected complete objects",
                path=doc.path,
                line=doc.line_of(prefix),
                field=f"items[{i}]",
            )
        if not _text(item.get("kind")) and not _text(item.get("apiVersion")):
            # NOTE: kubectl's unstructured decoder gives such an item the list's type.
            item = {**item, "kind": kind.removesuffix("List"), "apiVersion": api_version}
        out.append(_object(doc, item, prefix))
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _require_map(doc: YamlDocument, data: Any, prefix: JsonPath) -> None:
    if not isinstance(data, dict):
        raise InputError(
            f"expected a Kubernetes object (a map with apiVersion and kind), found {type(data).__name__}",
            path=doc.path,
            line=doc.line_of(prefix),
        )


def _type_of(doc: YamlDocument, data: dict[str, Any], prefix: JsonPath) -> tuple[str, str]:
    api_version, kind = data.get("apiVersion"), data.get("kind")
    missing = [k for k, v in (("apiVersion", api_version), ("kind", kind)) if not isinstance(v, str) or not v]
    if missing:
        raise InputError(
            f"object without {' and '.join(missing)}; every Kubernetes object needs both",
            path=doc.path,
            line=doc.line_of(prefix),
        )
    assert isinstance(api_version, str) and isinstance(kind, str)
    return api_version, kind


def _object(doc: YamlDocument, data: dict[str, Any], prefix: JsonPath) -> ManifestObject:
    api_version, kind = _type_of(doc, data, prefix)
    return ManifestObject(api_version=api_version, kind=kind, data=data, document=doc, prefix=prefix)
