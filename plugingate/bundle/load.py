"""``open_bundle``: digest and unpack a bundle in one streaming pass, and always clean up after it."""

from __future__ import annotations

import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from plugingate.bundle.digest import READ_SIZE, HashingReader
from plugingate.bundle.limits import DEFAULT_LIMITS, BundleLimits
from plugingate.bundle.pack import write_reproducible
from plugingate.bundle.rules import TRAILING_DATA
from plugingate.bundle.stream import BundleKind, TarStream, detect_kind
from plugingate.bundle.tarread import TarReader
from plugingate.bundle.unpack import MANIFEST, Unpacker
from plugingate.errors import BundleError
from plugingate.findings import Finding

_TEMP_PREFIX = "plugingate-bundle-"


@dataclass(frozen=True, slots=True)
class OpenedBundle:
    """A bundle that has been digested and unpacked; valid only inside ``open_bundle``'s ``with``."""

    source: Path  # what the user named
    name: str  # subject name for attestations: the archive's file name ("<folder>.tgz" for a folder)
    kind: BundleKind
    sha256: str  # of the archive bytes (for a folder: of its reproducible pack)
    size: int  # archive bytes
    root: Path  # private temporary folder holding the unpacked tree, plugin.yaml at its top
    files: int
    unpacked_bytes: int
    findings: tuple[Finding, ...] = ()


@contextmanager
def open_bundle(
    path: Path, limits: BundleLimits = DEFAULT_LIMITS, *, tmp_parent: Path | None = None
) -> Iterator[OpenedBundle]:
    """Digest and safely unpack the bundle at ``path`` into a private temporary folder.

    The folder (mode 0700, under ``tmp_parent`` or the system temporary folder) is removed when the
    ``with`` block ends, whatever ends it: an error, Ctrl-C, or SIGTERM (turned into ``SystemExit``
    for the time the bundle is open, when this runs in the main thread).
    """
    with _terminate_as_exit():
        work = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=tmp_parent))
        try:
            yield _open(path, limits, work)
        finally:
            _remove(work)


def _open(path: Path, limits: BundleLimits, work: Path) -> OpenedBundle:
    label = str(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise BundleError(f"cannot read the bundle: {exc.strerror}", path=label) from None
    root = work / "tree"
    root.mkdir(0o700)
    if stat.S_ISDIR(st.st_mode):
        archive = work / "packed.tgz"
        with archive.open("wb") as out:
            write_reproducible(path, out, limits)
        name = f"{path.resolve().name}.tgz"
        kind = BundleKind.DIRECTORY
    elif stat.S_ISREG(st.st_mode):
        archive, name, kind = path, path.name, None
    else:
        raise BundleError(
            "not a regular file or a folder (expected a plugin folder, a .tar or a .tar.gz/.tgz)", path=label
        )
    try:
        file = archive.open("rb")
    except OSError as exc:
        raise BundleError(f"cannot read the bundle: {exc.strerror}", path=label) from None
    with file:
        reader = HashingReader(file, label=label, max_bytes=limits.max_archive_bytes)
        first = reader.read(READ_SIZE)
        detected = detect_kind(first, label=label)
        stream = TarStream(reader, detected, first, limits, label=label)
        result = Unpacker(root, limits, label=label).run(TarReader(stream.chunks(), label=label))
        reader.finish()  # NOTE: the digest covers every byte, also any after the archive's end
    findings = list(result.findings)
    if stream.stats.garbage_after_gzip:
        raise BundleError(
            f"{TRAILING_DATA.id}: refused: {stream.stats.garbage_after_gzip} non-zero bytes follow the gzip "
            "stream and are not part of it (expected the file to end with the archive, or zero padding; GNU "
            "tar fails on them, other readers ignore them)",
            path=label,
            hint="repack the plugin folder with `plugingate pack`",
        )
    _check_manifest(root, label)
    return OpenedBundle(
        source=path,
        name=name,
        kind=kind or detected,
        sha256=reader.hexdigest(),
        size=reader.bytes_read,
        root=root,
        files=result.files,
        unpacked_bytes=result.unpacked_bytes,
        findings=tuple(findings),
    )


def _check_manifest(root: Path, label: str) -> None:
    manifest = root / MANIFEST
    try:
        mode = manifest.lstat().st_mode
    except FileNotFoundError:
        tops = sorted(p.name for p in root.iterdir())
        hint = "a bundle has plugin.yaml at its top level; pack the plugin folder itself with `plugingate pack`"
        if len(tops) == 1 and (root / tops[0] / MANIFEST).is_file():
            hint = f"plugin.yaml is inside {tops[0]}/: pack that folder itself, not its parent"
        raise BundleError(f"no {MANIFEST} at the top of the bundle", path=label, hint=hint) from None
    if not stat.S_ISREG(mode):
        raise BundleError(
            f"{MANIFEST} at the top of the bundle is not a regular file (expected a file, not a link or folder)",
            path=label,
        )


def _remove(work: Path) -> None:
    """Remove the temporary folder; Ctrl-C and SIGTERM wait until it is gone, then take effect."""
    blocked = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    interrupted: BaseException | None = None
    try:
        for _ in range(3):
            # NOTE: the mask covers this thread only; a signal delivered to another thread still
            # raises here, so the removal is retried rather than left half done.
            try:
                shutil.rmtree(work, onerror=_make_writable_and_retry)
                break
            except FileNotFoundError:
                break
            except (KeyboardInterrupt, SystemExit) as exc:
                interrupted = exc
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    if interrupted is not None:
        raise interrupted


def _make_writable_and_retry(func: object, path: str, _exc: object) -> None:
    # NOTE: modes are normalised on the way in, so this only matters if something in the tree changed
    # them later (a tool run on it); a folder without write permission would otherwise stay behind.
    stuck = Path(path)
    stuck.parent.chmod(0o700)
    if stuck.is_dir() and not stuck.is_symlink():
        stuck.chmod(0o700)
        shutil.rmtree(stuck, ignore_errors=True)
    else:
        stuck.unlink(missing_ok=True)


@contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """While inside, SIGTERM raises ``SystemExit(143)`` so that ``finally`` blocks run and clean up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
