"""``spec.kustomize``: a kustomization built with the real kustomize, confined to the bundle.

Before kustomize runs, every kustomization it would read is walked here (``_Scan``): a resource,
component or base must be a file or folder of the bundle (no URL, no git reference, nothing missing
that kustomize would then try to fetch), no path may leave the bundle, no folder may hold a symlink,
and no generator, transformer or validator may be a plugin or KRM function; helmCharts are refused.
Anything else is refused with a PG-KUS finding and kustomize never runs.

Then only the folders of those kustomizations are copied, byte for byte, into the gate's private
work folder beside a wrapper kustomization (``resources: [the root]``, ``buildMetadata:
[originAnnotations]``), so the bundle is never edited and kustomize can reach nothing else. kustomize
runs with no plugins (no ``--enable-alpha-plugins``, ``--enable-exec``, ``--enable-helm``), the
root-only load restrictor, a scrubbed environment, a timeout and bounded output. The origin
annotations name each object's base file; they are stripped before the checks, so the objects
checked equal what ``kustomize build`` of the bundle prints. A field a patch set is found by building
once more without that patch, and a finding on it names the patch.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from plugingate.errors import InputError, ToolError
from plugingate.files import read_bounded
from plugingate.findings import Finding, Location
from plugingate.packaging.origin import Source, field_name, line_in
from plugingate.packaging.rendering import RenderedFile, Rendering
from plugingate.packaging.rules import KUSTOMIZE_ESCAPE, KUSTOMIZE_FUNCTION, KUSTOMIZE_HELM, KUSTOMIZE_REMOTE
from plugingate.safeyaml import JsonPath, YamlDocument, YamlLimits, load_one, load_yaml

if TYPE_CHECKING:
    from plugingate.declaration import Declaration
    from plugingate.tools.runner import ToolRunner

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
HELM_FIELDS = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")
PLUGIN_FIELDS = ("generators", "transformers", "validators")
FUNCTION_ANNOTATIONS = ("config.kubernetes.io/function", "config.k8s.io/function")
# NOTE: kustomize's built-in generator and transformer kinds (api/krusty, v5.5.0): any other kind in
# generators/transformers is a plugin, which the gate never enables.
BUILTIN_KINDS = frozenset(
    {
        "AnnotationsTransformer",
        "ConfigMapGenerator",
        "HashTransformer",
        "ImageTagTransformer",
        "LabelTransformer",
        "NamespaceTransformer",
        "PatchJson6902Transformer",
        "PatchStrategicMergeTransformer",
        "PatchTransformer",
        "PrefixSuffixTransformer",
        "PrefixTransformer",
        "ReplacementTransformer",
        "ReplicaCountTransformer",
        "SecretGenerator",
        "SortOrderTransformer",
        "SuffixTransformer",
        "ValueAddTransformer",
    }
)
TIMEOUT = 60.0
STDOUT_LIMIT = 32 << 20
MAX_COPIED_FILES = 2000
MAX_COPIED_BYTES = 32 << 20
# NOTE: no kustomization reads a file this large (an image archive beside it, say): it is not copied,
# and kustomize, which sees only the copy, fails if it needs it.
MAX_COPIED_FILE = 4 << 20
# NOTE: one extra build per patch names the patch behind a field; past this many patches the fields
# are named by their base file only (the checks are the same either way).
MAX_ATTRIBUTED_PATCHES = 24
_LIMITS = YamlLimits(max_bytes=1 << 20)
# NOTE: the work folder holds the copy (COPY/<bundle path>) beside the wrapper (WRAPPER/), so that no
# bundle folder's name can collide with the wrapper's.
_COPY = "bundle"
_WRAPPER = "wrapper"


@dataclass(frozen=True, slots=True)
class Patch:
    """One patch of one kustomization: where it is declared, and its file when it has one."""

    kustomization: str
    list_field: str
    index: int
    line: int | None
    file: str | None
    spelled: str = ""

    @property
    def name(self) -> str:
        """``deploy/overlay/kustomization.yaml: patches[0] (deploy/overlay/cap.yaml)``."""
        where = f"{self.kustomization}: {self.list_field}[{self.index}]"
        return f"{where} ({self.file})" if self.file else where


@dataclass(slots=True)
class _Scan:
    """The kustomizations a build reads, checked before kustomize runs."""

    root: Path
    folders: list[PurePosixPath] = field(default_factory=list)
    kustomizations: dict[PurePosixPath, str] = field(default_factory=dict)
    patches: list[Patch] = field(default_factory=list)
    refusals: list[Finding] = field(default_factory=list)
    origin_annotations: bool = False
    # NOTE: how each kustomization spells a field it holds (kustomize reads RESOURCES as resources).
    spelled: dict[tuple[str, str], str] = field(default_factory=dict)

    def visit(self, folder: PurePosixPath, shown: str, line: int | None) -> None:
        if folder in self.folders:
            return
        real = self.root.joinpath(*folder.parts)
        names = [n for n in KUSTOMIZATION_NAMES if (real / n).is_file() or (real / n).is_symlink()]
        if len(names) != 1:
            problem = "holds no kustomization.yaml" if not names else f"holds {' and '.join(names)}"
            raise InputError(
                f"{_show(folder)} {problem}; kustomize needs exactly one",
                path=shown,
                line=line,
                hint="spec.kustomize.path names a folder with one kustomization.yaml",
            )
        self.folders.append(folder)
        self._symlinks(folder)
        file = folder / names[0]
        kfile = str(file)
        self.kustomizations[folder] = kfile
        if (self.root.joinpath(*file.parts)).is_symlink():
            return
        raw = read_bounded(self.root.joinpath(*file.parts), _LIMITS.max_bytes, "the kustomization", shown_as=kfile)
        doc = _canonical(load_one(raw, path=kfile, limits=_LIMITS))
        data: dict[str, Any] = doc.data
        for name in ("patches", "patchesStrategicMerge", "patchesJson6902"):
            spelled = next((k for k in raw_keys(raw, kfile) if str(k).casefold() == name.casefold()), name)
            self.spelled[(kfile, name)] = spelled
        meta = data.get("buildMetadata")
        if isinstance(meta, list) and "originAnnotations" in meta:
            self.origin_annotations = True
        for key in HELM_FIELDS:
            if key in data:
                self._refuse(KUSTOMIZE_HELM, f"{key} would run helm inside kustomize", doc, (key,))
        for key in PLUGIN_FIELDS:
            for i, entry in enumerate(_items(data.get(key))):
                self._plugin(folder, doc, (key, i), entry)
        for key in ("resources", "components", "bases", "crds"):
            for i, entry in enumerate(_items(data.get(key))):
                target = self._local(folder, doc, (key, i), entry)
                if target is not None and self.root.joinpath(*target.parts).is_dir():
                    self.visit(target, kfile, doc.line_of((key, i)))
        for i, entry in enumerate(_items(data.get("patches"))):
            path = entry.get("path") if isinstance(entry, dict) else None
            self._patch(folder, doc, "patches", i, path)
        for i, entry in enumerate(_items(data.get("patchesStrategicMerge"))):
            inline = isinstance(entry, dict) or (isinstance(entry, str) and "\n" in entry)
            self._patch(folder, doc, "patchesStrategicMerge", i, None if inline else entry)
        for i, entry in enumerate(_items(data.get("patchesJson6902"))):
            self._patch(folder, doc, "patchesJson6902", i, entry.get("path") if isinstance(entry, dict) else None)
        for key in ("configMapGenerator", "secretGenerator"):
            for i, gen in enumerate(_items(data.get(key))):
                if not isinstance(gen, dict):
                    continue
                for sub in ("files", "envs"):
                    for j, item in enumerate(_items(gen.get(sub))):
                        if isinstance(item, str):
                            self._local(folder, doc, (key, i, sub, j), item.split("=", 1)[-1])
                if isinstance(gen.get("env"), str):
                    self._local(folder, doc, (key, i, "env"), gen["env"])
        for i, entry in enumerate(_items(data.get("configurations"))):
            self._local(folder, doc, ("configurations", i), entry)
        for i, entry in enumerate(_items(data.get("replacements"))):
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                self._local(folder, doc, ("replacements", i, "path"), entry["path"])
        openapi = data.get("openapi")
        if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
            self._local(folder, doc, ("openapi", "path"), openapi["path"])

    def _refuse(self, rule: Any, message: str, doc: YamlDocument, path: JsonPath) -> None:
        line = doc.line_of(path) or 1
        self.refusals.append(
            rule.finding(
                f"{doc.path}: {field_name('', path).lstrip('.')}: {message}",
                location=Location(doc.path, line),
            )
        )

    def _local(self, folder: PurePosixPath, doc: YamlDocument, where: JsonPath, entry: Any) -> PurePosixPath | None:
        """The bundle path ``entry`` names from ``folder``, or None after refusing it."""
        if not isinstance(entry, str) or not entry.strip():
            raise InputError(
                "expected a path inside the bundle", path=doc.path, line=doc.line_of(where), field=_field(where)
            )
        text = entry.strip()
        pure = PurePosixPath(text)
        if "://" in text or text.startswith(("git@", "ssh:", "github.com/", "gitlab.com/")) or "?ref=" in text:
            self._refuse(KUSTOMIZE_REMOTE, f"{text!r} is remote: kustomize would fetch it at build time", doc, where)
            return None
        if pure.is_absolute():
            self._refuse(KUSTOMIZE_ESCAPE, f"{text!r} is an absolute path outside the bundle", doc, where)
            return None
        parts: list[str] = list(folder.parts)
        for part in pure.parts:
            if part == "..":
                if not parts:
                    self._refuse(KUSTOMIZE_ESCAPE, f"{text!r} climbs above the bundle root", doc, where)
                    return None
                parts.pop()
            elif part != ".":
                parts.append(part)
        target = PurePosixPath(*parts) if parts else PurePosixPath(".")
        real = self.root.joinpath(*target.parts)
        if real.is_symlink() or any(self.root.joinpath(*target.parts[:n]).is_symlink() for n in range(1, len(parts))):
            self._refuse(KUSTOMIZE_ESCAPE, f"{text!r} goes through a symlink", doc, where)
            return None
        if not real.exists():
            self._refuse(
                KUSTOMIZE_REMOTE,
                f"{text!r} is not a file or folder of the bundle; kustomize would try to fetch it",
                doc,
                where,
            )
            return None
        return target

    def _patch(self, folder: PurePosixPath, doc: YamlDocument, key: str, i: int, path: Any) -> None:
        file: str | None = None
        if isinstance(path, str):
            target = self._local(folder, doc, (key, i) if key == "patchesStrategicMerge" else (key, i, "path"), path)
            file = str(target) if target is not None else None
        spelled = self.spelled.get((doc.path, key), key)
        self.patches.append(Patch(doc.path, key, i, doc.line_of((key, i)), file, spelled))

    def _plugin(self, folder: PurePosixPath, doc: YamlDocument, where: JsonPath, entry: Any) -> None:
        """A generator/transformer/validator entry: refused unless a built-in kind without function annotations."""
        if isinstance(entry, str) and "\n" not in entry:
            target = self._local(folder, doc, where, entry)
            if target is None:
                return
            real = self.root.joinpath(*target.parts)
            if real.is_dir():
                # NOTE: a kustomization folder used as a generator/transformer: its own output, scanned as one.
                self.visit(target, doc.path, doc.line_of(where))
                return
            raw = read_bounded(real, _LIMITS.max_bytes, "a kustomize transformer", shown_as=str(target))
            configs = [d.data for d in load_yaml(raw, path=str(target), limits=_LIMITS)]
        elif isinstance(entry, str):
            configs = [d.data for d in load_yaml(entry.encode(), path=doc.path, limits=_LIMITS)]
        else:
            configs = [entry]
        for config in configs:
            if not isinstance(config, dict):
                continue
            meta: dict[str, Any] = config["metadata"] if isinstance(config.get("metadata"), dict) else {}
            annotations: dict[str, Any] = meta["annotations"] if isinstance(meta.get("annotations"), dict) else {}
            function = [a for a in FUNCTION_ANNOTATIONS if a in annotations]
            kind = config.get("kind")
            if function:
                self._refuse(KUSTOMIZE_FUNCTION, f"{kind} is a KRM function ({function[0]})", doc, where)
            elif kind not in BUILTIN_KINDS:
                self._refuse(
                    KUSTOMIZE_FUNCTION, f"{kind!r} is not a built-in kustomize kind: it would be a plugin", doc, where
                )

    def _symlinks(self, folder: PurePosixPath) -> None:
        for dirpath, dirnames, filenames in os.walk(self.root.joinpath(*folder.parts)):
            for name in (*dirnames, *filenames):
                full = Path(dirpath) / name
                if full.is_symlink():
                    shown = str(PurePosixPath(full.relative_to(self.root).as_posix()))
                    self.refusals.append(
                        KUSTOMIZE_ESCAPE.finding(
                            f"{shown} is a symlink in a kustomize folder: kustomize and the gate could read "
                            "different files; replace it by the file",
                            location=Location(self.kustomizations.get(folder, shown), 1),
                        )
                    )


# NOTE: the Kustomization fields the scan reads, and the fields of their entries. kustomize decodes a
# kustomization as Go's encoding/json does: a key matches a field whatever its case (Unicode case
# folding: `RESOURCES`, `Resources`, and `re\u017fources` with a long s, are all `resources`), and a
# later key overwrites an earlier one. The scan reads them the same way, and refuses two keys that
# are one field.
TOP_FIELDS = (
    "resources",
    "components",
    "bases",
    "crds",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "configurations",
    "replacements",
    "openapi",
    "buildMetadata",
    *HELM_FIELDS,
    *PLUGIN_FIELDS,
)
ENTRY_FIELDS = {
    "patches": ("path", "patch"),
    "patchesJson6902": ("path",),
    "configMapGenerator": ("files", "envs", "env"),
    "secretGenerator": ("files", "envs", "env"),
    "replacements": ("path",),
}


def _canonical(doc: YamlDocument) -> YamlDocument:
    """The kustomization with the fields the scan reads spelled as kustomize's Go structs name them.

    Lines follow the renamed fields, so findings still point at the author's own spelling.
    """
    if not isinstance(doc.data, dict):
        raise InputError("a kustomization is a map (resources:, patches:, …)", path=doc.path, line=1)
    renames: dict[JsonPath, JsonPath] = {}
    data = _renamed(doc, doc.data, TOP_FIELDS, (), renames)
    for name, fields in ENTRY_FIELDS.items():
        for i, entry in enumerate(_items(data.get(name))):
            if isinstance(entry, dict):
                data[name][i] = _renamed(doc, entry, fields, (name, i), renames)
    if isinstance(data.get("openapi"), dict):
        data["openapi"] = _renamed(doc, data["openapi"], ("path",), ("openapi",), renames)
    lines: dict[JsonPath, int] = {}
    for path, line in doc.lines.items():
        for n in range(len(path), 0, -1):
            if path[:n] in renames:
                path = (*renames[path[:n]], *path[n:])
                break
        lines[path] = line
    return YamlDocument(data=data, path=doc.path, lines=lines, index=doc.index)


def _renamed(
    doc: YamlDocument,
    mapping: dict[str, Any],
    fields: tuple[str, ...],
    here: JsonPath,
    renames: dict[JsonPath, JsonPath],
) -> dict[str, Any]:
    by_fold = {name.casefold(): name for name in fields}
    out: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for key, value in mapping.items():
        canonical = by_fold.get(str(key).casefold())
        if canonical is None:
            out[key] = value
            continue
        if canonical in seen:
            raise InputError(
                f"{seen[canonical]!r} and {key!r} are the same field to kustomize, which ignores case; "
                "expected it once",
                path=doc.path,
                line=doc.line_of((*here, key)),
                field=_field((*here, canonical)),
            )
        seen[canonical] = key
        out[canonical] = value
        if key != canonical:
            renames[(*here, key)] = (*here, canonical)
    return out


def raw_keys(raw: bytes, path: str) -> list[Any]:
    """The top-level keys of a kustomization as written (the last spelling of a field is the one kustomize keeps)."""
    data = load_one(raw, path=path, limits=_LIMITS).data
    return list(reversed(list(data))) if isinstance(data, dict) else []


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _field(where: JsonPath) -> str:
    return field_name("", where).lstrip(".")


def _show(folder: PurePosixPath) -> str:
    return str(folder) if str(folder) != "." else "the bundle root"


def render_kustomize(root: Path, declaration: Declaration, work: Path, runner: ToolRunner | None = None) -> Rendering:
    """Build ``spec.kustomize.path`` with kustomize into one file per object under ``work``."""
    assert declaration.kustomize is not None
    bundle = Path(os.path.realpath(root))
    shown_field = "spec.kustomize.path"
    line = declaration.line("spec", "kustomize", "path")
    start = _start(bundle, declaration.kustomize, declaration.path, line)
    scan = _Scan(bundle)
    scan.visit(start, declaration.path, line)
    if scan.refusals:
        return Rendering(findings=tuple(scan.refusals))
    stage = work / "src"
    _copy(bundle, scan.folders, stage / _COPY)
    wrapper = stage / _WRAPPER
    wrapper.mkdir()
    up = f"../{_COPY}/{start}" if str(start) != "." else f"../{_COPY}"
    (wrapper / "kustomization.yaml").write_text(
        json.dumps({"resources": [up], "buildMetadata": ["originAnnotations"]}), encoding="utf-8"
    )
    from plugingate.tools import Tool, ToolRunner

    tool_runner = runner or ToolRunner()
    objects = _build(tool_runner, wrapper, shown_field)
    attribution = _attribute(tool_runner, stage, wrapper, scan, objects)
    out = work / "rendered"
    out.mkdir()
    files: list[RenderedFile] = []
    sources: dict[str, YamlDocument | None] = {}
    for n, obj in enumerate(objects):
        origin_path = _origin_path(obj)
        base = _bundle_path(origin_path) if origin_path else None
        data = obj if scan.origin_annotations else _strip(obj)
        kind, name = str(data.get("kind", "object")), str((data.get("metadata") or {}).get("name", n))
        file = out / f"{n:04d}.yaml"
        file.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False), encoding="utf-8")
        generated = _generated_by(obj)
        origin = KustomizeOrigin(
            bundle=bundle,
            base=base,
            generated_by=generated,
            rendered=data,
            patches=attribution.get(n, ()),
            sources=sources,
        )
        shown = f"kustomize:{start}/{n:04d}-{kind}-{name}.yaml"
        files.append(RenderedFile(shown=shown, path=file, origin=origin))
    return Rendering(files=tuple(files), tools={"kustomize": tool_runner.info(Tool.KUSTOMIZE).version})


def _start(bundle: Path, entry: str, plugin: str, line: int | None) -> PurePosixPath:
    pure = PurePosixPath(entry)
    if pure.is_absolute() or ".." in pure.parts:
        raise InputError(
            f"{entry!r} leaves the bundle; expected a folder inside it such as deploy/overlay",
            path=plugin,
            line=line,
            field="spec.kustomize.path",
        )
    real = Path(os.path.realpath(bundle.joinpath(*pure.parts)))
    if real != bundle and bundle not in real.parents:
        raise InputError(f"{entry!r} resolves outside the bundle (a symlink?)", path=plugin, line=line)
    if not real.is_dir():
        raise InputError(
            f"{entry!r} is not a folder of the bundle",
            path=plugin,
            line=line,
            field="spec.kustomize.path",
            hint="spec.kustomize.path names the folder that holds kustomization.yaml",
        )
    return PurePosixPath(*pure.parts) if pure.parts else PurePosixPath(".")


def _copy(bundle: Path, folders: list[PurePosixPath], stage: Path) -> None:
    """The kustomization folders, byte for byte, into ``stage`` (bounded; the scan refused symlinks)."""
    count, total = 0, 0
    for folder in sorted(set(folders), key=lambda f: len(f.parts)):
        source = bundle.joinpath(*folder.parts)
        for dirpath, _, filenames in os.walk(source):
            for name in filenames:
                real = Path(dirpath) / name
                rel = real.relative_to(bundle)
                target = stage / rel
                if target.exists():
                    continue
                size = real.stat().st_size
                if size > MAX_COPIED_FILE:
                    continue
                count += 1
                total += size
                if count > MAX_COPIED_FILES or total > MAX_COPIED_BYTES:
                    raise InputError(
                        f"the kustomize folders hold more than {MAX_COPIED_FILES} files or {MAX_COPIED_BYTES} bytes",
                        path=str(folder),
                        hint="keep the kustomization's folders to the manifests it builds",
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(real, target, follow_symlinks=False)


def _build(runner: ToolRunner, wrapper: Path, shown: str) -> list[dict[str, Any]]:
    """``kustomize build`` of the wrapper: its objects, or an error naming kustomize's message."""
    from plugingate.tools import Tool
    from plugingate.tools.runner import last_lines

    run = runner.run(
        Tool.KUSTOMIZE,
        ["build", "--load-restrictor", "LoadRestrictionsRootOnly", str(wrapper)],
        timeout=TIMEOUT,
        stdout_limit=STDOUT_LIMIT,
    )
    if run.returncode != 0:
        message = last_lines(run.stderr).replace(str(wrapper.parent / _COPY), "<bundle>")
        raise InputError(
            f"kustomize {run.version} could not build it: {message}",
            field=shown,
            hint="run `kustomize build` on the folder to see the problem; the gate builds it as kustomize does",
        )
    docs = load_yaml(run.stdout, path="kustomize build", limits=YamlLimits(max_bytes=STDOUT_LIMIT, max_documents=5000))
    objects = [d.data for d in docs if d.data is not None]
    for obj in objects:
        if not isinstance(obj, dict):
            raise ToolError("kustomize printed something that is not an object", tool=str(Tool.KUSTOMIZE))
    return objects


