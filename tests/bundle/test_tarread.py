"""The tar reader refuses what it does not fully understand, with the offset where it is."""

from __future__ import annotations

import gzip
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from plugingate.bundle import open_bundle
from plugingate.bundle.limits import MAX_META_BYTES
from plugingate.errors import BundleError

from .archives import Member, manifest, tar_bytes, tar_header


def _open(path: Path) -> None:
    with open_bundle(path):
        pass


def test_bad_header_checksum(tmp_path: Path) -> None:
    data = bytearray(tar_bytes([manifest(), Member("a.txt", b"a")]))
    data[1024 + 10] ^= 0x01  # second header, inside its name
    path = tmp_path / "bad.tar"
    path.write_bytes(bytes(data))
    with pytest.raises(
        BundleError,
        match=r"PG-BUN-004: refused: the headers at byte 1024 of the tar data: a header whose checksum does not match",
    ):
        _open(path)


def test_oversized_pax_header(tmp_path: Path) -> None:
    header = tar_header("././@PaxHeader", MAX_META_BYTES + 1, type_=tarfile.XHDTYPE)
    path = tmp_path / "pax.tgz"
    path.write_bytes(gzip.compress(tar_bytes([manifest()])[:1024] + header + bytes(MAX_META_BYTES + 512)))
    with pytest.raises(BundleError, match="extended header of"):
        _open(path)


@pytest.mark.parametrize("headers", [{"path": "evil"}, {"comment": "abc123"}], ids=["path", "comment"])
def test_global_pax_headers_are_refused(tmp_path: Path, headers: dict[str, str]) -> None:
    # NOTE: even `git archive`'s comment-only header: Go's archive/tar returns it as an entry of its own.
    buf = tmp_path / "g.tar"
    with tarfile.open(buf, "w", format=tarfile.PAX_FORMAT, pax_headers=headers) as tar:
        info = tarfile.TarInfo("plugin.yaml")
        tar.addfile(info)
    with pytest.raises(BundleError, match=r"PG-BUN-004: refused: the headers at byte 0 .* pax global header"):
        _open(buf)


def test_gnu_sparse_files_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "plugin.yaml").write_text("x: 1\n")
    with (src / "sparse.bin").open("wb") as f:
        f.truncate(64 << 20)
        f.seek(32 << 20)
        f.write(b"data")
    path = tmp_path / "sparse.tgz"
    subprocess.run(["tar", "--sparse", "--format=gnu", "-czf", str(path), "-C", str(src), "."], check=True)
    with pytest.raises(BundleError, match=r"PG-BUN-004.*GNU sparse file"):
        _open(path)


def test_entry_with_a_non_octal_size(tmp_path: Path) -> None:
    header = bytearray(tar_header("a.txt", 1))
    header[124:136] = b"9999zzzz999\0"
    header[148:156] = b"        "
    header[148:155] = f"{sum(header):06o}\0".encode()
    path = tmp_path / "size.tar"
    path.write_bytes(tar_bytes([manifest()])[:1024] + bytes(header) + bytes(2048))
    with pytest.raises(BundleError, match=r"PG-BUN-004.*size field b'9999zzzz999\\x00' is not a plain octal number"):
        _open(path)


def test_symlink_entry_with_data_is_refused(tmp_path: Path) -> None:
    header = bytearray(tar_header("ln", 4, type_=tarfile.SYMTYPE))
    path = tmp_path / "ln.tar"
    path.write_bytes(tar_bytes([manifest()])[:1024] + bytes(header) + b"data" + bytes(508 + 1024))
    with pytest.raises(BundleError, match=r"PG-BUN-004.*'ln'.*carries 4 data bytes"):
        _open(path)


def test_random_bytes_after_a_gzip_header(tmp_path: Path) -> None:
    path = tmp_path / "noise.tgz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + bytes(6) + os.urandom(4096))
    with pytest.raises(BundleError, match=r"corrupt|truncated"):
        _open(path)
