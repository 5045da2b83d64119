"""The strict tar reading without the extractors: each archive of the differential suite gets its verdict.

The integration twin (``test_tar_differential.py``) checks these verdicts against what GNU tar,
bsdtar, Python's tarfile and Go's archive/tar extract; this module checks the verdicts alone, fast,
and the field grammar piece by piece.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from plugingate.bundle.tarfields import (
    CHECKSUM,
    MODE,
    SIZE,
    UID,
    AmbiguityError,
    NumericField,
    number,
    pax_records,
)

from .extractors import Refused, gate
from .tarcases import CASES, TarCase
from .tarcraft import pax_record


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_verdict(case: TarCase, tmp_path: Path) -> None:
    if case.id.startswith("bsdtar-") and shutil.which("bsdtar") is None:
        pytest.skip("bsdtar not found: apt-get install libarchive-tools (scripts/test does)")
    archive = tmp_path / f"{case.id}.archive"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    archive.write_bytes(case.make(scratch))
    seen = gate(archive)
    if case.expect is None:
        assert not isinstance(seen, Refused), seen
        assert "plugin.yaml" in seen
    else:
        assert isinstance(seen, Refused), seen
        assert re.search(case.expect, seen.why), seen.why


def _field(field: NumericField, raw: bytes) -> bytes:
    block = bytearray(512)
    block[field.start : field.start + len(raw)] = raw
    return bytes(block)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"0000644\0", 0o644),
        (b"   644\0\0", 0o644),
        (b"644 \0 \0 ", 0o644),
        (b"00000644", 0o644),
        (bytes(8), 0),
        (b"\x80\0\0\0\0\0\x01\0", 256),
        (b"\xff" * 8, -1),
    ],
)
def test_numbers_every_reader_reads_alike(raw: bytes, value: int) -> None:
    assert number(_field(UID, raw), UID) == value


@pytest.mark.parametrize(
    "raw",
    [
        b"\x000000644",  # GNU tar skips one leading NUL, tarfile reads 0
        b"\t0000644",  # tarfile and bsdtar skip a tab, Go does not
        b"644\x00123",  # text after the terminator: GNU tar and tarfile ignore it, Go refuses
        b"64 4\0\0\0\0",
        b"0000648\0",
        b"+000644\0",
        b"0_00644\0",
        b"       \0",  # blanks: GNU tar refuses, the others read 0
    ],
)
def test_numbers_readers_parse_apart_are_ambiguous(raw: bytes) -> None:
    with pytest.raises(AmbiguityError, match="not a plain octal number"):
        number(_field(UID, raw), UID)


@pytest.mark.parametrize("field", [MODE, SIZE, CHECKSUM], ids=lambda f: f.name)
def test_base256_where_it_changes_what_is_unpacked(field: NumericField) -> None:
    raw = b"\x80" + bytes(field.end - field.start - 2) + b"\x01"
    with pytest.raises(AmbiguityError, match="base-256"):
        number(_field(field, raw), field)


def test_an_empty_checksum_is_not_zero() -> None:
    with pytest.raises(AmbiguityError, match="checksum"):
        number(_field(CHECKSUM, bytes(8)), CHECKSUM)


def test_pax_records_round_trip() -> None:
    xattr = pax_record("SCHILY.xattr.user.a", b"\xff")
    payload = pax_record("path", "deploy/ü.yaml") + pax_record("mtime", "1.5") + xattr
    records = pax_records(payload)
    assert records["path"] == "deploy/ü.yaml" and records["mtime"] == "1.5"
    assert records["SCHILY.xattr.user.a"].encode("utf-8", "surrogateescape") == b"\xff"


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"21 path=manifests/a\n", "length does not end at a newline"),
        (b"019 path=manifests/a\n", "no length"),
        (pax_record("path", "manifests/a") + b"\0", "no length"),
        (b"9 =value\n", "no key=value"),
        (pax_record("path", "a") + pax_record("path", "b"), "twice"),
        (pax_record("path", ""), "empty pax 'path'"),
        (pax_record("size", " 12"), "not a decimal number"),
        (pax_record("mtime", "1e9"), "not a decimal time"),
        (pax_record("linkpath", "a\0b"), "NUL"),
        (pax_record("hdrcharset", "BINARY"), "some extractors act on"),
        (pax_record("GNU.sparse.size", "10"), "sparse"),
        (pax_record("LIBARCHIVE.xattr.security.capability", "AQAAAg"), "grants rights"),
        (pax_record("path", b"caf\xe9"), "not UTF-8"),
    ],
)
def test_pax_records_readers_parse_apart_are_ambiguous(payload: bytes, why: str) -> None:
    with pytest.raises(AmbiguityError, match=re.escape(why)):
        pax_records(payload)