def _origin(obj: dict[str, Any]) -> dict[str, Any]:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(ORIGIN_ANNOTATION)
    if not isinstance(text, str):
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _origin_path(obj: dict[str, Any]) -> str | None:
    value = _origin(obj).get("path")
    return value if isinstance(value, str) else None


def _bundle_path(relative: str) -> str:
    """A path the origin annotation gives (relative to the wrapper folder) as a bundle path."""
    parts: list[str] = [_WRAPPER]
    for part in PurePosixPath(relative).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    if parts[:1] == [_COPY]:
        parts = parts[1:]
    return str(PurePosixPath(*parts)) if parts else "."


def _generated_by(obj: dict[str, Any]) -> str | None:
    origin = _origin(obj)
    configured = origin.get("configuredIn")
    if not isinstance(configured, str):
        return None
    by: dict[str, Any] = origin["configuredBy"] if isinstance(origin.get("configuredBy"), dict) else {}
    return f"{_bundle_path(configured)} ({by.get('kind', 'generator')})"


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without the origin annotation the gate asked for (as ``kustomize build`` prints it)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("annotations"), dict):
        return obj
    annotations = {k: v for k, v in meta["annotations"].items() if k != ORIGIN_ANNOTATION}
    new_meta = {k: v for k, v in meta.items() if k != "annotations"}
    if annotations:
        new_meta = {**meta, "annotations": annotations}
    return {**obj, "metadata": new_meta}


