"""Reproducible packing: the same tree always gives the same archive bytes, hence the same digest.

Everything that varies between two checkouts of the same tree is fixed: entries sorted by path,
mtimes 0, owners 0/0 with empty names, modes 0644/0755 (0755 when any execute bit is set, and for
folders), a gzip header with mtime 0 and no file name, and one compression level. Hard links are
stored as separate files (inode layout differs between checkouts); symlinks are stored as symlinks,
never followed. Sockets, FIFOs and devices cannot be packed.

The bytes also depend on CPython's tarfile (PAX headers) and on the zlib it links; a test pins the
digest of a fixed tree, so that a change in either shows up before any digest in the field moves.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
import tempfile
from pathlib import Path

from plugingate.bundle.digest import sha256_file
from plugingate.bundle.limits import BundleLimits
from plugingate.errors import BundleError

COMPRESS_LEVEL = 6
_HINT = "fix the folder and pack again; a bundle holds only files, folders and symlinks"


def _walk(src: Path) -> list[tuple[str, os.stat_result]]:
    """Every path under ``src`` (relative, POSIX), with its lstat, sorted so parents come first."""
    found: list[tuple[tuple[str, ...], str, os.stat_result]] = []
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(src / rel if rel else src) as it:
                entries = list(it)
        except OSError as exc:
            raise BundleError(f"cannot read folder {rel or '.'}: {exc.strerror}", path=str(src), hint=_HINT) from None
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            found.append((tuple(path.split("/")), path, st))
            if stat.S_ISDIR(st.st_mode):
                stack.append(path)
    found.sort(key=lambda item: item[0])
    return [(path, st) for _, path, st in found]


def _info(path: str, st: os.stat_result, src: Path) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if stat.S_ISDIR(st.st_mode):
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    elif stat.S_ISREG(st.st_mode):
        info.type, info.size = tarfile.REGTYPE, st.st_size
        info.mode = 0o755 if st.st_mode & 0o111 else 0o644
    elif stat.S_ISLNK(st.st_mode):
        info.type, info.mode = tarfile.SYMTYPE, 0o777
        # NOTE: os.readlink keeps the target verbatim; Path.readlink would normalise it (./a//b -> a/b).
        info.linkname = os.readlink(src / path)  # noqa: PTH115
    else:
        raise BundleError(f"{path} is a {_what(st.st_mode)}, which a bundle cannot hold", path=str(src), hint=_HINT)
    return info


def _what(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device file"


def _check_limits(src: Path, walked: list[tuple[str, os.stat_result]], limits: BundleLimits) -> None:
    """Refuse a folder over the limits before packing it (packing a huge tree could fill TMPDIR)."""
    hint = "shrink the plugin folder, or raise the limit in the gate policy's `bundle:` section"
    if len(walked) > limits.max_files:
        raise BundleError(
            f"the folder has {len(walked)} entries, more than {limits.max_files} (bundle.maxFiles)",
            path=str(src),
            hint=hint,
        )
    total = 0
    for path, st in walked:
        if stat.S_ISREG(st.st_mode):
            if st.st_size > limits.max_file_bytes:
                raise BundleError(
                    f"{path} is {st.st_size} bytes, over the limit of {limits.max_file_bytes} (bundle.maxFileBytes)",
                    path=str(src),
                    hint=hint,
                )
            total += st.st_size
    if total > limits.max_unpacked_bytes:
        raise BundleError(
            f"the folder holds {total} bytes of files, more than {limits.max_unpacked_bytes} (bundle.maxUnpackedBytes)",
            path=str(src),
            hint=hint,
        )


def write_reproducible(src: Path, out: io.BufferedIOBase, limits: BundleLimits | None = None) -> None:
    """Write the reproducible .tgz of the folder ``src`` to an open binary file (within ``limits``)."""
    walked = _walk(src)
    if limits is not None:
        _check_limits(src, walked, limits)
    # NOTE: filename="" leaves FNAME out of the gzip header; mtime=0 fixes MTIME; the OS byte is
    # always 255 in CPython, so the header is the same on every machine.
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=COMPRESS_LEVEL, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8") as tar,
    ):
        for path, st in walked:
            info = _info(path, st, src)
            if info.type == tarfile.REGTYPE:
                try:
                    with (src / path).open("rb") as data:
                        tar.addfile(info, data)
                except OSError as exc:
                    raise BundleError(f"cannot read {path}: {exc.strerror}", path=str(src), hint=_HINT) from None
            else:
                tar.addfile(info)


def pack_directory(src: Path, dest: Path) -> str:
    """Pack the folder ``src`` into ``dest`` reproducibly; the archive's sha256 (hex).

    ``dest`` is written atomically (a temporary file beside it, renamed into place), so a failed pack
    leaves no half-written archive.
    """
    if not src.is_dir():
        raise BundleError("not a folder (expected the plugin folder holding plugin.yaml)", path=str(src))
    dest = dest.absolute()
    if dest.is_relative_to(src.absolute()):
        raise BundleError(
            "the archive would be written inside the folder being packed",
            path=str(dest),
            hint="write it somewhere else, e.g. beside the folder",
        )
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise BundleError(f"cannot write the archive: {exc.strerror}", path=str(dest)) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            write_reproducible(src, out)
        tmp.chmod(0o644)
        tmp.replace(dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BundleError(f"cannot write the archive: {exc.strerror or exc}", path=str(dest)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return sha256_file(dest)
