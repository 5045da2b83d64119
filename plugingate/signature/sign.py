"""Signing for plugin authors: with a key (cosign-compatible files) or keyless in CI (Sigstore).

With a key, two files are written beside the artifact: ``ARTIFACT.sig`` (the base64 signature
``cosign sign-blob --key`` writes) and ``ARTIFACT.sigstore.json`` (a Sigstore bundle v0.3 whose
verification material is the key's hint, with no transparency log entry: it verifies with
``cosign verify-blob --key --bundle --insecure-ignore-tlog``). Keyless signing uses an OIDC identity
token (a file, ``SIGSTORE_ID_TOKEN``, or the CI's ambient credential) and a Sigstore instance: the
public-good one, or a private one given by its trust files.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugingate.errors import UndecidedError
from plugingate.files import write_atomic
from plugingate.keys import key_hint, sign_bytes

if TYPE_CHECKING:
    from plugingate.keys import PrivateKey
    from plugingate.pipeline import KeylessSettings

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"


@dataclass(frozen=True, slots=True)
class SignedFiles:
    """What signing wrote."""

    signature: Path | None
    bundle: Path


def key_bundle(data: bytes, signature: bytes, key: PrivateKey) -> dict[str, Any]:
    """A Sigstore bundle v0.3 for a key signature of ``data`` (public-key hint, no log entry)."""
    return {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key_hint(key.public_key())}, "tlogEntries": []},
        "messageSignature": {
            "messageDigest": {
                "algorithm": "SHA2_256",
                "digest": base64.b64encode(hashlib.sha256(data).digest()).decode(),
            },
            "signature": base64.b64encode(signature).decode(),
        },
    }


def sign_with_key(
    artifact: Path, key: PrivateKey, *, signature_path: Path | None = None, bundle_path: Path | None = None
) -> SignedFiles:
    """Sign ``artifact`` with ``key``; write the raw signature and the key-hint bundle."""
    data = artifact.read_bytes()
    signature = sign_bytes(key, data)
    sig_out = signature_path or artifact.with_name(artifact.name + ".sig")
    bundle_out = bundle_path or artifact.with_name(artifact.name + ".sigstore.json")
    write_atomic(sig_out, base64.b64encode(signature) + b"\n")
    write_atomic(bundle_out, json.dumps(key_bundle(data, signature, key), indent=2).encode() + b"\n")
    return SignedFiles(signature=sig_out, bundle=bundle_out)


def sign_keyless(
    artifact: Path, *, bundle_path: Path | None = None, settings: KeylessSettings | None = None
) -> SignedFiles:
    """Sign ``artifact`` keyless: a Fulcio certificate for the OIDC identity, logged in Rekor.

    The instance and the token come from ``settings`` (see :mod:`plugingate.signature.keyless`);
    bad trust files are bad input (exit 2); no token, or any failure to reach the instance, is
    undecided (exit 3).
    """
    from plugingate.pipeline import KeylessSettings
    from plugingate.signature.keyless import (
        private_trust_config,
        public_trust_config,
        resolve_identity_token,
    )

    settings = settings or KeylessSettings()
    private = private_trust_config(settings)
    token = resolve_identity_token(settings.identity_token)
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    from plugingate.signature.trust import private_sigstore_home

    bundle_out = bundle_path or artifact.with_name(artifact.name + ".sigstore.json")
    with private_sigstore_home():
        try:
            config = private if private is not None else public_trust_config(staging=settings.staging)
            context = SigningContext.from_trust_config(config)
            with context.signer(IdentityToken(token)) as signer:
                bundle = signer.sign_artifact(artifact.read_bytes())
        except Exception as exc:  # NOTE: network, Fulcio, Rekor or token failure: could not sign
            raise UndecidedError(
                f"keyless signing failed with {settings.describe()}: {exc}",
                hint="keyless signing needs network access to Fulcio and Rekor and a valid identity token; "
                "sign with --key otherwise",
            ) from exc
    write_atomic(bundle_out, bundle.to_json().encode() + b"\n")
    return SignedFiles(signature=None, bundle=bundle_out)
