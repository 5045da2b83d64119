"""``open_bundle`` on genuine archives: fields, formats, findings, limits, and clean-up."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import os
import signal
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from plugingate.bundle import BundleKind, BundleLimits, open_bundle
from plugingate.errors import BundleError, ExitCode

from .archives import MANIFEST, Member, manifest, tar_bytes, write_tgz


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plugin(tmp_path: Path, *extra: Member) -> Path:
    return write_tgz(
        tmp_path / "plugin.tgz",
        [manifest(), Member("deploy", type=tarfile.DIRTYPE, mode=0o755), Member("deploy/a.yaml", b"a: 1\n"), *extra],
    )


def test_tgz_is_digested_and_unpacked(tmp_path: Path) -> None:
    archive = _plugin(tmp_path, Member("bin/tool", b"#!/bin/sh\n", mode=0o750))
    parent = tmp_path / "tmp"
    parent.mkdir()
    with open_bundle(archive, tmp_parent=parent) as bundle:
        assert bundle.kind is BundleKind.TAR_GZ
        assert bundle.name == "plugin.tgz"
        assert bundle.source == archive
        assert bundle.sha256 == _sha(archive)
        assert bundle.size == archive.stat().st_size
        assert bundle.files == 4
        assert bundle.unpacked_bytes == len(MANIFEST) + 5 + 10
        assert (bundle.root / "plugin.yaml").read_bytes() == MANIFEST
        assert stat.S_IMODE((bundle.root / "bin" / "tool").stat().st_mode) == 0o755
        assert stat.S_IMODE((bundle.root / "deploy" / "a.yaml").stat().st_mode) == 0o644
        assert stat.S_IMODE(bundle.root.stat().st_mode) == 0o700
        assert bundle.root.is_relative_to(parent)
        assert bundle.findings == ()
    assert list(parent.iterdir()) == []


def test_kind_comes_from_magic_bytes_not_the_name(tmp_path: Path) -> None:
    plain = tmp_path / "really-a-tar.tgz"
    plain.write_bytes(tar_bytes([manifest()]))
    gz = tmp_path / "really-gzip.tar"
    gz.write_bytes(gzip.compress(tar_bytes([manifest()])))
    with open_bundle(plain) as a, open_bundle(gz) as b:
        assert a.kind is BundleKind.TAR and b.kind is BundleKind.TAR_GZ
        assert a.sha256 == _sha(plain) and b.sha256 == _sha(gz)


def test_other_compressors_are_named(tmp_path: Path) -> None:
    path = tmp_path / "plugin.tar.bz2"
    path.write_bytes(bz2.compress(tar_bytes([manifest()])))
    with pytest.raises(BundleError, match="bzip2") as info, open_bundle(path):
        pass
    assert info.value.exit_code == ExitCode.USAGE


def test_bytes_after_the_gzip_stream_are_refused(tmp_path: Path) -> None:
    # NOTE: GNU tar fails on them where the other readers ignore them: refused.
    archive = _plugin(tmp_path)
    with archive.open("ab") as f:
        f.write(b"appended junk that no tool extracts")
    refused = r"PG-BUN-002: refused: 35 non-zero bytes follow the gzip stream"
    with pytest.raises(BundleError, match=refused) as info, open_bundle(archive):
        pass
    assert info.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize("compress", [False, True], ids=["tar", "tgz"])
def test_data_after_the_tar_end_marker_is_refused(tmp_path: Path, compress: bool) -> None:
    data = tar_bytes([manifest()]) + b"hidden after the end" + bytes(1000)
    tar = tmp_path / "plugin.tar"
    tar.write_bytes(gzip.compress(data) if compress else data)
    refused = r"PG-BUN-002: refused: 20 non-zero bytes follow the tar end"
    with pytest.raises(BundleError, match=refused), open_bundle(tar):
        pass


def test_data_in_a_second_gzip_member_after_the_end_marker_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plugin.tgz"
    path.write_bytes(gzip.compress(tar_bytes([manifest()])) + gzip.compress(tar_bytes([Member("x.yaml", b"a")])))
    refused = r"PG-BUN-002: refused: \d+ non-zero bytes follow the tar end"
    with pytest.raises(BundleError, match=refused), open_bundle(path):
        pass


def test_zero_padding_after_the_gzip_stream_is_fine(tmp_path: Path) -> None:
    archive = _plugin(tmp_path)
    with archive.open("ab") as f:
        f.write(bytes(1000))
    with open_bundle(archive) as bundle:
        assert bundle.sha256 == _sha(archive) and bundle.size == archive.stat().st_size
        assert bundle.findings == ()


def test_zero_padding_after_the_end_marker_is_fine(tmp_path: Path) -> None:
    # NOTE: GNU tar pads to a 10240-byte record; only zeros may follow the marker.
    path = tmp_path / "plugin.tgz"
    path.write_bytes(gzip.compress(tar_bytes([manifest()]) + bytes(20480)))
    with open_bundle(path) as bundle:
        assert bundle.sha256 == _sha(path)
        assert bundle.findings == ()


def test_multi_member_gzip(tmp_path: Path) -> None:
    data = tar_bytes([manifest(), Member("b.txt", b"b" * 5000)])
    path = tmp_path / "multi.tgz"
    path.write_bytes(gzip.compress(data[:3000]) + gzip.compress(data[3000:]))
    with open_bundle(path) as bundle:
        assert (bundle.root / "b.txt").read_bytes() == b"b" * 5000
        assert bundle.findings == ()


@pytest.mark.parametrize("fmt", ["gnu", "pax", "ustar", "v7"])
def test_archives_written_by_gnu_tar(tmp_path: Path, fmt: str) -> None:
    src = tmp_path / "src"
    name = {"v7": "n" * 60, "ustar": "u" * 95}.get(fmt, "l" * 150)
    (src / "deploy" / name).mkdir(parents=True)
    (src / "plugin.yaml").write_bytes(MANIFEST)
    (src / "deploy" / name / "x.yaml").write_text("x: 1\n")
    target = f"{name}/x.yaml" if fmt in ("gnu", "pax") else "../plugin.yaml"  # NOTE: ustar links <= 100
    (src / "deploy" / "ln").symlink_to(target)
    archive = tmp_path / f"{fmt}.tgz"
    subprocess.run(["tar", f"--format={fmt}", "-czf", str(archive), "-C", str(src), "."], check=True)
    with open_bundle(archive) as bundle:
        assert (bundle.root / "deploy" / name / "x.yaml").read_text() == "x: 1\n"
        assert (bundle.root / "deploy" / "ln").readlink() == Path(target)
        assert (bundle.root / "deploy" / "ln").is_file()


def test_links_inside_the_bundle_are_kept(tmp_path: Path) -> None:
    archive = _plugin(
        tmp_path,
        Member("bin", type=tarfile.DIRTYPE, mode=0o755),
        Member("bin/cfg", type=tarfile.SYMTYPE, linkname="../deploy/a.yaml"),
        Member("copy.yaml", type=tarfile.LNKTYPE, linkname="deploy/a.yaml"),
    )
    with open_bundle(archive) as bundle:
        assert (bundle.root / "bin" / "cfg").read_text() == "a: 1\n"
        assert (bundle.root / "copy.yaml").stat().st_ino == (bundle.root / "deploy" / "a.yaml").stat().st_ino
        assert bundle.unpacked_bytes == len(MANIFEST) + 5 + 5, "a hard link counts as the bytes it exposes"


def test_setuid_setgid_sticky_are_dropped_and_reported(tmp_path: Path) -> None:
    archive = _plugin(
        tmp_path,
        Member("suid", b"#!/bin/sh\n", mode=0o4755),
        Member("sgid", b"x", mode=0o2644),
        Member("sticky", type=tarfile.DIRTYPE, mode=0o1777),
    )
    with open_bundle(archive) as bundle:
        assert stat.S_IMODE((bundle.root / "suid").stat().st_mode) == 0o755
        assert stat.S_IMODE((bundle.root / "sgid").stat().st_mode) == 0o644
        assert not (bundle.root / "sticky").stat().st_mode & 0o7000
        found = {f.location.path: f for f in bundle.findings if f.location}
        assert set(found) == {"suid", "sgid", "sticky"}
        assert {f.rule_id for f in found.values()} == {"PG-BUN-001"}
        assert "4755" in found["suid"].message


@pytest.mark.parametrize(
    ("limits", "match"),
    [
        (BundleLimits(max_files=2), "more than 2 entries"),
        (BundleLimits(max_file_bytes=1000), "bundle.maxFileBytes"),
        (BundleLimits(max_unpacked_bytes=5000), "bundle.maxUnpackedBytes"),
        (BundleLimits(max_archive_bytes=100), "bundle.maxArchiveBytes"),
    ],
)
def test_limits(tmp_path: Path, limits: BundleLimits, match: str) -> None:
    archive = _plugin(tmp_path, Member("big.bin", os.urandom(3000)), Member("big2.bin", os.urandom(3000)))
    with pytest.raises(BundleError, match=match) as info, open_bundle(archive, limits, tmp_parent=tmp_path):
        pass
    assert info.value.exit_code == ExitCode.USAGE
    assert [p.name for p in tmp_path.iterdir()] == ["plugin.tgz"]


def test_hard_links_count_against_the_unpacked_limit(tmp_path: Path) -> None:
    blob = os.urandom(3000)
    links = [Member(f"l{i}", type=tarfile.LNKTYPE, linkname="blob") for i in range(5)]
    archive = write_tgz(tmp_path / "links.tgz", [manifest(), Member("blob", blob), *links])
    with (
        pytest.raises(BundleError, match="maxUnpackedBytes"),
        open_bundle(archive, BundleLimits(max_unpacked_bytes=10_000)),
    ):
        pass


def test_ratio_allows_small_compressible_archives_but_not_large_ones(tmp_path: Path) -> None:
    small = write_tgz(tmp_path / "small.tgz", [manifest(), Member("zeros", bytes(4 << 20))])
    with open_bundle(small) as bundle:
        assert bundle.unpacked_bytes > 4 << 20
    big = write_tgz(tmp_path / "big.tgz", [manifest(), Member("zeros", bytes(40 << 20))])
    with pytest.raises(BundleError, match="inflates more than 200 times") as info, open_bundle(big):
        pass
    assert "bundle.maxCompressionRatio" in info.value.diagnostics()


def test_missing_plugin_yaml_points_at_the_wrapping_folder(tmp_path: Path) -> None:
    archive = write_tgz(tmp_path / "wrapped.tgz", [Member("acme/plugin.yaml", MANIFEST)])
    with pytest.raises(BundleError, match=r"no plugin\.yaml") as info, open_bundle(archive):
        pass
    assert "inside acme/" in info.value.diagnostics()


def test_plugin_yaml_must_be_a_regular_file(tmp_path: Path) -> None:
    archive = write_tgz(
        tmp_path / "p.tgz",
        [Member("real.yaml", MANIFEST), Member("plugin.yaml", type=tarfile.SYMTYPE, linkname="real.yaml")],
    )
    with pytest.raises(BundleError, match="not a regular file"), open_bundle(archive):
        pass


def test_a_folder_bundle_with_a_link_out_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "plug"
    src.mkdir()
    (src / "plugin.yaml").write_bytes(MANIFEST)
    (src / "etc").symlink_to("/etc")
    with pytest.raises(BundleError, match="absolute path"), open_bundle(src, tmp_parent=tmp_path):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["plug"]


def test_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="cannot read"), open_bundle(tmp_path / "missing.tgz"):
        pass
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(BundleError, match="not a regular file"), open_bundle(tmp_path / "fifo"):
        pass


# -- clean-up ------------------------------------------------------------------------------------------


def test_temp_folder_removed_after_an_error_in_the_block(tmp_path: Path) -> None:
    archive = _plugin(tmp_path)
    parent = tmp_path / "tmp"
    parent.mkdir()
    with pytest.raises(RuntimeError), open_bundle(archive, tmp_parent=parent) as bundle:
        assert bundle.root.exists()
        raise RuntimeError("a later step failed")
    assert list(parent.iterdir()) == []


def test_temp_folder_removed_on_keyboard_interrupt_in_the_block(tmp_path: Path) -> None:
    archive = _plugin(tmp_path)
    parent = tmp_path / "tmp"
    parent.mkdir()
    with pytest.raises(KeyboardInterrupt), open_bundle(archive, tmp_parent=parent):
        raise KeyboardInterrupt
    assert list(parent.iterdir()) == []


def test_temp_folder_removed_on_keyboard_interrupt_while_unpacking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _plugin(tmp_path, *(Member(f"f{i}", b"x" * 100) for i in range(20)))
    parent = tmp_path / "tmp"
    parent.mkdir()
    import plugingate.bundle.unpack as unpack

    real_write, calls = os.write, []

    def interrupted_write(fd: int, data: bytes) -> int:
        calls.append(fd)
        if len(calls) == 10:
            assert any(parent.iterdir()), "the unpack had started"
            raise KeyboardInterrupt
        return real_write(fd, data)

    monkeypatch.setattr(unpack.os, "write", interrupted_write)
    with pytest.raises(KeyboardInterrupt), open_bundle(archive, tmp_parent=parent):
        pytest.fail("not reached")
    assert list(parent.iterdir()) == []


def test_temp_folder_removed_on_sigterm(tmp_path: Path) -> None:
    archive = _plugin(tmp_path)
    parent = tmp_path / "tmp"
    parent.mkdir()
    script = (
        "import sys, time\nfrom pathlib import Path\nfrom plugingate.bundle import open_bundle\n"
        "with open_bundle(Path(sys.argv[1]), tmp_parent=Path(sys.argv[2])) as b:\n"
        "    print(b.root, flush=True)\n    time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(archive), str(parent)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    root = Path(proc.stdout.readline().strip())
    assert (root / "plugin.yaml").exists()
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert time.monotonic() - started < 10
    assert list(parent.iterdir()) == []


def test_previous_sigterm_handler_is_restored(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with open_bundle(_plugin(tmp_path)):
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_folder_over_the_limits_is_refused_before_packing(tmp_path: Path) -> None:
    src = tmp_path / "plug"
    src.mkdir()
    (src / "plugin.yaml").write_bytes(MANIFEST)
    for i in range(10):
        (src / f"f{i}").write_bytes(b"x" * 100)
    parent = tmp_path / "tmp"
    parent.mkdir()
    with (
        pytest.raises(BundleError, match="more than 5"),
        open_bundle(src, BundleLimits(max_files=5), tmp_parent=parent),
    ):
        pass
    with pytest.raises(BundleError, match="maxUnpackedBytes"), open_bundle(src, BundleLimits(max_unpacked_bytes=500)):
        pass
    assert list(parent.iterdir()) == []


@pytest.mark.parametrize(
    ("first", "second"),
    [("deploy/App.yaml", "deploy/app.yaml"), ("deploy/caf\u00e9.yaml", "deploy/cafe\u0301.yaml")],
    ids=["case", "nfc-nfd"],
)
def test_names_a_folding_file_system_would_merge_are_reported(tmp_path: Path, first: str, second: str) -> None:
    # NOTE: distinct on Linux, one file on macOS (case-insensitive, and it folds accent composition).
    archive = write_tgz(tmp_path / "fold.tgz", [manifest(), Member(first, b"a: 1\n"), Member(second, b"a: 2\n")])
    with open_bundle(archive) as bundle:
        assert [f.rule_id for f in bundle.findings] == ["PG-BUN-003"]
        assert (bundle.root / first).read_bytes() != (bundle.root / second).read_bytes()
