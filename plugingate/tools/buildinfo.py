"""The main module version a Go binary carries in its build information.

``go install mod@version`` records the module version in the binary even when the program's own
``version`` command says ``[not provided]`` (it was built without ``-X main.version``). Reading it
here keeps such a binary's version on record without running Go.
"""

from __future__ import annotations

import mmap
from pathlib import Path

_MAGIC = b"\xff Go buildinf:"
_HEADER = 32
_INLINE_STRINGS = 0x2


def _uvarint(data: bytes | mmap.mmap, pos: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(10):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ValueError("varint too long")


def main_module_version(binary: Path) -> str | None:
    """The ``mod`` line's version (``v0.121.2``) of a Go >= 1.18 binary, or None if absent."""
    try:
        with binary.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            start = data.find(_MAGIC)
            if start < 0 or not data[start + 15] & _INLINE_STRINGS:
                return None
            pos = start + _HEADER
            size, pos = _uvarint(data, pos)
            pos += size  # the Go version string
            size, pos = _uvarint(data, pos)
            if size > 1 << 20:
                return None
            modinfo = bytes(data[pos : pos + size]).decode("utf-8", "replace")
    except (OSError, ValueError, IndexError):
        return None
    for line in modinfo.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] == "mod" and parts[2] != "(devel)":
            return parts[2]
    return None
