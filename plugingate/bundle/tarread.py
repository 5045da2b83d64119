"""A small streaming tar reader: headers (ustar, pax, GNU long names) and bounded data pieces.

Why not ``tarfile``: it reads pax and GNU long-name headers whole into memory whatever their declared
size, gives no say over the entry types it accepts, and its stream mode hides how much compressed
input it has consumed. This reader takes the tar bytes from ``TarStream``, never holds more than one
chunk plus one header, and reports every oddity as a ``BundleError`` at the offset where it is.

It is also strict where the common extractors disagree (``tarfields`` has the field grammar): at
most one pax header, or one GNU long name and one long link, for an entry and never both kinds; no
global or sparse headers; nothing another reader would parse differently. Such an archive is refused
with ``PG-BUN-004`` (docs/bundle.md lists each case and how the readers differ), so that the tree it
unpacks is the tree GNU tar, bsdtar, Python's tarfile and Go's archive/tar each unpack.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from plugingate.bundle.limits import MAX_META_BYTES
from plugingate.bundle.rules import AMBIGUOUS_ARCHIVE
from plugingate.bundle.tarfields import (
    USTAR_MAGIC,
    AmbiguityError,
    ChecksumMismatchError,
    check_header,
    pax_records,
    ustar_prefix,
)
from plugingate.errors import BundleError

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_SIGNED = struct.Struct("148b8x356b")
_META_FLAGS = (b"x", b"g", b"L", b"K")
_TRUNCATED_HINT = "the archive is cut short or damaged: fetch it again, or repack it with `plugingate pack`"
_CORRUPT_HINT = "the archive is damaged or not a tar file: repack it with `plugingate pack`"
_AMBIGUOUS_HINT = (
    "repack the plugin folder with `plugingate pack DIR -o BUNDLE.tgz`: it writes only headers that every "
    "extractor reads alike"
)


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


class _Meta:
    """The extended headers read so far for the next entry: at most one of each kind, never pax and GNU both.

    Two pax headers, or a pax header and a GNU long name, are what makes readers disagree: Python's
    tarfile applies the first pax header, GNU tar and Go's archive/tar the last; one reader gives the
    pax path precedence over the GNU long name, another the one that came last.
    """

    __slots__ = ("first", "long_link", "long_name", "pax")

    def __init__(self) -> None:
        self.first: int | None = None
        self.pax: dict[str, str] | None = None
        self.long_name: bytes | None = None
        self.long_link: bytes | None = None

    def path(self) -> str | None:
        """The entry's path as far as these headers say, for messages."""
        if self.pax and "path" in self.pax:
            return self.pax["path"]
        return None if self.long_name is None else _decode(self.long_name)

    def add(self, flag: bytes, payload: bytes, offset: int) -> None:
        """Take one extended header; ``AmbiguityError`` when it is a second one or mixes pax and GNU."""
        if self.first is None:
            self.first = offset
        gnu = self.long_name is not None or self.long_link is not None
        if flag == b"x":
            if self.pax is not None:
                raise AmbiguityError(
                    f"a second pax extended header at byte {offset} for one entry (Python's tarfile applies the "
                    "first, GNU tar and Go's archive/tar the last)"
                )
            if gnu:
                raise AmbiguityError(_MIXED)
            self.pax = pax_records(payload)
            return
        if self.pax is not None:
            raise AmbiguityError(_MIXED)
        what = "long-name ('L')" if flag == b"L" else "long-link ('K')"
        if (self.long_name if flag == b"L" else self.long_link) is not None:
            raise AmbiguityError(f"a second GNU {what} header at byte {offset} for one entry (readers keep either)")
        text, _, rest = payload.partition(b"\0")
        if not text or any(rest):
            raise AmbiguityError(f"a GNU {what} header at byte {offset} that is empty or holds bytes after its name")
        if flag == b"L":
            self.long_name = text
        else:
            self.long_link = text


_MIXED = (
    "both a pax extended header and a GNU long-name or long-link header for one entry (readers give either "
    "one precedence)"
)


