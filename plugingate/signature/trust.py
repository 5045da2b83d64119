"""Where the Sigstore root of trust comes from: a pinned file, the embedded copy, or a fresh TUF update.

The ``sigstore`` library's offline mode reads a TUF cache under HOME and only seeds it from its
embedded copy when missing, so a stale cache would win. plugingate never reads that cache: offline,
it loads the embedded trusted root (or the file given) directly; online, it runs the TUF update into
a private temporary folder that is thrown away afterwards.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.errors import UndecidedError
from plugingate.files import FileTooLargeError, UnreadableFileError, read_bounded

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot

MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024


class Instance(StrEnum):
    """The public Sigstore instances whose roots the library embeds."""

    PRODUCTION = "production"
    STAGING = "staging"


_TUF_URLS = {
    Instance.PRODUCTION: "https://tuf-repo-cdn.sigstore.dev",
    Instance.STAGING: "https://tuf-repo-cdn.sigstage.dev",
}


@dataclass(frozen=True, slots=True)
class TrustSettings:
    """How to get the trusted root: a file (``trusted_root``), else the instance's, offline or online."""

    trusted_root: Path | None = None
    offline: bool = False
    instance: Instance = Instance.PRODUCTION

    def describe(self) -> str:
        """For messages: which root was used."""
        if self.trusted_root is not None:
            return f"trusted root {self.trusted_root}"
        mode = "embedded copy, offline" if self.offline else "TUF, online"
        return f"Sigstore {self.instance} trusted root ({mode})"


@contextlib.contextmanager
def private_sigstore_home() -> Iterator[Path]:
    """Point HOME and the XDG folders at a fresh temporary folder for the duration.

    # NOTE: platformdirs reads these variables at each call, so the library's TUF data and cache land
    # in the private folder and never in (or from) the user's.
    """
    names = ("HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME")
    saved = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory(prefix="plugingate-sigstore-") as tmp:
        base = Path(tmp)
        os.environ["HOME"] = str(base)
        os.environ["XDG_CACHE_HOME"] = str(base / "cache")
        os.environ["XDG_DATA_HOME"] = str(base / "data")
        os.environ["XDG_CONFIG_HOME"] = str(base / "config")
        try:
            yield base
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _from_bytes(data: bytes, source: str) -> TrustedRoot:
    from sigstore.models import TrustedRoot
    from sigstore_models.trustroot import v1 as trustroot_v1

    try:
        return TrustedRoot(trustroot_v1.TrustedRoot.from_json(data))
    except Exception as exc:  # NOTE: any parse or validation failure leaves the check undecided
        raise UndecidedError(
            f"cannot load the trusted root {source}: {exc}",
            hint="pass a trusted_root.json in the application/vnd.dev.sigstore.trustedroot+json format",
        ) from exc


def load_trusted_root(settings: TrustSettings) -> TrustedRoot:
    """The trusted root to verify against; any failure to get it is undecided (exit 3), never a pass."""
    if settings.trusted_root is not None:
        path = settings.trusted_root
        try:
            data = read_bounded(path, MAX_TRUSTED_ROOT_BYTES, "the trusted root")
        except UnreadableFileError as exc:
            raise UndecidedError(f"cannot read the trusted root {path}: {exc.reason.strerror}") from exc
        except FileTooLargeError as exc:
            raise UndecidedError(f"the trusted root {path} is larger than {MAX_TRUSTED_ROOT_BYTES} bytes") from exc
        return _from_bytes(data, str(path))
    if settings.offline:
        from urllib.parse import quote

        folder = quote(_TUF_URLS[settings.instance], safe="")
        from plugingate.signature.sigstore_adapter import bundled_trusted_root

        data = bundled_trusted_root(folder)
        return _from_bytes(data, f"embedded {settings.instance} root")
    from sigstore.models import ClientTrustConfig

    with private_sigstore_home():
        try:
            config = ClientTrustConfig.from_tuf(_TUF_URLS[settings.instance], offline=False)
            return config.trusted_root
        except Exception as exc:  # NOTE: network, TUF metadata or parse failure: undecided
            raise UndecidedError(
                f"could not update the Sigstore {settings.instance} trusted root online: {exc}",
                hint="check network access to the TUF repository, or verify offline"
                " (--offline, or --trusted-root FILE)",
            ) from exc
