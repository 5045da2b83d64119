"""Builders for the archives the bundle tests feed in: hostile ones are written byte by byte.

``tarfile`` writes whatever ``TarInfo`` says (``..``, absolute names, devices), which is what a hostile
archive needs; the gzip bomb is built as a stream of identical deflate blocks so that 2 GiB of zeros
takes a second and a few megabytes, never 2 GiB of memory.
"""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MANIFEST = b"apiVersion: plugingate.dev/v1\nkind: Plugin\nmetadata: {name: hostile, version: 0.0.1}\n"


@dataclass(frozen=True)
class Member:
    """One entry of a test archive."""

    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    linkname: str = ""
    mode: int = 0o644
    devmajor: int = 0


def tar_bytes(members: Iterable[Member], *, fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A tar archive of ``members``, written verbatim (no name sanitising)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for m in members:
            info = tarfile.TarInfo(m.name)
            info.type = m.type
            info.mode = m.mode
            info.linkname = m.linkname
            info.devmajor = m.devmajor
            if m.type == tarfile.REGTYPE:
                info.size = len(m.data)
                tar.addfile(info, io.BytesIO(m.data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def write_tgz(path: Path, members: Iterable[Member]) -> Path:
    """Write a .tgz of ``members`` to ``path``."""
    path.write_bytes(gzip.compress(tar_bytes(members), mtime=0))
    return path


def manifest() -> Member:
    """A plugin.yaml entry, so that a hostile archive fails for its hostile part only."""
    return Member("plugin.yaml", MANIFEST)


class GzipStreamWriter:
    """Writes one gzip member from parts, where long runs of zeros cost almost nothing to make.

    After a full flush deflate starts afresh, so the compressed form of a 1 MiB block of zeros is the
    same bytes every time: it is computed once and repeated. The CRC and length are kept by hand.
    """

    _CHUNK = 1 << 20

    def __init__(self, out: io.BufferedWriter) -> None:
        self._out = out
        self._deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        self._crc = 0
        self._size = 0
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        block = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        self._zero_block = block.compress(bytes(self._CHUNK)) + block.flush(zlib.Z_FULL_FLUSH)
        self._zero_crc = zlib.crc32(bytes(self._CHUNK))

    def data(self, data: bytes) -> None:
        self._out.write(self._deflate.compress(data) + self._deflate.flush(zlib.Z_FULL_FLUSH))
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)

    def zeros(self, n: int) -> None:
        whole, rest = divmod(n, self._CHUNK)
        zero = bytes(self._CHUNK)
        for _ in range(whole):
            self._out.write(self._zero_block)
            self._crc = zlib.crc32(zero, self._crc)
        self._size += whole * self._CHUNK
        if rest:
            self.data(bytes(rest))

    def close(self) -> None:
        self._out.write(self._deflate.flush(zlib.Z_FINISH))
        self._out.write(struct.pack("<II", self._crc & 0xFFFFFFFF, self._size & 0xFFFFFFFF))


def tar_header(name: str, size: int, *, type_: bytes = tarfile.REGTYPE) -> bytes:
    """A single ustar header block for a file of ``size`` bytes (its data follows separately)."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.type = type_
    info.mode = 0o644
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def manifest_blocks() -> bytes:
    """The header and data blocks of plugin.yaml, without an end-of-archive marker."""
    return tar_bytes([manifest()], fmt=tarfile.USTAR_FORMAT)[:1024]


def write_zero_bomb(path: Path, size: int = 2 << 30) -> Path:
    """A gzip of ``size`` zero bytes and nothing else (decompresses to an 'empty' tar and zeros)."""
    with path.open("wb") as out:
        writer = GzipStreamWriter(out)
        writer.zeros(size)
        writer.close()
    return path


def write_tar_bomb(path: Path, files: int = 2, each: int = 1 << 30) -> Path:
    """A valid .tgz: plugin.yaml, then ``files`` files of ``each`` zero bytes (within the size limits)."""
    with path.open("wb") as out:
        writer = GzipStreamWriter(out)
        writer.data(manifest_blocks())
        for i in range(files):
            writer.data(tar_header(f"zeros-{i}.bin", each))
            writer.zeros(each)  # a multiple of 512: no padding needed
        writer.zeros(1024)
        writer.close()
    return path


def write_many_files(path: Path, count: int = 200_000) -> Path:
    """A .tgz of plugin.yaml and ``count`` one-byte files, built by stream from one header template."""
    template = bytearray(tar_header("f/000000", 1))
    template[148:156] = b"        "
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
        gz.write(manifest_blocks())
        block = b"x" + bytes(511)
        for i in range(count):
            template[2:8] = b"%06d" % i
            template[148:156] = b"        "
            template[148:155] = b"%06o\0" % sum(template)
            gz.write(bytes(template) + block)
        gz.write(bytes(1024))
    return path


# -- the hostile cases, shared by the library tests and the CLI tests ----------------------------------


@dataclass(frozen=True)
class HostileCase:
    """A hostile archive: how to build it, and words the refusal must contain."""

    id: str
    members: tuple[Member, ...] | None  # None: built by ``special`` below
    expect: str

    def build(self, dest: Path, outside: Path) -> Path:
        """Write the archive into ``dest`` (``outside``: a path it tries to reach); its path."""
        path = dest / f"{self.id}.tgz"
        if self.members is not None:
            members = [
                Member(
                    m.name.replace("@OUT@", str(outside)),
                    m.data,
                    m.type,
                    m.linkname.replace("@OUT@", str(outside)),
                    m.mode,
                    m.devmajor,
                )
                for m in self.members
            ]
            return write_tgz(path, members)
        return _SPECIAL[self.id](path)


def _truncated_tgz(path: Path) -> Path:
    import os

    data = gzip.compress(tar_bytes([manifest(), Member("blob.bin", os.urandom(200_000))]), mtime=0)
    path.write_bytes(data[: len(data) // 2])
    return path


def _truncated_tar(path: Path) -> Path:
    path = path.with_suffix(".tar")
    data = tar_bytes([manifest(), Member("blob.bin", b"y" * 100_000)])
    path.write_bytes(data[:60_000])
    return path


def _corrupt_gzip(path: Path) -> Path:
    import os

    data = bytearray(gzip.compress(tar_bytes([manifest(), Member("blob.bin", os.urandom(100_000))]), mtime=0))
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


def _not_an_archive(path: Path) -> Path:
    path.write_bytes(b"this is not an archive\n" * 100)
    return path


_SPECIAL = {
    "truncated-tgz": _truncated_tgz,
    "truncated-tar": _truncated_tar,
    "corrupt-gzip": _corrupt_gzip,
    "not-an-archive": _not_an_archive,
}

SYM, LNK, DIR = tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE
_M = manifest()

HOSTILE_CASES = (
    HostileCase("dotdot", (_M, Member("../../../escaped.txt", b"x")), "'..'"),
    HostileCase("dotdot-inner", (_M, Member("deploy/../../escaped.txt", b"x")), "'..'"),
    HostileCase("absolute", (_M, Member("@OUT@/absolute.txt", b"x")), "absolute path"),
    HostileCase("symlink-out", (_M, Member("up", type=SYM, linkname="../../../..")), "points outside"),
    HostileCase("symlink-absolute", (_M, Member("out", type=SYM, linkname="@OUT@")), "absolute path"),
    HostileCase(
        "symlink-then-write-out",
        (_M, Member("deploy", type=SYM, linkname="@OUT@"), Member("deploy/escaped.txt", b"x")),
        "absolute path",
    ),
    HostileCase(
        "symlink-then-write-through",
        (_M, Member("deploy", type=SYM, linkname="manifests"), Member("deploy/escaped.txt", b"x")),
        "written through the symlink",
    ),
    HostileCase(
        "symlink-chain-out",
        (
            _M,
            Member("sub", type=DIR, mode=0o755),
            Member("sub/up", type=SYM, linkname=".."),
            Member("sub/out", type=SYM, linkname="up/.."),
        ),
        "resolves outside the bundle",
    ),
    HostileCase("hardlink-out", (_M, Member("h", type=LNK, linkname="../../../etc/passwd")), "'..'"),
    HostileCase("hardlink-absolute", (_M, Member("h", type=LNK, linkname="/etc/passwd")), "absolute path"),
    HostileCase(
        "hardlink-through-symlink",
        (
            _M,
            Member("s", type=SYM, linkname="sub"),
            Member("sub/f", b"x"),
            Member("h", type=LNK, linkname="s/f"),
        ),
        "not a regular file earlier in the archive",
    ),
    HostileCase("char-device", (_M, Member("null", type=tarfile.CHRTYPE, devmajor=1)), "character device"),
    HostileCase("block-device", (_M, Member("sda", type=tarfile.BLKTYPE, devmajor=8)), "block device"),
    HostileCase("fifo", (_M, Member("pipe", type=tarfile.FIFOTYPE)), "FIFO"),
    HostileCase("dup-dot-slash", (_M, Member("./plugin.yaml", b"kind: Other\n")), "same path"),
    HostileCase("dup-double-slash", (_M, Member("a/b", b"1"), Member("a//b", b"2")), "same path"),
    HostileCase("dup-case", (_M, Member("Plugin.yaml", b"kind: Other\n")), "second spelling of plugin.yaml"),
    HostileCase("dup-case-first", (Member("PLUGIN.YAML", b"kind: Other\n"), _M), "second spelling of plugin.yaml"),
    HostileCase("truncated-tgz", None, "truncated"),
    HostileCase("truncated-tar", None, "truncated"),
    HostileCase("corrupt-gzip", None, "corrupt"),
    HostileCase("not-an-archive", None, "not a tar or gzip archive"),
)
