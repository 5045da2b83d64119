"""The fields of a tar header and of a pax record, read the one way every common extractor agrees on.

GNU tar, bsdtar (libarchive), Python's ``tarfile`` and Go's ``archive/tar`` (Helm, containerd) parse
the same bytes differently at the edges: GNU tar skips one leading NUL in a number that ``tarfile``
reads as 0; bsdtar stops at the first non-digit where Go refuses the header; ``tarfile`` takes the
first of two pax headers and Go the last. A gate that picks one reading checks one tree while
another tool unpacks another. So each field is accepted only in a form all four read alike, and
anything else raises ``AmbiguityError`` (the reader turns it into a refusal naming the entry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# NOTE: what every reader parses to the same number (``number``): optional leading spaces, octal
# digits, then only NULs or spaces; an all-NUL field is 0 for all four. Tabs (bsdtar and tarfile skip them, Go
# does not), a NUL before the digits (GNU tar skips one, tarfile and bsdtar read 0) and text after
# the terminator (GNU tar and tarfile ignore it, Go refuses) are not.
_BASE256_POSITIVE = 0x80
_BASE256_NEGATIVE = 0xFF

USTAR_MAGIC = b"ustar\x0000"
GNU_MAGIC = b"ustar  \x00"
V7_MAGIC = bytes(8)

# NOTE: the pax keys whose meaning all four readers share (POSIX's, and the bookkeeping ones bsdtar
# and star write); any other key might change the entry for one reader and not for another (sparse
# maps, ``hdrcharset``, file flags, ``SCHILY.realsize``, ``SUN.holesdata``), so it is refused.
PAX_KEYS = frozenset(
    {
        "path",
        "linkpath",
        "size",
        "mtime",
        "atime",
        "ctime",
        "uid",
        "gid",
        "uname",
        "gname",
        "comment",
        "SCHILY.dev",
        "SCHILY.ino",
        "SCHILY.nlink",
        "LIBARCHIVE.creationtime",
    }
)
_XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")
# NOTE: extended attributes that grant something when an extractor restores them as root (file
# capabilities, ACLs, SELinux labels): a tool that restores them unpacks another file than one that
# does not.
_XATTR_REFUSED = ("security.", "trusted.", "system.")
_PAX_INTEGER = re.compile(r"[0-9]+")
_PAX_TIME = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_PAX_INTEGER_KEYS = frozenset({"size", "uid", "gid", "SCHILY.dev", "SCHILY.ino", "SCHILY.nlink"})
_PAX_TIME_KEYS = frozenset({"mtime", "atime", "ctime", "LIBARCHIVE.creationtime"})
_PAX_TEXT_KEYS = frozenset({"path", "linkpath", "uname", "gname"})
_RECORD_LENGTH = re.compile(rb"[1-9][0-9]*")


class AmbiguityError(Exception):
    """Bytes that two common extractors read differently; the message says how."""


class ChecksumMismatchError(Exception):
    """The stored checksum (the argument) is not the unsigned sum of the header's bytes, as POSIX says."""


@dataclass(frozen=True, slots=True)
class NumericField:
    """Where a numeric field sits in a header, and whether base-256 is accepted in it."""

    name: str
    start: int
    end: int
    base256: bool  # NOTE: where every reader decodes it alike and it cannot change what is unpacked


MODE = NumericField("mode", 100, 108, base256=False)
UID = NumericField("uid", 108, 116, base256=True)
GID = NumericField("gid", 116, 124, base256=True)
SIZE = NumericField("size", 124, 136, base256=False)
MTIME = NumericField("mtime", 136, 148, base256=True)
CHECKSUM = NumericField("checksum", 148, 156, base256=False)
DEVMAJOR = NumericField("devmajor", 329, 337, base256=True)
DEVMINOR = NumericField("devminor", 337, 345, base256=True)
_OTHER_FIELDS = (UID, GID, MTIME, DEVMAJOR, DEVMINOR)


def number(block: bytes, field: NumericField) -> int:
    """The value of ``field`` in a header ``block``, in a form every reader parses to that value."""
    raw = block[field.start : field.end]
    # NOTE: spaces, digits, NULs or spaces, checked without a regex on the path every header takes: ``isdigit``
    # on bytes is ASCII only (no '+', '_', tabs, which ``int`` would take), and ``int`` refuses 8 and 9.
    digits = raw.rstrip(b" \0").lstrip(b" ")
    if digits.isdigit():
        try:
            return int(digits, 8)
        except ValueError:
            pass
    elif raw[0] in (_BASE256_POSITIVE, _BASE256_NEGATIVE):
        if not field.base256:
            raise AmbiguityError(f"its {field.name} field is in base-256, which extractors decode differently here")
        value = int.from_bytes(raw[1:], "big")
        return value if raw[0] == _BASE256_POSITIVE else value - (1 << (8 * (len(raw) - 1)))
    elif field is not CHECKSUM and not raw.strip(b"\0"):
        return 0
    raise AmbiguityError(
        f"its {field.name} field {raw!r} is not a plain octal number (GNU tar, bsdtar, Python's tarfile and "
        "Go's archive/tar parse such a field differently)"
    )


