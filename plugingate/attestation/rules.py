"""The attestation rules (PG-ATT-0xx): what ``verify-attestation`` and the gate's signing step report."""

from __future__ import annotations

from plugingate.findings import Rule, Severity, Step

SIGNATURE = Rule(
    "PG-ATT-001",
    Step.ATTESTATION,
    "attestation signature does not verify",
    "No envelope in the attestation file is signed by the trusted key (or, keyless, by a certificate with "
    "the expected identity and issuer). Check that the cluster's key is the gate's attestation key.",
)
SUBJECT = Rule(
    "PG-ATT-002",
    Step.ATTESTATION,
    "attestation is about another artifact",
    "No subject of the signed statement has the artifact's digest: the attestation belongs to another "
    "bundle or image, or the artifact changed after the gate ran.",
)
PREDICATE_TYPE = Rule(
    "PG-ATT-003",
    Step.ATTESTATION,
    "wrong predicate type",
    "The signed statement is not of the predicate type asked for (by default a gate attestation, "
    "https://plugingate.dev/attestation/gate/v2; gate/v1, whose passed: true included warn and dry-run "
    "runs, is refused), or its payload type is not application/vnd.in-toto+json.",
)
NOT_PASSED = Rule(
    "PG-ATT-004",
    Step.ATTESTATION,
    "the gate did not pass",
    "The gate attestation records passed: false; the bundle was denied when it was evaluated.",
)
EXPIRED = Rule(
    "PG-ATT-005",
    Step.ATTESTATION,
    "attestation expired",
    "validUntil is in the past (the policy's validity window ended, or an applied exception expired): "
    "run the gate again with a current policy and database.",
)
POLICY_DIGEST = Rule(
    "PG-ATT-006",
    Step.ATTESTATION,
    "gate policy digest does not match",
    "The attestation was made under a gate policy whose sha256 differs from the pinned one.",
)
MALFORMED = Rule(
    "PG-ATT-007",
    Step.ATTESTATION,
    "malformed gate predicate",
    "The signed statement does not follow the in-toto Statement v1 layout or the gate predicate schema "
    "(plugingate/schemas/gate-attestation-predicate.schema.json).",
)
NOT_YET_VALID = Rule(
    "PG-ATT-008",
    Step.ATTESTATION,
    "attestation from the future",
    "evaluatedAt is later than now (beyond a small clock skew): the signer's clock is wrong or the "
    "attestation was forged with a future date to extend its life.",
)
REVOKED = Rule(
    "PG-ATT-009",
    Step.ATTESTATION,
    "revoked digest",
    "The artifact, or a bundle or image the attestation is about, is on the signed revocation list "
    "(plugingate revoke): it is quarantined whatever its attestations say.",
)
NOT_ENFORCED = Rule(
    "PG-ATT-010",
    Step.ATTESTATION,
    "not an enforced decision",
    "The gate attestation records mode warn or dry-run, or lists violations: such a run lets violations "
    "through and vouches for nothing. Run the gate in enforce mode.",
)
VERIFIER = Rule(
    "PG-ATT-011",
    Step.ATTESTATION,
    "verification summary from another verifier",
    "The SLSA verification summary's verifier.id is not plugingate's gate (https://plugingate.dev/gate).",
)
ISSUER = Rule(
    "PG-ATT-012",
    Step.ATTESTATION,
    "attestation signed through another issuer",
    "The keyless attestation verifies, but its certificate was issued for a token from another OIDC issuer "
    "than --issuer (another CI, another provider): it was not signed by the trusted pipeline.",
)
IDENTITY = Rule(
    "PG-ATT-013",
    Step.ATTESTATION,
    "attestation signed by another identity",
    "The keyless attestation verifies and its issuer is the trusted one, but the certificate's identity "
    "(the workflow or pipeline: another repository, workflow file or branch) is not --identity / does not "
    "match --identity-regex.",
)
NOT_COVERED = Rule(
    "PG-ATT-014",
    Step.ATTESTATION,
    "Sigstore bundle does not verify against the trusted root",
    "The keyless attestation's certificate chain, transparency log entry (inclusion proof, checkpoint, "
    "signed entry timestamp) or RFC 3161 timestamp does not verify against the trusted root, or does not "
    "cover this signature: a bundle from another Sigstore instance, or one whose log entry or timestamp "
    "was altered or removed.",
)
CERTIFICATE_NOT_VALID = Rule(
    "PG-ATT-015",
    Step.ATTESTATION,
    "signing certificate not valid when it signed",
    "The keyless attestation was signed when its certificate had expired (or was not yet valid), at the "
    "time its timestamp or log entry proves: the signature cannot be attributed to the identity.",
)
UNSIGNED = Rule(
    "PG-ATT-020",
    Step.ATTESTATION,
    "attestations not signed",
    "No signing key and no keyless identity were given (or dry-run mode without --attest-key / "
    "--attest-keyless): no attestation was signed or written, and the cluster will not admit the images.",
    severity=Severity.NOTE,
)

NOT_EMBEDDED = Rule(
    "PG-ATT-021",
    Step.ATTESTATION,
    "SBOM or scan not attested",
    "The CycloneDX SBOM (sbom.cdx.json) or the scan (vulns.json) was missing or larger than the limit, so "
    "its attestation was not made; the gate attestation still records the SBOM's sha256.",
    severity=Severity.NOTE,
)

RULES = (
    SIGNATURE,
    SUBJECT,
    PREDICATE_TYPE,
    NOT_PASSED,
    EXPIRED,
    POLICY_DIGEST,
    MALFORMED,
    NOT_YET_VALID,
    REVOKED,
    NOT_ENFORCED,
    VERIFIER,
    ISSUER,
    IDENTITY,
    NOT_COVERED,
    CERTIFICATE_NOT_VALID,
    UNSIGNED,
    NOT_EMBEDDED,
)
