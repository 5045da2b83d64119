"""Identity and issuer mismatches of a keyless signer each have their own rule id.

The classification must not be talked into the wrong bucket: an issuer differing only by a trailing
slash or case is still another issuer; a keyless signature against a key-only policy is neither.
"""

from __future__ import annotations

import pytest

from plugingate.keys import generate_key_pair, public_key_from_pem
from plugingate.signature.identity import (
    CertificateClaims,
    KeylessIdentity,
    Mismatch,
    SignerIdentity,
    SignerKind,
    TrustedSigner,
    classify_mismatch,
)

GH = "https://token.actions.githubusercontent.com"
ACME = "https://github.com/acme/x/.github/workflows/r.yml@refs/heads/main"
TRUSTED = TrustedSigner(name="acme-ci", keyless=KeylessIdentity(issuer=GH, identity=ACME))


def _keyless(san: str, issuer: str | None) -> SignerIdentity:
    return SignerIdentity(kind=SignerKind.KEYLESS, claims=CertificateClaims(san=san, issuer=issuer))


@pytest.mark.parametrize(
    "issuer",
    [
        "https://gitlab.com",
        GH + "/",  # NOTE: a trailing slash is another issuer string, and Fulcio treats it so
        GH.upper(),
        "https://token.actions.githubusercontent.com.evil.example",
        None,
    ],
)
def test_another_issuer_is_an_issuer_mismatch(issuer: str | None) -> None:
    assert classify_mismatch(_keyless(ACME, issuer), [TRUSTED]) is Mismatch.ISSUER


@pytest.mark.parametrize(
    "san",
    [
        "https://github.com/evil/x/.github/workflows/r.yml@refs/heads/main",  # another repository
        "https://github.com/acme/x/.github/workflows/r.yml@refs/heads/dev",  # another branch
        "https://github.com/acme/x/.github/workflows/r.yml@refs/heads/main ",  # a trailing space
    ],
)
def test_trusted_issuer_with_another_identity_is_an_identity_mismatch(san: str) -> None:
    assert classify_mismatch(_keyless(san, GH), [TRUSTED]) is Mismatch.IDENTITY


def test_issuer_trusted_by_one_signer_makes_it_an_identity_mismatch() -> None:
    gitlab = TrustedSigner(name="gl", keyless=KeylessIdentity(issuer="https://gitlab.com", identity="x"))
    assert classify_mismatch(_keyless("y", "https://gitlab.com"), [TRUSTED, gitlab]) is Mismatch.IDENTITY


def test_keyless_against_keys_only_and_keys_are_generic_signer_mismatches() -> None:
    key = public_key_from_pem(generate_key_pair(b"").public_pem)
    key_signer = TrustedSigner(name="k", key=key)
    assert classify_mismatch(_keyless("y", GH), [key_signer]) is Mismatch.SIGNER
    assert classify_mismatch(SignerIdentity(kind=SignerKind.KEY, key=key), [TRUSTED]) is Mismatch.SIGNER