def magic(block: bytes) -> bytes:
    """The header's magic and version: ustar/pax, GNU, or none (old v7); anything else is ambiguous."""
    value = block[257:265]
    if value in (USTAR_MAGIC, GNU_MAGIC, V7_MAGIC):
        return value
    raise AmbiguityError(
        f"its magic {value!r} is neither ustar, GNU nor empty (GNU tar may read it as ustar or star, "
        "Python's tarfile and Go's archive/tar as v7: they disagree on its name)"
    )


def check_header(block: bytes) -> tuple[bytes, int, int]:
    """Check the checksum, the magic and every numeric field of a header block; its magic, size and mode.

    The checksum comes first, so that a damaged header is reported as damaged rather than as odd.
    """
    stored = number(block, CHECKSUM)
    if stored != sum(block) - sum(block[148:156]) + 8 * 32:
        raise ChecksumMismatchError(stored)
    kind = magic(block)
    # NOTE: devmajor and devminor too, even in a v7 header that has none: Python's tarfile parses them
    # in every header and stops quietly at one it cannot parse, where Go's archive/tar reads on.
    for field in _OTHER_FIELDS:
        number(block, field)
    return kind, number(block, SIZE), number(block, MODE)


def ustar_prefix(block: bytes) -> bytes:
    """The ustar prefix of a name; refused when the field holds more than a NUL-terminated string.

    GNU tar takes a ustar header whose prefix area looks like star's (a shorter prefix, then times)
    for a star header and reads a shorter prefix than the others do.
    """
    field = block[345:500]
    text, _, rest = field.partition(b"\0")
    if any(rest):
        raise AmbiguityError("its ustar prefix field holds bytes after its end (GNU tar may read it as a star header)")
    return text


def pax_records(payload: bytes) -> dict[str, str]:
    """The records of a pax extended header, each ``LEN key=value\\n`` exactly, each key at most once."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(payload):
        space = payload.find(b" ", pos, pos + 21)
        if space < 0 or not _RECORD_LENGTH.fullmatch(payload[pos:space]):
            raise AmbiguityError(f"a malformed pax record at byte {pos} of its extended header (no length)")
        end = pos + int(payload[pos:space])
        if end > len(payload) or payload[end - 1 : end] != b"\n":
            raise AmbiguityError(
                f"a malformed pax record at byte {pos} of its extended header (its length does not end at a "
                "newline: Python's tarfile and Go's archive/tar read such records differently)"
            )
        key_raw, eq, value_raw = payload[space + 1 : end - 1].partition(b"=")
        if not eq or not key_raw:
            raise AmbiguityError(f"a malformed pax record at byte {pos} of its extended header (no key=value)")
        try:
            key = key_raw.decode("utf-8")
            # NOTE: extended attribute values are binary; everything else must be UTF-8 text.
            value = value_raw.decode("utf-8", "surrogateescape" if key.startswith(_XATTR_PREFIXES) else "strict")
        except UnicodeDecodeError:
            raise AmbiguityError(f"a pax record at byte {pos} that is not UTF-8 (readers decode it apart)") from None
        if key in out:
            raise AmbiguityError(f"the pax key {key!r} twice in one extended header (readers keep different ones)")
        _check_pax_value(key, value)
        out[key] = value
        pos = end
    return out


def _check_pax_value(key: str, value: str) -> None:
    if key.startswith("GNU.sparse."):
        raise AmbiguityError(
            f"a GNU sparse file (pax key {key!r}): each reader supports other versions of its map, and one "
            "that does not unpacks the map itself as the file"
        )
    if key.startswith(_XATTR_PREFIXES):
        name = key.split(".xattr.", 1)[1]
        if name.startswith(_XATTR_REFUSED):
            raise AmbiguityError(
                f"the pax key {key!r}: an extended attribute that grants rights when an extractor restores it "
                "(GNU tar and bsdtar may, Python's tarfile and Go's archive/tar never do)"
            )
        return
    if key not in PAX_KEYS:
        raise AmbiguityError(
            f"the pax key {key!r}, which some extractors act on and others ignore (allowed: "
            f"{', '.join(sorted(PAX_KEYS))} and user extended attributes)"
        )
    if not value and key != "comment":
        raise AmbiguityError(
            f"an empty pax {key!r} (POSIX says it unsets the key: Python's tarfile falls back to the header, "
            "Go's archive/tar takes the empty value)"
        )
    if key in _PAX_INTEGER_KEYS and not _PAX_INTEGER.fullmatch(value):
        raise AmbiguityError(f"a pax {key!r} that is not a decimal number ({value!r})")
    if key in _PAX_TIME_KEYS and not _PAX_TIME.fullmatch(value):
        raise AmbiguityError(f"a pax {key!r} that is not a decimal time ({value!r})")
    if key in _PAX_TEXT_KEYS and "\0" in value:
        raise AmbiguityError(f"a pax {key!r} with a NUL byte (Go's archive/tar refuses it, others cut it there)")
