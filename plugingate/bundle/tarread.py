"""A small streaming tar reader: headers (ustar, pax, GNU long names) and bounded data pieces.

Why not ``tarfile``: it reads pax and GNU long-name headers whole into memory whatever their declared
size, gives no say over the entry types it accepts, and its stream mode hides how much compressed
input it has consumed. This reader takes the tar bytes from ``TarStream``, never holds more than one
chunk plus one header, and reports every oddity as a ``BundleError`` at the offset where it is.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from plugingate.bundle.limits import MAX_META_BYTES
from plugingate.errors import BundleError

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_MAX_META_HEADERS = 16
_SIGNED = struct.Struct("148b8x356b")
_TRUNCATED_HINT = "the archive is cut short or damaged: fetch it again, or repack it with `plugingate pack`"
_CORRUPT_HINT = "the archive is damaged or not a tar file: repack it with `plugingate pack`"
# NOTE: pax keys that change what an entry is in ways this reader does not implement; refused rather
# than half-understood, so no tool can see a different tree than the one unpacked.
_REFUSED_PAX_PREFIXES = ("GNU.sparse.",)
_GLOBAL_REFUSED = ("path", "linkpath", "size")


class EntryType(StrEnum):
    """What a tar entry is; only the first four can be unpacked."""

    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR_DEVICE = "character device"
    BLOCK_DEVICE = "block device"
    FIFO = "FIFO"
    SPARSE = "GNU sparse file"
    OTHER = "unsupported entry"


_TYPES = {
    b"0": EntryType.FILE,
    b"\0": EntryType.FILE,
    b"7": EntryType.FILE,
    b"1": EntryType.HARDLINK,
    b"2": EntryType.SYMLINK,
    b"3": EntryType.CHAR_DEVICE,
    b"4": EntryType.BLOCK_DEVICE,
    b"5": EntryType.DIRECTORY,
    b"6": EntryType.FIFO,
    b"S": EntryType.SPARSE,
}


@dataclass(frozen=True, slots=True)
class TarEntry:
    """One member of the archive, as its headers describe it (nothing checked yet but the syntax)."""

    name: str
    type: EntryType
    mode: int
    size: int
    linkname: str
    offset: int  # of its header in the tar stream, for messages
    typeflag: str


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class TarReader:
    """Reads entries one after the other from a stream of tar bytes."""

    def __init__(self, chunks: Iterator[bytes], *, label: str) -> None:
        self._chunks = chunks
        self._label = label
        self._view = memoryview(b"")
        self._pos = 0
        self._left = 0  # data bytes of the current entry not yet read
        self._pad = 0  # padding after them
        self.offset = 0  # position in the tar stream
        self.ended = False  # an end-of-archive block was seen

    # -- bytes ---------------------------------------------------------------------------------------

    def _take(self, n: int) -> memoryview:
        if self._pos == len(self._view):
            chunk = next(self._chunks, b"")
            self._view = memoryview(chunk)
            self._pos = 0
            if not chunk:
                return self._view
        end = min(self._pos + n, len(self._view))
        piece = self._view[self._pos : end]
        self._pos = end
        self.offset += len(piece)
        return piece

    def _read(self, n: int) -> bytes:
        """Up to ``n`` bytes: fewer only at the end of the stream."""
        first = self._take(n)
        if len(first) == n or not first:
            return bytes(first)
        parts = [bytes(first)]
        got = len(first)
        while got < n:
            piece = self._take(n - got)
            if not piece:
                break
            parts.append(bytes(piece))
            got += len(piece)
        return b"".join(parts)

    def _skip(self, n: int) -> None:
        while n:
            piece = self._take(n)
            if not piece:
                raise self._truncated()
            n -= len(piece)

    # -- entries -------------------------------------------------------------------------------------

    def next(self) -> TarEntry | None:
        """The next entry, or ``None`` at the end of the archive (its marker, or the end of the data)."""
        if self.ended:
            return None
        self._skip(self._left + self._pad)
        self._left = self._pad = 0
        pax: dict[str, str] = {}
        long_name: bytes | None = None
        long_link: bytes | None = None
        for _ in range(_MAX_META_HEADERS + 1):
            offset = self.offset
            block = self._read(BLOCK)
            if not block:
                return None
            if len(block) < BLOCK:
                raise self._truncated()
            if block == _ZERO_BLOCK:
                self.ended = True
                return None
            self._check_sum(block, offset)
            flag = block[156:157]
            size = self._number(block[124:136], "size", offset)
            if flag in (b"x", b"g", b"L", b"K"):
                if size > MAX_META_BYTES:
                    raise self._corrupt(f"an extended header of {size} bytes (at most {MAX_META_BYTES})", offset)
                payload = self._read(size + (-size % BLOCK))
                if len(payload) < size:
                    raise self._truncated()
                payload = payload[:size]
                if flag == b"x":
                    pax.update(self._pax(payload, offset))
                elif flag == b"g":
                    keys = self._pax(payload, offset)
                    bad = sorted(k for k in keys if k in _GLOBAL_REFUSED)
                    if bad:
                        raise self._corrupt(f"a global pax header that sets {', '.join(bad)}", offset)
                elif flag == b"L":
                    long_name = payload.split(b"\0", 1)[0]
                else:
                    long_link = payload.split(b"\0", 1)[0]
                continue
            return self._entry(block, flag, size, offset, pax, long_name, long_link)
        raise self._corrupt(f"more than {_MAX_META_HEADERS} extended headers in a row", self.offset)

    def _entry(
        self,
        block: bytes,
        flag: bytes,
        size: int,
        offset: int,
        pax: dict[str, str],
        long_name: bytes | None,
        long_link: bytes | None,
    ) -> TarEntry:
        if "path" in pax:
            name = pax["path"]
        elif long_name is not None:
            name = _decode(long_name)
        else:
            name = _decode(block[0:100].split(b"\0", 1)[0])
            if block[257:263] == b"ustar\0":
                prefix = block[345:500].split(b"\0", 1)[0]
                if prefix:
                    name = _decode(prefix) + "/" + name
        if "linkpath" in pax:
            linkname = pax["linkpath"]
        elif long_link is not None:
            linkname = _decode(long_link)
        else:
            linkname = _decode(block[157:257].split(b"\0", 1)[0])
        if "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError:
                raise self._corrupt(f"a pax size that is not a number ({pax['size']!r})", offset) from None
            if size < 0:
                raise self._corrupt("a negative pax size", offset)
        kind = _TYPES.get(flag, EntryType.OTHER)
        if kind is EntryType.FILE and flag != b"7" and name.endswith("/"):
            kind = EntryType.DIRECTORY  # NOTE: old v7 archives mark directories by a trailing slash only
        if any(key.startswith(_REFUSED_PAX_PREFIXES) for key in pax):
            kind = EntryType.SPARSE
        mode = self._number(block[100:108], "mode", offset)
        if size and kind in (EntryType.DIRECTORY, EntryType.SYMLINK, EntryType.HARDLINK):
            raise self._corrupt(f"a {kind} entry ({name!r}) that carries {size} data bytes", offset)
        # NOTE: the data of an entry that will be refused is still skipped by ``next``, so that an
        # error names the entry rather than the bytes after it.
        self._left, self._pad = size, -size % BLOCK
        return TarEntry(name, kind, mode, size, linkname, offset, _decode(flag))

    def data(self) -> Iterator[memoryview]:
        """The current entry's data, in pieces (each a view into a decompressed chunk)."""
        while self._left:
            piece = self._take(self._left)
            if not piece:
                raise self._truncated()
            self._left -= len(piece)
            yield piece

    def drain(self) -> int:
        """Read what follows the end-of-archive marker; the number of non-zero bytes in it."""
        self._skip(self._left + self._pad)
        self._left = self._pad = 0
        nonzero = 0
        while piece := self._take(1 << 30):
            if any(piece):
                nonzero += len(piece) - bytes(piece).count(0)
        return nonzero

    # -- fields --------------------------------------------------------------------------------------

    def _number(self, field: bytes, what: str, offset: int) -> int:
        if field and field[0] & 0x80:
            if field[0] != 0x80:
                raise self._corrupt(f"a negative {what} field", offset)
            return int.from_bytes(field[1:], "big")
        text = field.split(b"\0", 1)[0].strip(b" ")
        if not text:
            return 0
        if any(c not in b"01234567" for c in text):
            raise self._corrupt(f"a {what} field that is not an octal number ({text!r})", offset)
        return int(text, 8)

    def _check_sum(self, block: bytes, offset: int) -> None:
        stored = self._number(block[148:156], "checksum", offset)
        unsigned = sum(block) - sum(block[148:156]) + 8 * 32
        if stored != unsigned and stored != sum(_SIGNED.unpack(block)) + 8 * 32:
            raise self._corrupt("a header whose checksum does not match", offset)

    def _pax(self, payload: bytes, offset: int) -> dict[str, str]:
        out: dict[str, str] = {}
        pos = 0
        while pos < len(payload):
            space = payload.find(b" ", pos)
            length_text = payload[pos:space] if space > 0 else b""
            if not length_text.isdigit():
                raise self._corrupt("a malformed pax header record", offset)
            length = int(length_text)
            record = payload[space + 1 : pos + length]
            if length <= 0 or pos + length > len(payload) or not record.endswith(b"\n") or b"=" not in record:
                raise self._corrupt("a malformed pax header record", offset)
            key, _, value = record[:-1].partition(b"=")
            out[_decode(key)] = _decode(value)
            pos += length
        return out

    # -- errors --------------------------------------------------------------------------------------

    def _truncated(self) -> BundleError:
        return BundleError(
            f"the tar data is truncated (it ends at byte {self.offset} inside an entry)",
            path=self._label,
            hint=_TRUNCATED_HINT,
        )

    def _corrupt(self, what: str, offset: int) -> BundleError:
        return BundleError(
            f"corrupt tar archive: {what} at byte {offset} of the tar data",
            path=self._label,
            hint=_CORRUPT_HINT,
        )
