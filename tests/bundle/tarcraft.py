"""Tar archives written block by block, so every field can hold what an attacker would put there.

``tarfile`` fixes up what it writes (checksums, number formats, one pax header an entry); the
differential suite needs the exact bytes: two pax headers, a size field with a leading NUL, a
checksum over signed bytes. ``header`` builds one 512-byte header from raw field overrides.
"""

from __future__ import annotations

import gzip
import struct
import zlib

BLOCK = 512
USTAR = b"ustar\x0000"
GNU = b"ustar  \x00"
V7 = bytes(8)
_FIELDS = {
    "name": (0, 100),
    "mode": (100, 108),
    "uid": (108, 116),
    "gid": (116, 124),
    "size": (124, 136),
    "mtime": (136, 148),
    "chksum": (148, 156),
    "typeflag": (156, 157),
    "linkname": (157, 257),
    "magic": (257, 265),
    "uname": (265, 297),
    "gname": (297, 329),
    "devmajor": (329, 337),
    "devminor": (337, 345),
    "prefix": (345, 500),
}
_SIGNED = struct.Struct("148b8x356b")


def octal(value: int, width: int) -> bytes:
    """``value`` as ``width - 1`` octal digits and a NUL, as ustar writers do."""
    return b"%0*o\0" % (width - 1, value)


def header(
    name: bytes | str,
    flag: bytes = b"0",
    size: int = 0,
    *,
    mode: int = 0o644,
    linkname: bytes | str = b"",
    magic: bytes = USTAR,
    checksum: str = "unsigned",
    fields: dict[str, bytes] | None = None,
) -> bytes:
    """One header block; ``fields`` replaces any field's bytes verbatim (padded with NULs to its width)."""
    raw = fields or {}
    block = bytearray(BLOCK)
    values: dict[str, bytes] = {
        "name": name.encode() if isinstance(name, str) else name,
        "mode": octal(mode, 8),
        "uid": octal(0, 8),
        "gid": octal(0, 8),
        "size": octal(size, 12),
        "mtime": octal(0, 12),
        "typeflag": flag,
        "linkname": linkname.encode() if isinstance(linkname, str) else linkname,
        "magic": magic,
    }
    if magic != V7:
        values.update(uname=b"root", gname=b"root", devmajor=octal(0, 8), devminor=octal(0, 8))
    values.update(raw)
    for key, value in values.items():
        start, end = _FIELDS[key]
        assert len(value) <= end - start, (key, value)
        block[start : start + len(value)] = value
    if "chksum" not in raw:
        block[148:156] = b" " * 8
        total = sum(_SIGNED.unpack(bytes(block))) + 256 if checksum == "signed" else sum(block)
        block[148:156] = b"%06o\0 " % (total & 0o777777)
    return bytes(block)


def padded(data: bytes) -> bytes:
    """``data`` and the zeros that fill its last block."""
    return data + bytes(-len(data) % BLOCK)


def file(
    name: bytes | str, data: bytes, *, flag: bytes = b"0", mode: int = 0o644, magic: bytes = USTAR, **fields: bytes
) -> bytes:
    """A regular file entry: its header (``fields`` as in ``header``) and its data blocks."""
    return header(name, flag, len(data), mode=mode, magic=magic, fields=fields) + padded(data)


def pax_record(key: str, value: bytes | str) -> bytes:
    """One ``LEN key=value\\n`` record, its length counting its own digits."""
    body = b" " + key.encode() + b"=" + (value.encode() if isinstance(value, str) else value) + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


def extended(flag: bytes, payload: bytes, name: str = "././@PaxHeader") -> bytes:
    """An extended header ('x', 'g', 'L', 'K', …) carrying ``payload``."""
    return header(name, flag, len(payload)) + padded(payload)


def pax(*records: tuple[str, bytes | str], flag: bytes = b"x") -> bytes:
    """A pax extended header of ``records``, in order."""
    return extended(flag, b"".join(pax_record(k, v) for k, v in records))


def long_name(flag: bytes, name: str) -> bytes:
    """A GNU long-name ('L') or long-link ('K') header, NUL-terminated as GNU tar writes it."""
    return extended(flag, name.encode() + b"\0", "././@LongLink")


END = bytes(2 * BLOCK)
MANIFEST = b"apiVersion: plugingate.dev/v1\nkind: Plugin\nmetadata: {name: tar-diff, version: 0.0.1}\n"
POD = b"apiVersion: v1\nkind: Pod\nmetadata: {name: evil}\nspec:\n  hostPID: true\n  containers: [{name: x}]\n"
HARMLESS = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: harmless}\n"


def manifest() -> bytes:
    """The plugin.yaml entry every differential archive starts with."""
    return file("plugin.yaml", MANIFEST)


def tar(*parts: bytes, end: bytes = END) -> bytes:
    """plugin.yaml, then ``parts``, then ``end`` (the end-of-archive marker unless told otherwise)."""
    return manifest() + b"".join(parts) + end


def gz(data: bytes) -> bytes:
    """One gzip member with a fixed header (mtime 0)."""
    return gzip.compress(data, mtime=0)


def gz_split(data: bytes, at: int) -> bytes:
    """Two gzip members, the first holding ``data[:at]``: every reader must join them."""
    return gz(data[:at]) + gz(data[at:])


def gz_custom(
    data: bytes,
    *,
    flags: int = 0,
    extra: bytes = b"",
    fname: bytes = b"",
    comment: bytes = b"",
    hcrc: int | None = None,
    crc: int | None = None,
) -> bytes:
    """One gzip member with the optional header fields (FEXTRA, FNAME, FCOMMENT, FHCRC) of ``flags``.

    ``hcrc`` and ``crc`` replace the header and data checksums (``None``: the right ones).
    """
    head = b"\x1f\x8b\x08" + bytes([flags]) + bytes(4) + b"\x00\xff"
    if flags & 0x04:
        head += struct.pack("<H", len(extra)) + extra
    if flags & 0x08:
        head += fname + b"\0"
    if flags & 0x10:
        head += comment + b"\0"
    if flags & 0x02:
        head += struct.pack("<H", (zlib.crc32(head) & 0xFFFF) if hcrc is None else hcrc)
    deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflate.compress(data) + deflate.flush()
    trailer = struct.pack("<II", zlib.crc32(data) if crc is None else crc, len(data) & 0xFFFFFFFF)
    return head + body + trailer