def _key(obj: dict[str, Any], seen: dict[tuple[str, str], int]) -> tuple[str, str, int]:
    kind = str(obj.get("kind"))
    origin = _origin_path(obj) or json.dumps(_origin(obj), sort_keys=True)
    n = seen.get((kind, origin), 0)
    seen[(kind, origin)] = n + 1
    return kind, origin, n


def _attribute(
    runner: ToolRunner, stage: Path, wrapper: Path, scan: _Scan, objects: list[dict[str, Any]]
) -> dict[int, tuple[tuple[Patch, frozenset[JsonPath]], ...]]:
    """For each object, the patches that set fields of it and those fields (one build without each patch)."""
    if not scan.patches or len(scan.patches) > MAX_ATTRIBUTED_PATCHES:
        return {}
    seen: dict[tuple[str, str], int] = {}
    index = {_key(obj, seen): n for n, obj in enumerate(objects)}
    found: dict[int, list[tuple[Patch, frozenset[JsonPath]]]] = {}
    for patch in scan.patches:
        kfile = stage / _COPY / patch.kustomization
        original = kfile.read_bytes()
        # NOTE: the byte-for-byte copy of a kustomization the scan read (and bounded) with the same loader.
        data = load_one(original, path=patch.kustomization, limits=_LIMITS).data
        entries = data.get(patch.spelled or patch.list_field)
        if not isinstance(entries, list) or patch.index >= len(entries):
            continue
        del entries[patch.index]
        # NOTE: written as JSON (which kustomize reads as YAML): only this build's attribution depends
        # on it; the objects checked come from the bundle's own bytes.
        kfile.write_text(json.dumps(data), encoding="utf-8")
        try:
            without = _build(runner, wrapper, patch.name)
        except InputError:
            without = []
        finally:
            kfile.write_bytes(original)
        seen = {}
        others = {_key(obj, seen): obj for obj in without}
        for key, n in index.items():
            other = others.get(key)
            paths = frozenset({()}) if other is None else frozenset(_differences(objects[n], other))
            paths = frozenset(p for p in paths if p[:3] != ("metadata", "annotations", ORIGIN_ANNOTATION))
            if paths:
                found.setdefault(n, []).append((patch, paths))
    return {n: tuple(v) for n, v in found.items()}


