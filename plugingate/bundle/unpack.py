"""Safe unpacking: every entry lands inside the root, or the whole bundle is refused.

The root is a fresh private folder that nothing else writes to, so the reader keeps its own table of
what it has created and checks every path against that table, never against the file system: a
path whose parent is a symlink or a file is refused before any system call, files are created with
``O_EXCL | O_NOFOLLOW`` (an existing name is never opened, let alone followed), hard links may only
point at regular files this archive already wrote, and once everything is written each symlink is
resolved for real and must stay inside the root (a chain of links that are each harmless alone can
point out). Limits are checked before the bytes they limit are written.
"""

from __future__ import annotations

import errno
import os
import posixpath
import unicodedata
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from plugingate.bundle import rules
from plugingate.bundle.limits import MAX_DEPTH, MAX_NAME_BYTES, MAX_PATH_BYTES, BundleLimits
from plugingate.bundle.tarread import EntryType, TarEntry, TarReader
from plugingate.errors import BundleError, UndecidedError
from plugingate.findings import Finding, Location

_SPECIAL_BITS = 0o7000
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_HOSTILE_HINT = "a bundle must only hold files, folders and links inside itself: rebuild it with `plugingate pack`"
_LIMIT_HINT = "shrink the bundle, or raise the limit in the gate policy's `bundle:` section if it is genuine"
MANIFEST = "plugin.yaml"


class _Kind(Enum):
    DIR = "folder"
    FILE = "file"
    LINK = "symlink"


@dataclass(frozen=True, slots=True)
class UnpackResult:
    """What an unpack wrote: entry and byte counts, and the findings it made on the way."""

    files: int
    unpacked_bytes: int
    findings: tuple[Finding, ...]


