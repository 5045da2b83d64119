"""An image archive turned into the root file system of an OCI bundle, and the image's run config.

The archive (``spec.images[].archive``: a docker-archive or an OCI layout tar) is read by name, never
extracted as a whole; each layer is streamed through the bundle package's hostile-archive unpacker into
a folder of its own (no absolute paths, no ``..``, links that stay inside) and the layers are then laid
on each other with the OCI whiteout rules.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugingate.bundle.digest import HashingReader
from plugingate.bundle.limits import BundleLimits
from plugingate.bundle.stream import BundleKind, TarStream, detect_kind
from plugingate.bundle.tarread import TarReader
from plugingate.bundle.unpack import Unpacker
from plugingate.errors import BundleError

_MAX_JSON = 4 << 20
_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """What the image says to run: entrypoint + cmd, environment, user and working folder."""

    argv: tuple[str, ...]
    env: tuple[str, ...]
    user: str
    workdir: str


def _json(tar: tarfile.TarFile, name: str, label: str) -> Any:
    member = tar.getmember(name) if name in tar.getnames() else None
    if member is None or not member.isfile() or member.size > _MAX_JSON:
        raise BundleError(f"the image archive has no readable {name}", path=label)
    handle = tar.extractfile(member)
    assert handle is not None
    try:
        return json.loads(handle.read())
    except ValueError as exc:
        raise BundleError(f"{name} in the image archive is not JSON ({exc})", path=label) from None


def _blob(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def _layout(tar: tarfile.TarFile, label: str) -> tuple[dict[str, Any], list[str]]:
    """(config, layer member names) of an archive, docker-archive or OCI layout."""
    names = set(tar.getnames())
    if "index.json" in names:
        doc = _json(tar, "index.json", label)
        for _ in range(4):  # NOTE: an index may name an index (one per platform): follow it down
            manifests = doc.get("manifests") or []
            chosen = next(
                (
                    m
                    for m in manifests
                    if (m.get("platform") or {}).get("architecture", "amd64") == "amd64"
                    and (m.get("platform") or {}).get("os", "linux") == "linux"
                ),
                None,
            )
            if chosen is None:
                raise BundleError("the OCI index names no linux/amd64 image", path=label)
            doc = _json(tar, _blob(chosen["digest"]), label)
            if "layers" in doc:
                config = _json(tar, _blob(doc["config"]["digest"]), label)
                return config, [_blob(layer["digest"]) for layer in doc["layers"]]
        raise BundleError("the OCI index nests too deep", path=label)
    if "manifest.json" in names:
        manifest = _json(tar, "manifest.json", label)
        if not isinstance(manifest, list) or not manifest:
            raise BundleError("manifest.json in the image archive lists no image", path=label)
        return _json(tar, manifest[0]["Config"], label), list(manifest[0]["Layers"])
    raise BundleError(
        "not an image archive (neither index.json nor manifest.json at its root)",
        path=label,
        hint="ship the image as `docker save` or an OCI layout tar writes it",
    )


def _chunks(handle: io.BufferedReader | Any, label: str, limits: BundleLimits) -> Iterator[bytes]:
    reader = HashingReader(handle, label=label, max_bytes=limits.max_archive_bytes)
    first = reader.read()
    kind = detect_kind(first, label=label)
    stream = TarStream(reader, kind if kind is not BundleKind.DIRECTORY else BundleKind.TAR, first, limits, label=label)
    yield from stream.chunks()


def _lay(layer: Path, rootfs: Path) -> None:
    """Lay one unpacked layer on the root file system: whiteouts delete, opaque folders reset, files replace."""
    for folder, dirs, files in os.walk(layer):
        rel = Path(folder).relative_to(layer)
        target_dir = rootfs / rel
        if _OPAQUE in files and target_dir.is_dir():
            for child in target_dir.iterdir():
                _remove(child)
        for name in files + [d for d in dirs if (Path(folder) / d).is_symlink()]:
            source = Path(folder) / name
            if name == _OPAQUE:
                continue
            if name.startswith(_WHITEOUT):
                _remove(target_dir / name[len(_WHITEOUT) :])
                continue
            target = target_dir / name
            target_dir.mkdir(parents=True, exist_ok=True)
            if target.exists() or target.is_symlink():
                _remove(target)
            source.rename(target)
        for name in dirs:
            if not (Path(folder) / name).is_symlink():
                target = target_dir / name
                if target.is_symlink() or (target.exists() and not target.is_dir()):
                    _remove(target)
                target.mkdir(parents=True, exist_ok=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def build_rootfs(archive: Path, rootfs: Path, *, label: str, limits: BundleLimits | None = None) -> ImageConfig:
    """Unpack ``archive``'s image into the empty folder ``rootfs``; the image's run config."""
    limits = limits or BundleLimits()
    rootfs.mkdir(parents=True)
    staging = rootfs.parent / (rootfs.name + ".layers")
    staging.mkdir()
    try:
        with tarfile.open(archive, mode="r:") as tar:
            config, layers = _layout(tar, label)
            for n, name in enumerate(layers):
                member = tar.getmember(name)
                handle = tar.extractfile(member)
                if handle is None:
                    raise BundleError(f"layer {name} is not a file", path=label)
                folder = staging / str(n)
                folder.mkdir()
                where = f"{label}:{name}"
                Unpacker(folder, limits, label=where).run(TarReader(_chunks(handle, where, limits), label=where))
                _lay(folder, rootfs)
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise BundleError(f"the image archive cannot be read ({exc})", path=label) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    settings = config.get("config") or {}
    argv = tuple((settings.get("Entrypoint") or []) + (settings.get("Cmd") or []))
    return ImageConfig(
        argv=argv,
        env=tuple(settings.get("Env") or ()),
        user=str(settings.get("User") or ""),
        workdir=str(settings.get("WorkingDir") or "/"),
    )


__all__ = ["ImageConfig", "build_rootfs"]
