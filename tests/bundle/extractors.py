"""What each extractor makes of an archive, as one comparable tree.

A tree maps each normalised path to what is there: ``("dir",)``, ``("file", sha256, executable)`` or
``("symlink", target)``. GNU tar, bsdtar and Python's tarfile (data filter) really extract into an
empty folder, which is then walked; Go's archive/tar (``tools/tarlist``) lists its entries, which
are applied in order as containerd applies a layer (a later entry replaces an earlier one, a hard
link is a copy of its target). An extractor that fails gives ``Refused`` with its message.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from plugingate.bundle import open_bundle
from plugingate.errors import BundleError

Node = tuple[object, ...]
Tree = dict[str, Node]
TIMEOUT = 60


@dataclass(frozen=True)
class Refused:
    """The extractor (or the gate) would not read the archive; why."""

    why: str


def walk(root: Path) -> Tree:
    """The tree of an extracted folder (its own root left out)."""
    tree: Tree = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                tree[rel] = ("symlink", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                tree[rel] = ("dir",)
            elif stat.S_ISREG(st.st_mode):
                tree[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), bool(st.st_mode & 0o100))
            else:
                tree[rel] = ("other", stat.S_IFMT(st.st_mode))
    return tree


def _command(args: list[str], dest: Path) -> Tree | Refused:
    run = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, check=False, cwd=dest)
    if run.returncode != 0:
        return Refused(f"exit {run.returncode}: {run.stderr.strip()[:300]}")
    return walk(dest)


def gnu_tar(archive: Path, dest: Path) -> Tree | Refused:
    """GNU tar extracts (it detects gzip itself)."""
    return _command(["tar", "-xf", str(archive), "-C", str(dest)], dest)


def bsdtar(archive: Path, dest: Path) -> Tree | Refused:
    """bsdtar (libarchive) extracts."""
    return _command(["bsdtar", "-xf", str(archive), "-C", str(dest)], dest)


def python_tarfile(archive: Path, dest: Path) -> Tree | Refused:
    """Python's tarfile extracts with the data filter (what a careful Python tool does)."""
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError, EOFError, ValueError, KeyError) as exc:
        return Refused(f"{type(exc).__name__}: {exc}")
    return walk(dest)


def _normal(name: str) -> str | None:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts or name.startswith("/"):
        return None
    return "/".join(parts)


def go_archive_tar(tarlist: Path, archive: Path) -> Tree | Refused:
    """Go's archive/tar lists; the entries are applied as containerd applies them."""
    run = subprocess.run([str(tarlist), str(archive)], capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if run.returncode != 0:
        return Refused(f"exit {run.returncode}: {run.stderr.strip()[:300]}")
    tree: Tree = {}
    for line in run.stdout.splitlines():
        entry = json.loads(line)
        flag = entry["typeflag"]
        if flag == "g":
            continue  # NOTE: containerd and Helm skip pax global headers
        path = _normal(entry["name"])
        if path is None:
            return Refused(f"unsafe name {entry['name']!r}")
        if not path:
            continue
        parts = path.split("/")
        for depth in range(1, len(parts)):
            tree.setdefault("/".join(parts[:depth]), ("dir",))
        if flag in ("0", "\x00", "7"):
            tree[path] = ("file", entry["sha256"], bool(entry["mode"] & 0o100))
        elif flag == "5":
            tree[path] = ("dir",)
        elif flag == "2":
            tree[path] = ("symlink", entry["linkname"])
        elif flag == "1":
            source = _normal(entry["linkname"])
            if source is None or tree.get(source, ("",))[0] != "file":
                return Refused(f"hard link {entry['name']!r} to {entry['linkname']!r}, not an earlier file")
            tree[path] = tree[source]
        else:
            return Refused(f"unsupported type {flag!r} for {entry['name']!r}")
    return tree


def gate(archive: Path) -> Tree | Refused:
    """What plugingate unpacks (and so checks)."""
    try:
        with open_bundle(archive) as bundle:
            return walk(bundle.root)
    except BundleError as exc:
        return Refused(exc.message)
