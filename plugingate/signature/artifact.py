"""The thing a signature or an attestation is about: a file, or only its digest."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.errors import InputError
from plugingate.files import read_bounded

if TYPE_CHECKING:
    from plugingate.keys import PublicKey

_DIGEST_RE = re.compile(r"^(sha256|sha512):([0-9a-fA-F]+)$")
_DIGEST_LEN = {"sha256": 64, "sha512": 128}
# NOTE: the artifact is hashed in streaming fashion; only Ed25519 key signatures need its bytes,
# and those are read only up to this size.
MAX_ARTIFACT_BYTES_IN_MEMORY = 1024 * 1024 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Artifact:
    """A signed artifact: its name for messages, its digests (hex by algorithm) and its path if any."""

    name: str
    digests: dict[str, str] = field(hash=False)
    path: Path | None = None

    @classmethod
    def from_path(cls, path: Path) -> Artifact:
        """Hash a file (sha256 and sha512, streaming)."""
        sha256 = hashlib.sha256()
        sha512 = hashlib.sha512()
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(_CHUNK):
                    sha256.update(chunk)
                    sha512.update(chunk)
        except OSError as exc:
            raise InputError(f"cannot read the artifact: {exc.strerror}", path=str(path)) from exc
        return cls(name=str(path), digests={"sha256": sha256.hexdigest(), "sha512": sha512.hexdigest()}, path=path)

    @classmethod
    def from_digest(cls, value: str) -> Artifact:
        """An artifact known only by ``sha256:<hex>`` or ``sha512:<hex>``."""
        match = _DIGEST_RE.match(value.strip())
        if not match or len(match.group(2)) != _DIGEST_LEN[match.group(1)]:
            raise InputError(
                f"not a digest: {value!r}", hint="expected sha256:<64 hex digits> or sha512:<128 hex digits>"
            )
        alg, hexdigest = match.group(1), match.group(2).lower()
        return cls(name=f"{alg}:{hexdigest}", digests={alg: hexdigest})

    @classmethod
    def from_argument(cls, value: str) -> Artifact:
        """A command-line ARTIFACT: a digest when it looks like one, else a path that must exist."""
        if _DIGEST_RE.match(value.strip()):
            return cls.from_digest(value)
        path = Path(value)
        if not path.is_file():
            raise InputError("the artifact is not a file (nor a sha256:/sha512: digest)", path=value)
        return cls.from_path(path)

    @property
    def sha256(self) -> str | None:
        """The hex SHA-256, when known."""
        return self.digests.get("sha256")

    def display_digest(self) -> str:
        """The digest shown in messages (sha256 when known)."""
        for alg in ("sha256", "sha512"):
            if alg in self.digests:
                return f"{alg}:{self.digests[alg]}"
        return "unknown digest"

    def read_bytes(self) -> bytes | None:
        """The artifact's bytes (bounded), or None when only its digest is known."""
        if self.path is None:
            return None
        return read_bounded(self.path, MAX_ARTIFACT_BYTES_IN_MEMORY, "the artifact")


def signature_matches(artifact: Artifact, key: PublicKey, signature: bytes) -> bool:
    """Whether ``signature`` is ``key``'s signature of the artifact (as cosign signs blobs).

    ECDSA P-256 and RSA sign the SHA-256 of the message, so the streamed digest is enough and a
    large archive is never held in memory; Ed25519 (and the other curves, whose hash differs) need
    the bytes themselves.
    """
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from plugingate.keys import verify_bytes, verify_digest

    prehashable = isinstance(key, rsa.RSAPublicKey) or (
        isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    )
    if prehashable and artifact.sha256 is not None:
        return verify_digest(key, signature, bytes.fromhex(artifact.sha256))
    data = artifact.read_bytes()
    if data is not None:
        return verify_bytes(key, signature, data)
    if artifact.sha256 is not None:
        return verify_digest(key, signature, bytes.fromhex(artifact.sha256))
    raise InputError(
        "a key signature needs the artifact file or its sha256 digest",
        path=artifact.name,
        hint="pass the artifact file, or sha256:<hex>",
    )
