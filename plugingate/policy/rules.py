"""The policy-trust rules (PG-POL-0xx): whether the policy the gate ran under is the platform's.

A mismatch (a pinned digest that differs, a policy signature that does not verify, a file the policy
names that is neither pinned nor signed) is a denial: the caller asked for a trusted run and did
not get one. An unpinned policy is not a denial by itself: the gate runs and reports, but signs
nothing (PG-POL-004).
"""

from __future__ import annotations

from plugingate.findings import Rule, Severity, Step

DIGEST_MISMATCH = Rule(
    "PG-POL-001",
    Step.ATTESTATION,
    "the policy is not the pinned one",
    "The policy file's sha256 differs from --policy-digest (PLUGINGATE_POLICY_DIGEST): the file was changed "
    "after the platform approved it, or the pipeline reads another file than the approved one.",
)
SIGNATURE_INVALID = Rule(
    "PG-POL-002",
    Step.ATTESTATION,
    "the policy's signature does not verify",
    "A trusted policy signer was named (--policy-key, --policy-identity) but the policy's signature is "
    "missing, belongs to another file, or was made by another signer.",
)
FILE_NOT_TRUSTED = Rule(
    "PG-POL-003",
    Step.ATTESTATION,
    "a file the policy names is neither pinned nor signed",
    "A trusted policy covers only its own bytes: every file it names (public keys, trusted root, in-toto "
    "layout and keys, VEX documents) must be pinned with --policy-file-digest or signed beside it "
    "(FILE.sig or FILE.sigstore.json) by a trusted policy signer.",
)
NOT_PINNED = Rule(
    "PG-POL-004",
    Step.ATTESTATION,
    "attestation refused: the policy is not pinned",
    "Attestations are signed only under a policy the platform approved: pin its digest (--policy-digest) "
    "or have it signed by a trusted policy signer (--policy-key / --policy-identity).",
    Severity.ERROR,
)

RULES = (DIGEST_MISMATCH, SIGNATURE_INVALID, FILE_NOT_TRUSTED, NOT_PINNED)
