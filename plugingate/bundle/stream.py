"""From archive bytes to tar bytes: detect the format by its magic bytes and inflate gzip as a stream.

The ratio check lives here because only here are both sides of it known: how many compressed bytes
the inflater has consumed, and how many it has produced. Output is produced in bounded pieces, so a
gzip bomb costs a few megabytes of memory before it is stopped.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from isal import isal_zlib

from plugingate.bundle.digest import HashingReader
from plugingate.bundle.limits import RATIO_ALLOWANCE_BYTES, BundleLimits
from plugingate.errors import BundleError

# NOTE: ISA-L's inflater (PyPI ``isal``) is zlib's API at about 2.5 times zlib's speed; on a bundle of Go
# binaries inflating is most of the unpack, which comes before syft can start. It reads every stream as
# zlib does (tests/bundle/test_inflate_differential.py) except one leniency: it ignores the reserved
# flag bits of a gzip header, which zlib and gzip refuse; ``_check_member`` refuses them first.
# isal's stub declares ``error`` as an instance; it is the exception class.
_ISAL_ERROR: type[Exception] = isal_zlib.error  # type: ignore[assignment]
_INFLATE_ERRORS = (_ISAL_ERROR, zlib.error)
_RESERVED_FLAGS = 0xE0

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_OUT = 2 << 20
_REPACK = "repack the plugin directory with `plugingate pack DIR -o BUNDLE.tgz`"

# NOTE: formats people commonly hand over by mistake, named so the error says what the file is.
_OTHER_FORMATS = (
    (b"BZh", "a bzip2 file"),
    (b"\xfd7zXZ\x00", "an xz file"),
    (b"\x28\xb5\x2f\xfd", "a zstd file"),
    (b"PK\x03\x04", "a zip file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-zip file"),
)


class BundleKind(StrEnum):
    """What a bundle is on disk: the contract accepts a directory, a tar file, or a gzip-compressed one."""

    DIRECTORY = "directory"
    TAR = "tar"
    TAR_GZ = "tar.gz"


def looks_like_tar_header(block: bytes) -> bool:
    """Whether a 512-byte block is a tar header: ustar magic, or (old v7 tar) a valid checksum."""
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    field = block[148:156].split(b"\0", 1)[0].strip()
    if not field or any(c not in b"01234567" for c in field):
        return False
    stored = int(field, 8)
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    return stored == unsigned and any(block[:100])


def detect_kind(head: bytes, *, label: str) -> BundleKind:
    """The kind of an archive from its first bytes (never from its name: a name is only a claim)."""
    if head.startswith(_GZIP_MAGIC):
        return BundleKind.TAR_GZ
    for magic, what in _OTHER_FORMATS:
        if head.startswith(magic):
            raise BundleError(
                f"this is {what}, not a bundle (expected a directory, a .tar or a .tar.gz/.tgz)",
                path=label,
                hint=_REPACK,
            )
    if looks_like_tar_header(head[:512]):
        return BundleKind.TAR
    if not head:
        raise BundleError("the file is empty (expected a .tar or .tar.gz bundle)", path=label, hint=_REPACK)
    raise BundleError(
        "not a tar or gzip archive (its first bytes match neither; expected a .tar or .tar.gz/.tgz)",
        path=label,
        hint=_REPACK,
    )


@dataclass(slots=True)
class StreamStats:
    """What the stream saw, for the findings after the unpack."""

    produced: int = 0  # tar bytes handed on
    consumed: int = 0  # compressed bytes the inflater consumed
    garbage_after_gzip: int = 0  # non-zero bytes after the last gzip member (that are not another member)


class TarStream:
    """The tar bytes of an archive, produced from one read of its file through a ``HashingReader``."""

    def __init__(
        self, reader: HashingReader, kind: BundleKind, first: bytes, limits: BundleLimits, *, label: str
    ) -> None:
        self._reader = reader
        self._kind = kind
        self._first = first
        self._limits = limits
        self._label = label
        self.stats = StreamStats()

    def chunks(self) -> Iterator[bytes]:
        """Successive pieces of the tar stream, each at most a few megabytes; checked as they come."""
        if self._kind is BundleKind.TAR:
            data = self._first
            while data:
                self.stats.produced += len(data)
                yield data
                data = self._reader.read()
            return
        yield from self._inflate()

    def _inflate(self) -> Iterator[bytes]:
        stats = self.stats
        data = self._check_member(self._first)
        inflater = isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)
        while True:
            at_end = False
            if not data:
                data = self._reader.read()
                at_end = not data
            try:
                # NOTE: fed even with no input, so that output zlib still holds is drained in bounded
                # pieces (``flush()`` would return all of it at once).
                out = inflater.decompress(data, _MAX_OUT)
            except _INFLATE_ERRORS as exc:
                raise self._error(
                    f"the gzip data is corrupt ({exc})",
                    "the file is damaged: fetch the bundle again, or " + _REPACK,
                ) from None
            rest = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            stats.consumed += len(data) - len(rest)
            data = rest
            if out:
                stats.produced += len(out)
                self._check_ratio()
                yield out
            if inflater.eof:
                if len(data) < 2:
                    data += self._reader.read()
                if not data:
                    return
                if not data.startswith(_GZIP_MAGIC):
                    stats.garbage_after_gzip = self._nonzero(data)
                    return
                data = self._check_member(data)
                inflater = isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)
            elif at_end and not out:
                raise self._error(
                    "the gzip stream is truncated (the file ends before the compressed data does)",
                    "the download or copy was cut short: fetch the bundle again",
                )

    def _check_member(self, data: bytes) -> bytes:
        """``data`` (read on until it holds a gzip member's first four bytes), once its flags are checked."""
        while len(data) < 4 and (more := self._reader.read()):
            data += more
        if len(data) >= 4 and data[3] & _RESERVED_FLAGS:
            raise self._error(
                f"the gzip data is corrupt (unknown header flags set: 0x{data[3]:02x})",
                "the file is damaged: fetch the bundle again, or " + _REPACK,
            )
        return data

    def _nonzero(self, data: bytes) -> int:
        """The non-zero bytes in ``data`` and the rest of the file (read and hashed on the way)."""
        # NOTE: zeros after the stream are padding that gzip, Python and every tar reader skip (Go's
        # never reads that far: the tar reader stops at its end marker); anything else is data.
        count = len(data) - data.count(0)
        while chunk := self._reader.read():
            count += len(chunk) - chunk.count(0)
        return count

    def _check_ratio(self) -> None:
        stats = self.stats
        limit = self._limits.max_compression_ratio
        if stats.produced > RATIO_ALLOWANCE_BYTES and stats.produced > limit * max(stats.consumed, 1):
            raise self._error(
                f"the archive inflates more than {limit:g} times (at least {stats.produced} bytes "
                f"from the first {stats.consumed} compressed bytes): this looks like a compression bomb",
                "refused before unpacking it further; if the bundle is genuine, raise "
                "bundle.maxCompressionRatio in the gate policy",
            )

    def _error(self, message: str, hint: str) -> BundleError:
        return BundleError(message, path=self._label, hint=hint)
