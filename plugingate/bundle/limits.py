"""How much a bundle may unpack to: the policy's ``bundle:`` limits, checked while streaming."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugingate.policy.model import BundleLimitsPolicy

# NOTE: below this many decompressed bytes the compression ratio is not checked, so that a tiny
# archive of a few highly compressible files (a YAML manifest, a page of zeros) does not trip it; a
# gzip bomb is still stopped after at most this much output plus ``ratio`` times what it read.
RATIO_ALLOWANCE_BYTES = 16 << 20

# NOTE: limits that are not policy knobs: they keep every later step (syft, os.walk, rmtree) away from
# pathological trees, and no real plugin comes near them.
MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255
MAX_DEPTH = 64
MAX_META_BYTES = 1 << 20  # one pax or GNU long-name header


@dataclass(frozen=True, slots=True)
class BundleLimits:
    """The policy's bundle limits (``spec.bundle`` in the gate policy; the defaults are its defaults).

    ``max_files`` counts entries of every kind; ``max_unpacked_bytes`` counts regular files and the
    targets of hard links (a link is one more file for every later step to read);
    ``max_compression_ratio`` is decompressed bytes over compressed bytes read so far.
    """

    max_archive_bytes: int = 1 << 30
    max_unpacked_bytes: int = 2 << 30
    max_files: int = 20_000
    max_compression_ratio: float = 200.0
    max_file_bytes: int = 1 << 30

    def __post_init__(self) -> None:
        for name in ("max_archive_bytes", "max_unpacked_bytes", "max_files", "max_file_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"bundle limit {name} must be positive")
        if self.max_compression_ratio < 1:
            raise ValueError("bundle limit max_compression_ratio must be at least 1")

    @classmethod
    def from_policy(cls, policy: BundleLimitsPolicy) -> BundleLimits:
        """The limits a gate policy's ``spec.bundle`` sets (every command that unpacks uses these)."""
        return cls(
            max_archive_bytes=policy.max_archive_bytes,
            max_unpacked_bytes=policy.max_unpacked_bytes,
            max_files=policy.max_files,
            max_compression_ratio=policy.max_compression_ratio,
            max_file_bytes=policy.max_file_bytes,
        )


DEFAULT_LIMITS = BundleLimits()