def _check_utf8(text: str, what: str) -> None:
    """Refuse a name that is not UTF-8: tarfile decodes it with the locale's encoding, others keep bytes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise AmbiguityError(
            f"a {what} that is not UTF-8 (Python's tarfile decodes it with the locale's encoding, GNU tar and "
            "Go's archive/tar keep its bytes, and reports cannot name it)"
        ) from None


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
        meta = _Meta()
        while True:
            offset = self.offset
            block = self._read(BLOCK)
            if len(block) < BLOCK and block:
                raise self._truncated()
            if not block or block == _ZERO_BLOCK:
                if meta.first is not None:
                    raise self._ambiguous(
                        "extended headers followed by the end of the archive instead of an entry", meta.first
                    )
                self.ended = bool(block)
                return None
            kind, size, mode = self._header(block, offset)
            flag = block[156:157]
            if flag not in _META_FLAGS:
                return self._entry(block, kind, flag, (size, mode), offset, meta)
            if flag == b"g":
                raise self._ambiguous(
                    "a pax global header ('g'): GNU tar and Python's tarfile apply it to every later entry, "
                    "bsdtar ignores it, Go's archive/tar returns it as an entry of its own",
                    offset,
                )
            if size > MAX_META_BYTES:
                raise self._corrupt(f"an extended header of {size} bytes (at most {MAX_META_BYTES})", offset)
            payload = self._read(size + (-size % BLOCK))
            if len(payload) < size:
                raise self._truncated()
            try:
                meta.add(flag, payload[:size], offset)
            except AmbiguityError as exc:
                raise self._ambiguous(str(exc), meta.first or offset, meta.path()) from None

    def _header(self, block: bytes, offset: int) -> tuple[bytes, int, int]:
        try:
            return check_header(block)
        except ChecksumMismatchError as exc:
            if exc.args[0] == sum(_SIGNED.unpack(block)) + 8 * 32:
                raise self._ambiguous(
                    "a header checksummed over signed bytes (GNU tar, Python's tarfile and Go's archive/tar "
                    "accept it, POSIX and other extractors do not)",
                    offset,
                ) from None
            raise self._ambiguous(
                "a header whose checksum does not match (damaged, or made so: Python's tarfile stops there "
                "without an error, GNU tar and bsdtar skip it and unpack what follows)",
                offset,
            ) from None
        except AmbiguityError as exc:
            raise self._ambiguous(f"a header where {exc}", offset) from None

    def _entry(
        self, block: bytes, kind: bytes, flag: bytes, numbers: tuple[int, int], offset: int, meta: _Meta
    ) -> TarEntry:
        size, mode = numbers
        pax = meta.pax or {}
        header_name = block[0:100].split(b"\0", 1)[0]
        name = pax.get("path") or _decode(meta.long_name or header_name)
        try:
            _check_utf8(name, "name")
            if kind == USTAR_MAGIC:
                prefix = ustar_prefix(block)
                # NOTE: bsdtar writes a ustar prefix as a fallback beside a pax path, and every reader
                # lets the pax path win; a GNU long name beside a ustar prefix no writer makes.
                if prefix and meta.long_name is not None:
                    raise AmbiguityError(
                        "a ustar prefix together with a GNU long name, which no tar writer makes (GNU long "
                        "names go with GNU headers, and readers disagree on odd mixes)"
                    )
                if prefix and "path" not in pax:
                    name = _decode(prefix) + "/" + name
            if "size" in pax:
                size = int(pax["size"])
            entry_type = _TYPES.get(flag, EntryType.OTHER)
            if entry_type is EntryType.FILE and name.endswith("/"):
                raise AmbiguityError(
                    "a regular file whose name ends with '/' (GNU tar and bsdtar make a folder of it, Python's "
                    "tarfile and Go's archive/tar a file, depending on its type flag)"
                )
            if entry_type is EntryType.SPARSE:
                raise AmbiguityError(
                    "a GNU sparse file ('S'): readers that do not expand its map unpack the map as the file"
                )
            if size and entry_type in (EntryType.DIRECTORY, EntryType.SYMLINK, EntryType.HARDLINK):
                raise AmbiguityError(
                    f"a {entry_type} entry that carries {size} data bytes (GNU tar skips them, Python's tarfile "
                    "and Go's archive/tar read them as the next headers)"
                )
            linkname = pax.get("linkpath") or _decode(meta.long_link or block[157:257].split(b"\0", 1)[0])
            _check_utf8(linkname, "link target")
        except AmbiguityError as exc:
            raise self._ambiguous(str(exc), meta.first or offset, name) from None
        # NOTE: the data of an entry that will be refused is still skipped by ``next``, so that an
        # error names the entry rather than the bytes after it.
        self._left, self._pad = size, -size % BLOCK
        return TarEntry(name, entry_type, mode, size, linkname, offset, _decode(flag))

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

    # -- errors --------------------------------------------------------------------------------------

    def _truncated(self) -> BundleError:
        return BundleError(
            f"the tar data is truncated (it ends at byte {self.offset} inside an entry)",
            path=self._label,
            hint=_TRUNCATED_HINT,
        )

    def _ambiguous(self, what: str, offset: int, name: str | None = None) -> BundleError:
        where = f"entry {name!r} (headers at byte {offset})" if name else f"the headers at byte {offset}"
        return BundleError(
            f"{AMBIGUOUS_ARCHIVE.id}: refused: {where} of the tar data: {what}; extractors could unpack "
            "different files from it than the ones checked",
            path=self._label,
            hint=_AMBIGUOUS_HINT,
        )

    def _corrupt(self, what: str, offset: int) -> BundleError:
        return BundleError(
            f"corrupt tar archive: {what} at byte {offset} of the tar data",
            path=self._label,
            hint=_CORRUPT_HINT,
        )
