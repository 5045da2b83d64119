"""Files in and out: untrusted files read with a bound, outputs written atomically.

Reading: every file plugingate is handed (a policy, a key, a signature, a bundle's plugin.yaml, an
attestation, a tool's output) goes through ``read_bounded``, so "read at most N bytes or refuse" is
written once; a log quoted in a message is read from its end (``read_tail``). Writing: a run that
fails leaves no half-written report, signature or attestation.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from plugingate.errors import InputError


class UnreadableFileError(InputError):
    """A file could not be opened or read (exit 2); ``reason`` is the ``OSError`` (missing, a folder, denied)."""

    def __init__(self, message: str, *, path: str, reason: OSError, hint: str | None = None) -> None:
        super().__init__(message, path=path, hint=hint)
        self.reason = reason


class FileTooLargeError(InputError):
    """A file holds more than the ``limit`` bytes its kind may have (exit 2)."""

    def __init__(self, message: str, *, path: str, limit: int, hint: str | None = None) -> None:
        super().__init__(message, path=path, hint=hint)
        self.limit = limit


def read_bounded(path: Path, limit: int, what: str, *, shown_as: str | None = None, hint: str | None = None) -> bytes:
    """The whole of ``path`` when it holds at most ``limit`` bytes; else ``FileTooLargeError``.

    ``what`` names the kind of file in the messages ("the policy", "the public key"); ``shown_as``
    is the name the person knows the file by when ``path`` is not it (a file inside an unpacked
    bundle is shown by its path in the bundle, never by the private temporary folder).

    # NOTE: at most ``limit + 1`` bytes are ever read, whatever the file claims to be: a size from
    # ``stat`` can change between the look and the read, and a device (``/dev/zero``) or a pipe has
    # none. A symlink is followed, as ``open`` does, and a pipe is read (``--key <(…)`` works): the
    # bound, not the kind of file, is what keeps a hostile input from costing memory.
    """
    shown = shown_as or str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UnreadableFileError(
            f"cannot read {what}: {exc.strerror or exc}", path=shown, reason=exc, hint=hint
        ) from exc
    if len(data) > limit:
        raise FileTooLargeError(
            f"{what} is larger than {limit} bytes",
            path=shown,
            limit=limit,
            hint=hint or f"{what} is at most {limit} bytes; check that this is the right file",
        )
    return data


def read_tail(path: Path, limit: int) -> str:
    """The last ``limit`` bytes of ``path`` as text (undecodable bytes replaced); "" when it does not exist.

    For logs and captured output a tool or a sandboxed plugin wrote, quoted in a message: whatever
    their size, only the end is read.
    """
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - limit))
            return handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    Readers (a CI job collecting artifacts, a person tailing the folder) see the old file or the new
    one, never a prefix of it.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        raise
