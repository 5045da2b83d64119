"""A private copy of the chart ``spec.chart`` names, laid out as Helm loads it, for rendering and scanning.

The chart comes from the plugin's author. Helm follows symlinks in a chart folder (out of the bundle
too) and applies ``.helmignore`` to folders but not to archives; so the gate copies the chart into its
own work folder, refusing every symlink, unpacks archives (the chart's and its vendored subcharts')
with the bundle's own hardened unpacker, and drops ``.helmignore`` from what came out of an archive.
Helm then renders exactly the files the gate scanned, and the same files ``helm install`` of the
archive would see.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from plugingate.bundle.digest import READ_SIZE, HashingReader
from plugingate.bundle.limits import BundleLimits
from plugingate.bundle.stream import TarStream, detect_kind
from plugingate.bundle.tarread import TarReader
from plugingate.bundle.unpack import Unpacker
from plugingate.declaration import Declaration
from plugingate.errors import InputError

CHART_FILE = "Chart.yaml"
# NOTE: a chart is small; these bound a hostile one long before it could fill the disk.
CHART_LIMITS = BundleLimits(
    max_archive_bytes=64 << 20,
    max_unpacked_bytes=128 << 20,
    max_files=5000,
    max_compression_ratio=200.0,
    max_file_bytes=16 << 20,
)
MAX_SUBCHART_DEPTH = 8


@dataclass(frozen=True, slots=True)
class ChartCopy:
    """The chart as Helm will load it: ``root`` holds Chart.yaml; ``shown`` is the bundle path named."""

    root: Path
    shown: str
    archive: Path | None


def chart_field_line(declaration: Declaration, *rest: str | int) -> int | None:
    """The line of ``spec.chart`` (or a field below it) in plugin.yaml."""
    return declaration.line("spec", "chart", *rest) or declaration.line("spec", "chart")


def bundle_file(root: Path, declaration: Declaration, entry: str, field: str, *at: str | int) -> Path:
    """The real path of ``entry`` inside the bundle; ``InputError`` naming the field when it leaves it."""
    where = {"path": declaration.path, "line": chart_field_line(declaration, *at), "field": field}
    pure = PurePosixPath(entry)
    if pure.is_absolute() or ".." in pure.parts:
        raise InputError(f"{entry!r} leaves the bundle; expected a path inside it", **where)  # type: ignore[arg-type]
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(real_root.joinpath(*pure.parts)))
    if real != real_root and real_root not in real.parents:
        raise InputError(f"{entry!r} resolves outside the bundle (a symlink?)", **where)  # type: ignore[arg-type]
    if not real.exists():
        raise InputError(f"{entry!r} is not in the bundle", **where)  # type: ignore[arg-type]
    return real


def copy_chart(root: Path, declaration: Declaration, work: Path, pulled: Path | None = None) -> ChartCopy:
    """The chart of ``spec.chart`` copied (folder) or unpacked (archive) into ``work``, subcharts unpacked.

    ``pulled`` is the archive of ``spec.chart.oci``, already fetched by its digest (``chart_oci``).
    """
    chart = declaration.chart
    assert chart is not None
    target = work / "chart"
    if chart.oci is not None:
        assert pulled is not None
        top = _unpack_chart_archive(pulled, target, chart.oci)
        copy = ChartCopy(root=top, shown=chart.oci.rsplit("@", 1)[0].removeprefix("oci://"), archive=pulled)
        _unpack_subcharts(copy.root, copy.shown, 0)
        return copy
    assert chart.path is not None
    source = bundle_file(root, declaration, chart.path, "spec.chart.path", "path")
    if source.is_dir():
        _copy_tree(source, target, chart.path)
        copy = ChartCopy(root=target, shown=chart.path.rstrip("/"), archive=None)
    elif source.is_file():
        top = _unpack_chart_archive(source, target, chart.path)
        copy = ChartCopy(root=top, shown=chart.path, archive=source)
    else:
        raise InputError(
            "is neither a chart folder nor a chart archive",
            path=declaration.path,
            line=chart_field_line(declaration, "path"),
            field="spec.chart.path",
        )
    if not (copy.root / CHART_FILE).is_file():
        raise InputError(
            f"no {CHART_FILE} at the top of the chart",
            path=chart.path,
            hint="spec.chart.path names a Helm chart: a folder (or .tgz of one) with Chart.yaml and templates/",
        )
    _unpack_subcharts(copy.root, copy.shown, 0)
    return copy


def _copy_tree(source: Path, target: Path, shown: str) -> None:
    files = 0
    size = 0
    for folder, dirs, names in os.walk(source):
        here = Path(folder)
        rel = here.relative_to(source)
        (target / rel).mkdir(parents=True, exist_ok=True)
        for name in sorted(dirs + names):
            path = here / name
            if path.is_symlink():
                raise InputError(
                    "is a symlink; Helm follows links in a chart folder (out of the bundle too): charts may hold none",
                    path=f"{shown.rstrip('/')}/{(rel / name).as_posix()}",
                    hint="replace the link with the file it points at",
                )
        for name in names:
            path = here / name
            if not path.is_file():
                raise InputError("is not a regular file", path=f"{shown.rstrip('/')}/{(rel / name).as_posix()}")
            files += 1
            size += path.stat().st_size
            if files > CHART_LIMITS.max_files or size > CHART_LIMITS.max_unpacked_bytes:
                raise InputError(
                    f"the chart holds more than {CHART_LIMITS.max_files} files "
                    f"or {CHART_LIMITS.max_unpacked_bytes} bytes",
                    path=shown,
                )
            shutil.copyfile(path, target / rel / name)


def _unpack_chart_archive(archive: Path, target: Path, shown: str) -> Path:
    """Unpack a chart archive safely; the folder holding its Chart.yaml (Helm wants one top folder)."""
    target.mkdir(parents=True)
    with archive.open("rb") as file:
        reader = HashingReader(file, label=shown, max_bytes=CHART_LIMITS.max_archive_bytes)
        first = reader.read(READ_SIZE)
        stream = TarStream(reader, detect_kind(first, label=shown), first, CHART_LIMITS, label=shown)
        Unpacker(target, CHART_LIMITS, label=shown).run(TarReader(stream.chunks(), label=shown))
    for folder, dirs, names in os.walk(target):
        for name in dirs + names:
            path = Path(folder) / name
            if path.is_symlink():
                raise InputError(
                    f"the chart archive holds a symlink ({path.relative_to(target).as_posix()}); "
                    "Helm skips links in archives but follows them in folders, so charts may hold none",
                    path=shown,
                    hint="rebuild the archive with `helm package` from a folder without links",
                )
            if name == ".helmignore" and path.is_file():
                # NOTE: Helm applies .helmignore when it loads a folder, never an archive: the
                # unpacked copy must render every file the archive holds, as `helm install` would.
                path.unlink()
    tops = sorted(p for p in target.iterdir())
    if len(tops) != 1 or not tops[0].is_dir():
        raise InputError(
            "a chart archive holds exactly one top folder (the chart), as `helm package` writes it",
            path=shown,
            hint="rebuild the archive with `helm package`",
        )
    return tops[0]


def _unpack_subcharts(chart: Path, shown: str, depth: int) -> None:
    """Every ``charts/*.tgz`` unpacked in place (as a folder), recursively, so it is scanned and rendered."""
    if depth > MAX_SUBCHART_DEPTH:
        raise InputError(f"subcharts nested more than {MAX_SUBCHART_DEPTH} deep", path=shown)
    charts = chart / "charts"
    if not charts.is_dir():
        return
    for entry in sorted(charts.iterdir()):
        sub_shown = f"{shown}/charts/{entry.name}"
        if entry.is_file() and entry.name.endswith((".tgz", ".tar.gz")):
            folder = charts / f".unpacked-{entry.name}"
            top = _unpack_chart_archive(entry, folder, sub_shown)
            entry.unlink()
            final = charts / entry.name.removesuffix(".tgz").removesuffix(".tar.gz")
            if final.exists():
                raise InputError(f"both {entry.name} and a folder of the same name", path=sub_shown)
            top.rename(final)
            shutil.rmtree(folder)
            _unpack_subcharts(final, sub_shown, depth + 1)
        elif entry.is_dir():
            _unpack_subcharts(entry, sub_shown, depth + 1)
