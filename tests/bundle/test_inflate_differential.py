"""The gate inflates bundles with ISA-L (fast); zlib is the reference reading. The two must agree.

Every stream here goes through the gate's ``TarStream`` and through a plain zlib loop with the same
rules (members one after another, zeros after the last one are padding): the bytes produced, or the
fact of an error, must be the same. The cases are the ones where inflaters are known to differ:
header flags (reserved bits, FEXTRA/FNAME/FCOMMENT, the header CRC), trailers (CRC-32, ISIZE),
truncation, several members, and random bit flips in headers, data and trailers.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zlib

import pytest

from plugingate.bundle.digest import HashingReader
from plugingate.bundle.limits import BundleLimits
from plugingate.bundle.stream import BundleKind, TarStream
from plugingate.errors import BundleError

PAYLOAD = random.Random(7).randbytes(40_000) + b"plugingate " * 20_000


def _deflate(payload: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(payload) + packer.flush()


RAW = _deflate(PAYLOAD)
TRAILER = struct.pack("<II", zlib.crc32(PAYLOAD), len(PAYLOAD))


def member(flags: int, *, header_crc: int | None = None, extra: bytes = b"AB\x02\x00xy") -> bytes:
    """One gzip member with the given FLG byte and every optional field that FLG announces."""
    head = b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0\0\x03"
    if flags & 4:
        head += struct.pack("<H", len(extra)) + extra
    if flags & 8:
        head += b"plugin.tar\0"
    if flags & 16:
        head += b"a comment\0"
    if flags & 2:
        head += struct.pack("<H", zlib.crc32(head) & 0xFFFF if header_crc is None else header_crc)
    return head + RAW + TRAILER


def reference(data: bytes) -> bytes | None:
    """zlib's reading: the inflated bytes of every member, or None when zlib refuses the stream."""
    out, rest = [], data
    try:
        while True:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out.append(inflater.decompress(rest))
            if not inflater.eof:
                return None  # truncated
            rest = inflater.unused_data
            if not rest.startswith(b"\x1f\x8b"):
                return b"".join(out)
    except zlib.error:
        return None


def gate_reading(data: bytes) -> bytes | None:
    """The gate's reading of the same bytes, or None when it refuses them."""
    reader = HashingReader(io.BytesIO(data), label="case.tgz", max_bytes=1 << 30)
    first = reader.read()
    stream = TarStream(reader, BundleKind.TAR_GZ, first, BundleLimits(), label="case.tgz")
    try:
        return b"".join(stream.chunks())
    except BundleError:
        return None


def _cases() -> dict[str, bytes]:
    cases = {f"flags-{flags:#04x}": member(flags) for flags in range(256)}
    cases["header-crc-wrong"] = member(2, header_crc=0x1234)
    cases["extra-overruns"] = member(4, extra=b"\xff\xff")
    cases["two-members"] = member(0) + member(8)
    cases["second-member-reserved-flag"] = member(0) + member(0x20)
    cases["zero-padding"] = member(0) + bytes(1024)
    cases["truncated"] = member(0)[: len(member(0)) // 2]
    cases["no-trailer"] = member(0)[:-8]
    rng = random.Random(2026)
    full = member(2 | 4 | 8 | 16)
    for n in range(150):
        damaged = bytearray(full)
        # NOTE: a third of the flips in the header, a third in the data, a third in the trailer.
        where = (rng.randrange(40), rng.randrange(40, len(full) - 8), rng.randrange(len(full) - 8, len(full)))[n % 3]
        damaged[where] ^= 1 << rng.randrange(8)
        cases[f"flip-{n}-at-{where}"] = bytes(damaged)
    return cases


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_isal_reads_as_zlib_reads(name: str) -> None:
    data = CASES[name]
    assert gate_reading(data) == reference(data), f"{name}: the gate's inflater and zlib disagree"


def test_the_cases_cover_both_outcomes() -> None:
    # NOTE: a differential over cases that all fail (or all pass) would prove little.
    outcomes = [reference(data) is None for data in CASES.values()]
    assert sum(outcomes) > 100 and outcomes.count(False) > 20


def test_reserved_flags_are_refused_with_a_clear_message() -> None:
    reader = HashingReader(io.BytesIO(member(0x40)), label="case.tgz", max_bytes=1 << 30)
    stream = TarStream(reader, BundleKind.TAR_GZ, reader.read(), BundleLimits(), label="case.tgz")
    with pytest.raises(BundleError, match=r"unknown header flags set: 0x40"):
        b"".join(stream.chunks())


def test_a_large_stream_inflates_identically() -> None:
    payload = os.urandom(3 << 20) + bytes(5 << 20)
    data = zlib.compress(payload, wbits=31)
    assert gate_reading(data) == payload
