"""The provenance step's rules (PG-PRV-0xx)."""

from __future__ import annotations

from plugingate.findings import Rule, Step

SUBJECT_MISMATCH = Rule(
    "PG-PRV-001",
    Step.PROVENANCE,
    "provenance is about another artifact",
    "No subject of the provenance statement has the artifact's digest: the provenance describes another build.",
)
UNTRUSTED_BUILDER = Rule(
    "PG-PRV-002",
    Step.PROVENANCE,
    "builder is not trusted",
    "The provenance's builder id is none of the policy's trustedBuilders (exact, or a prefix ending in '@').",
)
WRONG_SOURCE = Rule(
    "PG-PRV-003",
    Step.PROVENANCE,
    "built from another source repository",
    "The source repository in the provenance (and in the signing certificate) is not the one expected.",
)
WRONG_REF = Rule(
    "PG-PRV-004",
    Step.PROVENANCE,
    "built from another ref",
    "The source ref (branch or tag) in the provenance is none of the policy's sourceRefs.",
)
UNTRUSTED_SIGNER = Rule(
    "PG-PRV-005",
    Step.PROVENANCE,
    "provenance signer is not trusted",
    "The provenance's signature is valid but its signer matches none of the trusted signers.",
)
SIGNATURE_INVALID = Rule(
    "PG-PRV-006",
    Step.PROVENANCE,
    "provenance signature does not verify",
    "The provenance's Sigstore bundle or DSSE envelope does not verify (altered, or malformed).",
)
NOT_PROVENANCE = Rule(
    "PG-PRV-007",
    Step.PROVENANCE,
    "not SLSA provenance",
    "The attestation is not an in-toto statement with a SLSA provenance predicate (v0.2 or v1).",
)
MISSING_PROVENANCE = Rule(
    "PG-PRV-008",
    Step.PROVENANCE,
    "no provenance",
    "The policy requires provenance and none was given or found beside the bundle (BUNDLE.intoto.jsonl).",
)
BUILDER_MISMATCH = Rule(
    "PG-PRV-009",
    Step.PROVENANCE,
    "builder does not match the signing certificate",
    "The provenance names a builder other than the workflow that signed it (the certificate's identity).",
)
LAYOUT_SIGNATURE = Rule(
    "PG-PRV-010",
    Step.PROVENANCE,
    "in-toto layout signature does not verify",
    "The in-toto layout is not signed by the trusted layout keys.",
)
LAYOUT_EXPIRED = Rule(
    "PG-PRV-011",
    Step.PROVENANCE,
    "in-toto layout expired",
    "The in-toto layout's expiry date has passed; its owner must renew and re-sign it.",
)
MISSING_LINK = Rule(
    "PG-PRV-012",
    Step.PROVENANCE,
    "in-toto link missing or untrusted",
    "A step of the layout has no link metadata signed by its authorized functionaries (or too few: threshold).",
)
ARTIFACT_RULES = Rule(
    "PG-PRV-013",
    Step.PROVENANCE,
    "in-toto artifact rules violated",
    "The materials or products recorded in the links break the layout's artifact rules.",
)
LAYOUT_INVALID = Rule(
    "PG-PRV-014",
    Step.PROVENANCE,
    "in-toto verification failed",
    "The in-toto layout or its links are malformed, or another in-toto check failed.",
)
PRODUCT_NOT_RECORDED = Rule(
    "PG-PRV-015",
    Step.PROVENANCE,
    "artifact not produced by the supply chain",
    "The artifact's digest is not among the products the in-toto links record.",
)

RULES = (
    SUBJECT_MISMATCH,
    UNTRUSTED_BUILDER,
    WRONG_SOURCE,
    WRONG_REF,
    UNTRUSTED_SIGNER,
    SIGNATURE_INVALID,
    NOT_PROVENANCE,
    MISSING_PROVENANCE,
    BUILDER_MISMATCH,
    LAYOUT_SIGNATURE,
    LAYOUT_EXPIRED,
    MISSING_LINK,
    ARTIFACT_RULES,
    LAYOUT_INVALID,
    PRODUCT_NOT_RECORDED,
)
