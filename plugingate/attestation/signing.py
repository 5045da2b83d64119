"""Signing the statements: DSSE with a key (cosign-compatible), or keyless through Sigstore.

Key-signed envelopes go one per line into ``attestations.intoto.jsonl`` (what ``plugingate attach``
and ``verify-attestation`` read) and, each alone, into ``attestation-<kind>.dsse.json`` (what
``cosign verify-blob-attestation --signature`` reads: one envelope, not JSONL). Keyless signing makes
one Sigstore bundle per statement (``attestation-<kind>.sigstore.json``) through the ``sigstore``
library, which needs an OIDC identity token and the network (Fulcio, Rekor): when either is
missing signing fails closed (``UndecidedError``, exit 3) and no file is written.

Every file is written atomically, and only after every statement was signed, so a failed run leaves
no half-written attestation behind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugingate.attestation.predicate import GATE_PREDICATE_TYPE
from plugingate.attestation.statement import (
    CYCLONEDX_PREDICATE_TYPE,
    PAYLOAD_TYPE,
    VSA_PREDICATE_TYPE,
    VULN_PREDICATE_TYPE,
    statement_bytes,
)
from plugingate.errors import UndecidedError
from plugingate.files import write_atomic
from plugingate.signature.keyless import ID_TOKEN_ENV as ID_TOKEN_ENV

if TYPE_CHECKING:
    from plugingate.keys import PrivateKey
    from plugingate.pipeline import KeylessSettings

ATTESTATIONS_FILE = "attestations.intoto.jsonl"
_KIND_BY_TYPE = {
    GATE_PREDICATE_TYPE: "gate",
    CYCLONEDX_PREDICATE_TYPE: "sbom",
    VULN_PREDICATE_TYPE: "vuln",
    VSA_PREDICATE_TYPE: "vsa",
}
# NOTE: the variable sigstore's own CLI and the GitHub action read for an explicit token.


def envelope_file_name(statement: Mapping[str, Any], index: int) -> str:
    """The file name of a statement's lone DSSE envelope: ``attestation-gate.dsse.json`` and so on."""
    kind = _KIND_BY_TYPE.get(str(statement.get("predicateType")), str(index))
    return f"attestation-{kind}.dsse.json"


def output_name(file_name: str) -> str | None:
    """The gate output a signed file is listed under: ``attestation-gate`` for ``attestation-gate.dsse.json``
    or ``attestation-gate.sigstore.json``; ``None`` for any other file (the JSON-lines file is ``attestation``)."""
    for suffix in (".dsse.json", ".sigstore.json"):
        stem = file_name.removesuffix(suffix)
        if stem != file_name and stem.removeprefix("attestation-") in _KIND_BY_TYPE.values():
            return stem
    return None


def keyless_bundle_name(statement: Mapping[str, Any], index: int) -> str:
    """The file name of a statement's Sigstore bundle: ``attestation-gate.sigstore.json`` and so on."""
    kind = _KIND_BY_TYPE.get(str(statement.get("predicateType")), str(index))
    return f"attestation-{kind}.sigstore.json"


def sign_statements(
    statements: Sequence[Mapping[str, Any]],
    *,
    key: PrivateKey | None = None,
    keyless: bool = False,
    out_dir: Path,
    identity_token: str | None = None,
    trust_config: Path | None = None,
    keyless_settings: KeylessSettings | None = None,
) -> list[Path]:
    """Sign every statement and write the result into ``out_dir``; returns the paths written.

    With a key: ``attestations.intoto.jsonl`` first, then one ``attestation-<kind>.dsse.json`` per
    statement. Keyless: one ``attestation-<kind>.sigstore.json`` per statement.

    Exactly one of ``key`` and ``keyless`` must be given. Keyless takes the identity token from
    ``identity_token``, ``keyless_settings.identity_token`` (a file), ``$SIGSTORE_ID_TOKEN`` or the CI's
    ambient credential, and the Sigstore instance from ``keyless_settings`` or ``trust_config`` (a
    ClientTrustConfig JSON), else the public-good one.
    """
    if (key is None) == (not keyless):
        raise ValueError("sign_statements needs exactly one of key= and keyless=True")
    if not statements:
        raise ValueError("no statement to sign")
    payloads = [statement_bytes(s) for s in statements]
    if key is not None:
        from plugingate.dsse import sign_envelope

        lines = [
            json.dumps(sign_envelope(p, PAYLOAD_TYPE, key), sort_keys=True, separators=(",", ":")) for p in payloads
        ]
        path = out_dir / ATTESTATIONS_FILE
        singles = [out_dir / envelope_file_name(s, i) for i, s in enumerate(statements)]
        if len(set(singles)) != len(singles):
            raise ValueError("two statements of the same predicate type: one envelope file each is expected")
        write_atomic(path, ("\n".join(lines) + "\n").encode())
        # NOTE: `cosign verify-blob-attestation --signature` reads one envelope, not JSONL: each
        # statement's envelope is also written alone.
        for single, line in zip(singles, lines, strict=True):
            write_atomic(single, (line + "\n").encode())
        return [path, *singles]
    from plugingate.pipeline import KeylessSettings

    settings = keyless_settings or KeylessSettings(trust_config=trust_config)
    bundles = _sign_keyless(payloads, identity_token=identity_token, settings=settings)
    paths = [out_dir / keyless_bundle_name(s, i) for i, s in enumerate(statements)]
    if len(set(paths)) != len(paths):
        raise ValueError("two statements of the same predicate type: one bundle file each is expected")
    for path, bundle in zip(paths, bundles, strict=True):
        write_atomic(path, bundle.encode())
    return paths


def _sign_keyless(payloads: Sequence[bytes], *, identity_token: str | None, settings: KeylessSettings) -> list[str]:
    """One Sigstore bundle (JSON text) per payload, signed with a Fulcio certificate."""
    from plugingate.signature.keyless import private_trust_config, public_trust_config, resolve_identity_token

    # NOTE: unreadable trust files are bad input (exit 2) and are found before any network use.
    private = private_trust_config(settings)
    token = identity_token or resolve_identity_token(settings.identity_token)
    try:
        from sigstore.dsse import Statement
        from sigstore.oidc import IdentityToken
        from sigstore.sign import SigningContext

        trust = private if private is not None else public_trust_config(staging=settings.staging)
        context = SigningContext.from_trust_config(trust)
        with context.signer(IdentityToken(token), cache=True) as signer:
            return [signer.sign_dsse(Statement(p)).to_json() for p in payloads]
    except Exception as exc:  # NOTE: any failure here (network, TUF, Fulcio, token) must fail closed
        raise UndecidedError(
            f"keyless signing failed with {settings.describe()} ({type(exc).__name__}: {exc}); "
            "no attestation was written",
            hint="keyless signing needs network access to Fulcio and Rekor and a valid identity token; "
            "sign with a key (--attest-key) where the network is not available",
        ) from exc