def _differences(ours: Any, theirs: Any, here: JsonPath = ()) -> Iterator[JsonPath]:
    """The highest paths where ``ours`` holds something ``theirs`` does not (list items matched by name)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key, value in ours.items():
            if key not in theirs:
                yield (*here, key)
            else:
                yield from _differences(value, theirs[key], (*here, key))
        return
    if isinstance(ours, list) and isinstance(theirs, list):
        named = {i.get("name"): i for i in theirs if isinstance(i, dict) and "name" in i}
        for n, item in enumerate(ours):
            if isinstance(item, dict) and "name" in item and named:
                if item["name"] not in named:
                    yield (*here, n)
                else:
                    yield from _differences(item, named[item["name"]], (*here, n))
            elif n >= len(theirs):
                yield (*here, n)
            else:
                yield from _differences(item, theirs[n], (*here, n))
        return
    if type(ours) is not type(theirs) or ours != theirs:
        yield here


@dataclass(frozen=True, slots=True)
class KustomizeOrigin:
    """Where a field of a built object came from: the patch that set it, else its base file."""

    bundle: Path
    base: str | None
    generated_by: str | None
    rendered: dict[str, Any]
    patches: tuple[tuple[Patch, frozenset[JsonPath]], ...]
    sources: dict[str, YamlDocument | None]

    def source_of(self, path: JsonPath) -> Source:
        """The last patch that set ``path`` (or a field above it), else the base file's same field."""
        for patch, paths in reversed(self.patches):
            if any(path[: len(p)] == p for p in paths):
                return self._in_patch(patch, path)
        if self.base is not None:
            doc = self._document(self.base)
            line = line_in(doc, (), path, self.rendered) if doc is not None else None
            return Source(Location(self.base, line or 1), f"{self.base}: {field_name('', path).lstrip('.')}")
        if self.generated_by is not None:
            file = self.generated_by.split(" ", 1)[0]
            return Source(Location(file, 1), f"generated by {self.generated_by}")
        return Source(Location("kustomize build", 1), "kustomize build")

    def _in_patch(self, patch: Patch, path: JsonPath) -> Source:
        if patch.file is not None:
            doc = self._document(patch.file)
            line = line_in(doc, (), path, self.rendered) if doc is not None and isinstance(doc.data, dict) else None
            return Source(Location(patch.file, line or 1), f"patch {patch.name}")
        return Source(Location(patch.kustomization, patch.line or 1), f"patch {patch.name}")

    def _document(self, shown: str) -> YamlDocument | None:
        """The document of a bundle file that holds the rendered object (same kind, name within the built one)."""
        kind = self.rendered.get("kind")
        name = str((self.rendered.get("metadata") or {}).get("name", ""))
        key = f"{shown}#{kind}#{name}"
        if key not in self.sources:
            try:
                raw = read_bounded(self.bundle / shown, _LIMITS.max_bytes, "a kustomize source", shown_as=shown)
                docs = load_yaml(raw, path=shown, limits=_LIMITS)
            except InputError:
                docs = []
            same = [d for d in docs if isinstance(d.data, dict) and d.data.get("kind") == kind]
            named = [d for d in same if str((d.data.get("metadata") or {}).get("name", "\0")) in name]
            chosen = named or same or docs
            self.sources[key] = chosen[0] if chosen else None
        return self.sources[key]
