"""``pack_directory`` and ``plugingate pack``: the same tree always gives the same bytes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from plugingate.bundle import BundleKind, open_bundle, pack_directory
from plugingate.errors import BundleError

LONG = "very-long-folder-name-" * 6


def _tree(root: Path, *, reverse: bool, mtime: int, owner: int, tight_modes: bool) -> Path:
    """The same plugin tree, created in a different order with different mtimes, owners and modes."""
    files = {
        "plugin.yaml": b"apiVersion: plugingate.dev/v1\nkind: Plugin\n",
        "deploy/deployment.yaml": b"kind: Deployment\n",
        "deploy/service.yaml": b"kind: Service\n",
        "bin/run.sh": b"#!/bin/sh\necho hi\n",
        "docs/ünïcode.md": b"# docs\n",
        f"{LONG}/{LONG}/deep.txt": b"deep\n",
    }
    order = sorted(files, reverse=reverse)
    for rel in order:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[rel])
        executable = rel.endswith(".sh")
        if tight_modes:
            path.chmod(0o700 if executable else 0o600)
        else:
            path.chmod(0o775 if executable else 0o664)
    (root / "bin" / "latest").symlink_to("run.sh")
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames + ["."]:
            p = os.path.join(dirpath, name)
            if os.geteuid() == 0:  # NOTE: only root may give files away; CI runs as root
                os.lchown(p, owner, owner)
            os.utime(p, (mtime, mtime), follow_symlinks=False)
    return root


def test_same_tree_gives_same_bytes_whatever_mtimes_owners_order_and_modes(tmp_path: Path) -> None:
    a = _tree(tmp_path / "a" / "plug", reverse=False, mtime=1_000_000, owner=0, tight_modes=False)
    b = _tree(tmp_path / "b" / "plug", reverse=True, mtime=1_700_000_000, owner=1234, tight_modes=True)
    digest_a = pack_directory(a, tmp_path / "a.tgz")
    digest_b = pack_directory(b, tmp_path / "b.tgz")
    assert (tmp_path / "a.tgz").read_bytes() == (tmp_path / "b.tgz").read_bytes()
    assert digest_a == digest_b
    # packing again gives the same bytes too (no time or randomness leaks in)
    assert pack_directory(a, tmp_path / "a2.tgz") == digest_a


def test_digest_is_the_sha256sum_of_the_file(tmp_path: Path) -> None:
    src = _tree(tmp_path / "plug", reverse=False, mtime=0, owner=0, tight_modes=False)
    out = tmp_path / "plug.tgz"
    digest = pack_directory(src, out)
    sha256sum = subprocess.run(["sha256sum", str(out)], capture_output=True, text=True, check=True)
    assert sha256sum.stdout.split()[0] == digest == hashlib.sha256(out.read_bytes()).hexdigest()


def test_archive_has_normalised_headers_and_sorted_entries(tmp_path: Path) -> None:
    src = _tree(tmp_path / "plug", reverse=True, mtime=123456, owner=4321, tight_modes=True)
    out = tmp_path / "plug.tgz"
    pack_directory(src, out)
    raw = out.read_bytes()
    assert raw[:4] == b"\x1f\x8b\x08\x00", "gzip, deflate, no flags (no file name in the header)"
    assert raw[4:8] == b"\0\0\0\0", "gzip mtime is 0"
    with tarfile.open(out) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names, key=lambda n: n.split("/"))
    assert names[0] == "bin" and "plugin.yaml" in names
    for m in members:
        assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")
        if m.isfile():
            assert m.mode == (0o755 if m.name.endswith(".sh") else 0o644)
        elif m.isdir():
            assert m.mode == 0o755
    link = next(m for m in members if m.name == "bin/latest")
    assert link.issym() and link.linkname == "run.sh"


def test_system_tar_reads_the_pack(tmp_path: Path) -> None:
    src = _tree(tmp_path / "plug", reverse=False, mtime=0, owner=0, tight_modes=False)
    out = tmp_path / "plug.tgz"
    pack_directory(src, out)
    dest = tmp_path / "x"
    dest.mkdir()
    subprocess.run(["tar", "-xzf", str(out), "-C", str(dest)], check=True)
    assert (dest / LONG / LONG / "deep.txt").read_bytes() == b"deep\n"
    assert (dest / "docs" / "ünïcode.md").exists()


def test_open_bundle_on_a_folder_digests_its_pack(tmp_path: Path) -> None:
    src = _tree(tmp_path / "plug", reverse=False, mtime=0, owner=0, tight_modes=False)
    digest = pack_directory(src, tmp_path / "plug.tgz")
    with open_bundle(src, tmp_parent=tmp_path) as bundle:
        assert bundle.kind is BundleKind.DIRECTORY
        assert bundle.name == "plug.tgz"
        assert bundle.sha256 == digest
        assert bundle.size == (tmp_path / "plug.tgz").stat().st_size
        assert (bundle.root / "deploy" / "service.yaml").read_bytes() == b"kind: Service\n"


def test_hard_links_are_stored_as_files(tmp_path: Path) -> None:
    src = tmp_path / "plug"
    src.mkdir()
    (src / "plugin.yaml").write_text("x: 1\n")
    (src / "copy.yaml").hardlink_to(src / "plugin.yaml")
    pack_directory(src, tmp_path / "p.tgz")
    with tarfile.open(tmp_path / "p.tgz") as tar:
        assert all(m.isfile() for m in tar.getmembers())


def test_a_fifo_cannot_be_packed(tmp_path: Path) -> None:
    src = tmp_path / "plug"
    src.mkdir()
    (src / "plugin.yaml").write_text("x: 1\n")
    os.mkfifo(src / "pipe")
    with pytest.raises(BundleError, match="FIFO"):
        pack_directory(src, tmp_path / "p.tgz")
    assert not (tmp_path / "p.tgz").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["plug"], "no temporary file left behind"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plugingate", *args], capture_output=True, text=True)


def test_cli_pack_prints_the_digest(tmp_path: Path) -> None:
    src = _tree(tmp_path / "plug", reverse=False, mtime=0, owner=0, tight_modes=False)
    out = tmp_path / "plug.tgz"
    text = _cli("pack", str(src), "-o", str(out))
    assert text.returncode == 0, text.stderr
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert text.stdout.strip() == f"sha256:{digest}  {out}"
    as_json = _cli("pack", str(src), "-o", str(out), "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    payload = json.loads(as_json.stdout)
    assert payload == {"path": str(out), "sha256": digest, "digest": f"sha256:{digest}", "size": out.stat().st_size}


def test_cli_pack_into_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    src = _tree(tmp_path / "plug", reverse=False, mtime=0, owner=0, tight_modes=False)
    run = _cli("pack", str(src), "-o", str(tmp_path / "missing" / "p.tgz"))
    assert run.returncode == 2
    assert "cannot write the archive" in run.stderr


def test_cli_pack_refuses_to_write_inside_the_folder(tmp_path: Path) -> None:
    src = _tree(tmp_path / "plug", reverse=False, mtime=0, owner=0, tight_modes=False)
    run = _cli("pack", str(src), "-o", str(src / "self.tgz"))
    assert run.returncode == 2
    assert "inside the folder being packed" in run.stderr
    assert not (src / "self.tgz").exists()


# NOTE: the digest of a fixed tree, pinned. If this changes, every folder bundle packed before gets a
# new digest and its signatures stop matching: a change to the pack format (or a new Python tarfile or
# zlib producing other bytes) must be deliberate and announced.
GOLDEN_SHA256 = "10465c32c0c5263e257e85a97c063bcbfbf3c033d43f6accea5cce0327876346"


def test_pack_format_is_pinned(tmp_path: Path) -> None:
    src = tmp_path / "golden"
    (src / "deploy").mkdir(parents=True)
    (src / "plugin.yaml").write_bytes(b"apiVersion: plugingate.dev/v1\nkind: Plugin\n")
    (src / "deploy" / "a.yaml").write_bytes(b"kind: ConfigMap\n" * 50)
    (src / "run.sh").write_bytes(b"#!/bin/sh\n")
    (src / "run.sh").chmod(0o755)
    (src / "latest").symlink_to("run.sh")
    assert pack_directory(src, tmp_path / "golden.tgz") == GOLDEN_SHA256
