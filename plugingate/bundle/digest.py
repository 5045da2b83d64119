"""The bundle digest: sha256 of every byte of the archive file, taken while it is read once."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

from plugingate.errors import BundleError

READ_SIZE = 1 << 20


class HashingReader:
    """Reads a file in chunks, hashing each chunk as it goes and refusing to read past a size limit.

    The unpacker reads the archive only through this, so the digest is of exactly the bytes that were
    unpacked (no second read that could see a different file), and ``finish`` makes sure it also covers
    whatever follows the archive's end.
    """

    def __init__(self, file: BinaryIO, *, label: str, max_bytes: int) -> None:
        self._file = file
        self._label = label
        self._max_bytes = max_bytes
        self._hash = hashlib.sha256()
        self.bytes_read = 0

    def read(self, size: int = READ_SIZE) -> bytes:
        """The next chunk (at most ``size`` bytes), hashed; ``b""`` at the end of the file."""
        chunk = self._file.read(size)
        if chunk:
            self.bytes_read += len(chunk)
            if self.bytes_read > self._max_bytes:
                raise BundleError(
                    f"the archive is larger than the policy's limit of {self._max_bytes} bytes "
                    "(bundle.maxArchiveBytes)",
                    path=self._label,
                    hint="shrink the bundle, or raise bundle.maxArchiveBytes in the gate policy",
                )
            self._hash.update(chunk)
        return chunk

    def finish(self) -> int:
        """Read and hash the rest of the file; the number of bytes that were left."""
        left = 0
        while chunk := self.read():
            left += len(chunk)
        return left

    def hexdigest(self) -> str:
        """The sha256 of everything read so far, as lower-case hex."""
        return self._hash.hexdigest()


def sha256_file(path: Path) -> str:
    """The sha256 of a file, hex: streamed, so any size takes constant memory."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
