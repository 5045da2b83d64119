"""The signature step's rules (PG-SIG-0xx)."""

from __future__ import annotations

from plugingate.findings import Rule, Step

SIGNATURE_INVALID = Rule(
    id="PG-SIG-001",
    step=Step.SIGNATURE,
    title="signature does not verify",
    help="The signature is not a valid signature of the artifact by the key or certificate that"
    " accompanies it: it was altered, or made with another key. Re-sign the artifact.",
)
ARTIFACT_MISMATCH = Rule(
    id="PG-SIG-002",
    step=Step.SIGNATURE,
    title="signature is for another artifact",
    help="The signature names an artifact digest that is not the digest of the artifact checked: the"
    " artifact was changed after signing, or the signature belongs to another file.",
)
UNTRUSTED_SIGNER = Rule(
    id="PG-SIG-003",
    step=Step.SIGNATURE,
    title="signer is not trusted",
    help="The signature is valid, but its signer (certificate identity and issuer, GitHub claims, or"
    " public key) matches none of the policy's trusted signers.",
)
MISSING_SIGNATURE = Rule(
    id="PG-SIG-004",
    step=Step.SIGNATURE,
    title="no signature",
    help="The policy requires a signature and none was given or found beside the bundle"
    " (BUNDLE.sigstore.json or BUNDLE.sig).",
)
INVALID_BUNDLE = Rule(
    id="PG-SIG-005",
    step=Step.SIGNATURE,
    title="Sigstore bundle does not verify",
    help="The Sigstore bundle is malformed, or its certificate chain, transparency log entry or"
    " timestamps do not verify against the trusted root.",
)
NO_TRUSTED_SIGNERS = Rule(
    id="PG-SIG-006",
    step=Step.SIGNATURE,
    title="no trusted signers configured",
    help="A signature was required but the policy lists no trusted signers, so no signature can be"
    " trusted (fail closed). Add signature.trustedSigners to the policy.",
)
ISSUER_NOT_TRUSTED = Rule(
    id="PG-SIG-007",
    step=Step.SIGNATURE,
    title="certificate issuer is not trusted",
    help="The keyless signature is valid, but its certificate was issued for an OIDC token from an"
    " issuer that none of the trusted keyless signers names (another CI, another Sigstore-trusted"
    " provider, a personal account). Sign from the trusted CI, or add its issuer to the policy.",
)
IDENTITY_NOT_TRUSTED = Rule(
    id="PG-SIG-008",
    step=Step.SIGNATURE,
    title="certificate identity is not trusted",
    help="The keyless signature is valid and its issuer is trusted, but the certificate's identity (the"
    " workflow or pipeline that signed, another repository, another branch) or its CI claims match no"
    " trusted signer of that issuer. Sign from the trusted workflow, or correct the policy's identity.",
)

CERTIFICATE_NOT_VALID = Rule(
    id="PG-SIG-009",
    step=Step.SIGNATURE,
    title="signing certificate not valid when it signed",
    help="The keyless signature's certificate had expired (or was not yet valid) at the time the"
    " bundle's timestamp or transparency log entry proves it was signed: a key kept past its"
    " certificate's life, or a signature dated before it. Sign again with a fresh certificate.",
)

RULES = (
    SIGNATURE_INVALID,
    ARTIFACT_MISMATCH,
    UNTRUSTED_SIGNER,
    MISSING_SIGNATURE,
    INVALID_BUNDLE,
    NO_TRUSTED_SIGNERS,
    ISSUER_NOT_TRUSTED,
    IDENTITY_NOT_TRUSTED,
    CERTIFICATE_NOT_VALID,
)
