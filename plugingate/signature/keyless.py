"""Which Sigstore instance keyless signing uses, and which OIDC identity token it signs with.

A platform may run its own Sigstore (Fulcio, Rekor, a timestamp authority) instead of the public-good
one; its clients then need its trusted root and signing config. They come in one file
(``--trust-config``, a sigstore ``ClientTrustConfig``) or two (``--trusted-root`` + ``--signing-config``);
without either the public-good production (or ``--staging``) instance is used.

The identity token is, in this order: the file given (``--identity-token FILE``), ``$SIGSTORE_ID_TOKEN``
(GitLab's ``id_tokens:`` convention, also what cosign reads), or the CI's ambient credential (GitHub's
``ACTIONS_ID_TOKEN_REQUEST_*``). None of them is a decision we cannot make: exit 3.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.errors import InputError, UndecidedError
from plugingate.files import read_bounded

# NOTE: the settings are part of the gate's request (the pipeline's contract), defined there.
from plugingate.pipeline import KeylessSettings

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig

ID_TOKEN_ENV = "SIGSTORE_ID_TOKEN"  # noqa: S105 (a variable name, not a secret)
MAX_TRUST_FILE_BYTES = 4 * 1024 * 1024
MAX_TOKEN_BYTES = 64 * 1024


def _read(path: Path, what: str, option: str, limit: int) -> str:
    """``path`` as text, at most ``limit`` bytes (the one bounded reader); bad input names ``option``."""
    data = read_bounded(path, limit, what, hint=f"check {option}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text", path=str(path), field=option) from exc


def load_trust_config(settings: KeylessSettings) -> ClientTrustConfig:
    """The ``ClientTrustConfig`` to sign with: the private one given, else the public-good instance's."""
    private = private_trust_config(settings)
    return private if private is not None else public_trust_config(staging=settings.staging)


def private_trust_config(settings: KeylessSettings) -> ClientTrustConfig | None:
    """The private instance's ``ClientTrustConfig``, or None when none is given.

    Bad files are bad input (exit 2), never a silent fall-back to the public-good instance.
    """
    from sigstore.models import ClientTrustConfig, SigningConfig, TrustedRoot

    given = [settings.trust_config is not None, settings.trusted_root is not None, settings.signing_config is not None]
    if settings.trust_config is not None and any(given[1:]):
        raise InputError(
            "give --trust-config, or --trusted-root with --signing-config, not both", field="--trust-config"
        )
    if (settings.trusted_root is None) != (settings.signing_config is None):
        # NOTE: a private root with the public signing config (or the reverse) would sign with one
        # instance and check against another: refuse it rather than guess which was meant.
        raise InputError(
            "a private Sigstore instance needs both --trusted-root and --signing-config (or one --trust-config)",
            field="--signing-config" if settings.signing_config is None else "--trusted-root",
        )
    if settings.trust_config is not None:
        path = settings.trust_config
        text = _read(path, "the Sigstore client trust config", "--trust-config", MAX_TRUST_FILE_BYTES)
        try:
            return ClientTrustConfig.from_json(text)
        except Exception as exc:  # NOTE: the library raises pydantic, JSON and its own errors alike
            raise InputError(
                f"not a Sigstore ClientTrustConfig ({type(exc).__name__}: {exc})",
                path=str(path),
                field="--trust-config",
            ) from exc
    if settings.trusted_root is not None and settings.signing_config is not None:
        root_text = _read(settings.trusted_root, "the Sigstore trusted root", "--trusted-root", MAX_TRUST_FILE_BYTES)
        config_text = _read(
            settings.signing_config, "the Sigstore signing config", "--signing-config", MAX_TRUST_FILE_BYTES
        )
        try:
            TrustedRoot.from_file(str(settings.trusted_root))
        except Exception as exc:  # NOTE: the library raises pydantic, JSON and its own errors alike
            raise InputError(
                f"not a Sigstore trusted root ({type(exc).__name__}: {exc})",
                path=str(settings.trusted_root),
                field="--trusted-root",
            ) from exc
        try:
            SigningConfig.from_file(str(settings.signing_config))
        except Exception as exc:
            raise InputError(
                f"not a Sigstore signing config ({type(exc).__name__}: {exc})",
                path=str(settings.signing_config),
                field="--signing-config",
            ) from exc
        document = {
            "mediaType": ClientTrustConfig.ClientTrustConfigType.CONFIG_0_1.value,
            "trustedRoot": json.loads(root_text),
            "signingConfig": json.loads(config_text),
        }
        return ClientTrustConfig.from_json(json.dumps(document))
    return None


def public_trust_config(*, staging: bool = False) -> ClientTrustConfig:
    """The public-good instance's ``ClientTrustConfig``, fetched through TUF (network)."""
    from sigstore.models import ClientTrustConfig

    try:
        return ClientTrustConfig.staging() if staging else ClientTrustConfig.production()
    except Exception as exc:  # NOTE: TUF over the network: unreachable is undecided, not bad input
        raise UndecidedError(
            f"cannot fetch the Sigstore {'staging' if staging else 'production'} trust config: {exc}",
            hint="keyless signing with the public-good instance needs network access to its TUF repository; "
            "give a private instance with --trust-config",
        ) from exc


def resolve_identity_token(token_file: Path | None) -> str:
    """The OIDC identity token: ``token_file``, else ``$SIGSTORE_ID_TOKEN``, else the ambient CI credential."""
    if token_file is not None:
        token = _read(token_file, "the identity token", "--identity-token", MAX_TOKEN_BYTES).strip()
        if not token:
            raise InputError("the identity token file is empty", path=str(token_file), field="--identity-token")
        return token
    token = os.environ.get(ID_TOKEN_ENV, "").strip()
    if token:
        return token
    try:
        from sigstore.oidc import detect_credential

        ambient = detect_credential()
    except Exception as exc:  # NOTE: a broken ambient credential is as good as none
        raise UndecidedError(f"cannot obtain the ambient OIDC credential: {exc}") from exc
    if not ambient:
        raise UndecidedError(
            f"keyless signing needs an OIDC identity token, and none was found "
            f"(no --identity-token, no ${ID_TOKEN_ENV}, no ambient CI credential)",
            hint="in GitHub Actions grant 'permissions: id-token: write'; in GitLab CI add an id_tokens entry"
            f" {ID_TOKEN_ENV} with 'aud: sigstore'; or sign with a key",
        )
    return str(ambient)