def normalize(name: str) -> str:
    """An archive path made canonical (``./a//b/`` → ``a/b``); ``ValueError`` saying why it is unsafe."""
    if "\0" in name:
        raise ValueError("has a NUL byte in its name")
    if name.startswith("/"):
        raise ValueError("is an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError("has '..' in its path")
    path = "/".join(parts)
    if len(path.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise ValueError(f"has a path longer than {MAX_PATH_BYTES} bytes")
    if any(len(p.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for p in parts):
        raise ValueError(f"has a path component longer than {MAX_NAME_BYTES} bytes")
    if len(parts) > MAX_DEPTH:
        raise ValueError(f"is nested more than {MAX_DEPTH} folders deep")
    return path


class Unpacker:
    """Writes the entries of one archive into an empty private root folder."""

    def __init__(self, root: Path, limits: BundleLimits, *, label: str) -> None:
        self._root = root
        self._root_text = os.path.realpath(root)
        self._limits = limits
        self._label = label
        self._made: dict[str, _Kind] = {}
        self._spelled: dict[str, str] = {}  # normalised path -> its first spelling in the archive
        self._sizes: dict[str, int] = {}  # regular files -> size, for hard links
        self._modes: dict[str, int] = {}  # regular files -> permission bits asked for, for hard links
        self._folded: dict[str, str] = {}
        self._links: list[str] = []
        self._findings: list[Finding] = []
        self._entries = 0
        self._bytes = 0

    def run(self, reader: TarReader) -> UnpackResult:
        """Unpack every entry, check the links, and report; raises ``BundleError`` on the first problem."""
        while (entry := reader.next()) is not None:
            self._unpack(entry, reader)
        trailing = reader.drain()
        if trailing:
            raise self._error(
                f"{rules.TRAILING_DATA.id}: refused: {trailing} non-zero bytes follow the tar end-of-archive "
                "marker (expected only zero padding); readers that skip zero blocks would unpack them as more "
                "entries",
                "repack the plugin folder with `plugingate pack`",
            )
        for path in self._links:
            self._check_link_target(path)
        return UnpackResult(self._entries, self._bytes, tuple(self._findings))

    # -- one entry -----------------------------------------------------------------------------------

    def _unpack(self, entry: TarEntry, reader: TarReader) -> None:
        self._entries += 1
        if self._entries > self._limits.max_files:
            raise self._error(
                f"the archive has more than {self._limits.max_files} entries (bundle.maxFiles)", _LIMIT_HINT
            )
        if entry.type not in (EntryType.FILE, EntryType.DIRECTORY, EntryType.SYMLINK, EntryType.HARDLINK):
            raise self._hostile(entry, f"is a {entry.type} (type {entry.typeflag!r}); bundles may not hold one")
        try:
            path = normalize(entry.name)
        except ValueError as exc:
            raise self._hostile(entry, str(exc)) from None
        if not path:
            if entry.type is EntryType.DIRECTORY:
                return
            raise self._hostile(entry, "has an empty name")
        self._make_parents(entry, path)
        if path in self._made:
            if entry.type is EntryType.DIRECTORY and self._made[path] is _Kind.DIR:
                return
            raise self._hostile(
                entry,
                f"names the same path as the earlier entry {self._spelled[path]!r} "
                "(a second copy could hide the first)",
            )
        self._fold(entry, path)
        if entry.mode & _SPECIAL_BITS and entry.type in (EntryType.FILE, EntryType.DIRECTORY):
            self._findings.append(
                rules.SPECIAL_BITS_DROPPED.finding(
                    f"{entry.type} {path} asked for mode {entry.mode & 0o7777:04o}; unpacked without its "
                    "setuid/setgid/sticky bits (expected none)",
                    location=Location(path),
                    mode=f"{entry.mode & 0o7777:04o}",
                )
            )
        target = self._root / path
        try:
            if entry.type is EntryType.DIRECTORY:
                target.mkdir(0o755)
                self._record(path, entry, _Kind.DIR)
            elif entry.type is EntryType.FILE:
                self._write_file(entry, path, target, reader)
            elif entry.type is EntryType.SYMLINK:
                self._symlink(entry, path, target)
            else:
                self._hardlink(entry, path, target)
        except OSError as exc:
            raise self._os_error(entry, exc) from None

    def _make_parents(self, entry: TarEntry, path: str) -> None:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            kind = self._made.get(parent)
            if kind is _Kind.DIR:
                continue
            if kind is _Kind.LINK:
                raise self._hostile(entry, f"would be written through the symlink {parent!r}")
            if kind is _Kind.FILE:
                raise self._hostile(entry, f"would be written inside {parent!r}, which is a file")
            self._fold(entry, parent)
            try:
                (self._root / parent).mkdir(0o755)
            except OSError as exc:
                raise self._os_error(entry, exc) from None
            self._made[parent] = _Kind.DIR
            self._spelled[parent] = parent + "/"

    def _fold(self, entry: TarEntry, path: str) -> None:
        # NOTE: NFC too: macOS file systems fold composed and decomposed accents the way others fold case.
        folded = unicodedata.normalize("NFC", path).casefold()
        other = self._folded.setdefault(folded, path)
        if other == path:
            return
        if folded == MANIFEST:
            raise self._hostile(
                entry,
                f"is a second spelling of {MANIFEST} (the archive also has {other!r}); only one may exist",
            )
        self._findings.append(
            rules.CASE_COLLISION.finding(
                f"{path} and {other} differ only in letter case or accent composition (expected distinct names)",
                location=Location(path),
            )
        )

    def _record(self, path: str, entry: TarEntry, kind: _Kind) -> None:
        self._made[path] = kind
        self._spelled[path] = entry.name

    def _write_file(self, entry: TarEntry, path: str, target: Path, reader: TarReader) -> None:
        size = entry.size
        if size > self._limits.max_file_bytes:
            raise self._error(
                f"entry {entry.name!r} is {size} bytes, over the limit of {self._limits.max_file_bytes} "
                "(bundle.maxFileBytes)",
                _LIMIT_HINT,
            )
        self._add_bytes(entry, size)
        fd = os.open(target, _CREATE_FLAGS, 0o600)
        try:
            for piece in reader.data():
                view = piece
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            # NOTE: the owner's execute bit, as Python's data filter reads it (it clears the group's and
            # others' when the owner has none); every extractor agrees on it.
            os.fchmod(fd, 0o755 if entry.mode & 0o100 else 0o644)
        finally:
            os.close(fd)
        self._record(path, entry, _Kind.FILE)
        self._sizes[path] = size
        self._modes[path] = entry.mode & 0o777

    def _symlink(self, entry: TarEntry, path: str, target: Path) -> None:
        link = entry.linkname
        if not link or "\0" in link:
            raise self._hostile(entry, "is a symlink with an empty or invalid target")
        if link.startswith("/"):
            raise self._hostile(entry, f"is a symlink to the absolute path {link!r}, outside the bundle")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
        if resolved == ".." or resolved.startswith("../"):
            raise self._hostile(entry, f"is a symlink to {link!r}, which points outside the bundle")
        target.symlink_to(link)
        self._record(path, entry, _Kind.LINK)
        self._links.append(path)

    def _hardlink(self, entry: TarEntry, path: str, target: Path) -> None:
        try:
            source = normalize(entry.linkname)
        except ValueError as exc:
            raise self._hostile(entry, f"is a hard link whose target {exc}") from None
        if self._made.get(source) is not _Kind.FILE:
            raise self._hostile(
                entry,
                f"is a hard link to {entry.linkname!r}, which is not a regular file earlier in the archive",
            )
        if entry.mode & 0o777 != self._modes[source]:
            # NOTE: Python's tarfile chmods the shared inode to the link's mode, GNU tar and bsdtar keep
            # the target's: the same file would be executable for one and not for the other.
            raise self._error(
                f"{rules.AMBIGUOUS_ARCHIVE.id}: refused: entry {entry.name!r} is a hard link with mode "
                f"{entry.mode & 0o777:04o} to {entry.linkname!r} of mode {self._modes[source]:04o} (Python's "
                "tarfile gives both the link's mode, GNU tar and bsdtar the target's)",
                "repack the plugin folder with `plugingate pack`",
            )
        self._add_bytes(entry, self._sizes[source])
        os.link(self._root / source, target, follow_symlinks=False)
        self._record(path, entry, _Kind.FILE)
        self._sizes[path] = self._sizes[source]
        self._modes[path] = self._modes[source]

    def _add_bytes(self, entry: TarEntry, size: int) -> None:
        self._bytes += size
        if self._bytes > self._limits.max_unpacked_bytes:
            raise self._error(
                f"the archive unpacks to more than {self._limits.max_unpacked_bytes} bytes "
                f"(reached at entry {entry.name!r}; bundle.maxUnpackedBytes)",
                _LIMIT_HINT,
            )

    def _check_link_target(self, path: str) -> None:
        real = os.path.realpath(self._root / path)
        if real != self._root_text and not real.startswith(self._root_text + os.sep):
            raise self._error(
                f"symlink {path!r} (-> {str((self._root / path).readlink())!r}) resolves outside the bundle "
                "through other links",
                _HOSTILE_HINT,
            )

    # -- errors --------------------------------------------------------------------------------------

    def _hostile(self, entry: TarEntry, why: str) -> BundleError:
        return self._error(f"refused: entry {entry.name!r} {why}", _HOSTILE_HINT)

    def _os_error(self, entry: TarEntry, exc: OSError) -> Exception:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return UndecidedError(
                f"could not unpack {self._label}: {exc.strerror} while writing entry {entry.name!r}",
                hint="free space in the temporary folder (TMPDIR) and run again",
            )
        return self._error(f"could not unpack entry {entry.name!r}: {exc.strerror}", _HOSTILE_HINT)

    def _error(self, message: str, hint: str) -> BundleError:
        return BundleError(message, path=self._label, hint=hint)
