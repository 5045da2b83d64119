"""The growth rules (PG-GRW-0xx): a new version asks for more than the previous one without approval.

``gate --previous OLD`` compares the bundle with OLD; every growth item of a kind the policy lists in
``approvals.requireFor`` must be named by an approval signed by one of ``approvals.approvers``. An
approval file that cannot be trusted (forged, edited after signing, expired, about other bundles or
another plugin) approves nothing and is itself reported.
"""

from __future__ import annotations

from plugingate.findings import Rule, Step

UNAPPROVED = Rule(
    "PG-GRW-001",
    Step.GROWTH,
    "permission growth without approval",
    "The bundle asks for something the previous version did not (a host, an RBAC verb, a privilege, an "
    "image repository, a secret, a writable path, more CPU or memory, a cluster-scoped object), of a kind the "
    "policy's approvals.requireFor lists, and no valid approval names it. Get an approval "
    "(plugingate approve OLD NEW --key KEY) from a trusted approver and pass it with --approval FILE.",
)
SIGNATURE_INVALID = Rule(
    "PG-GRW-002",
    Step.GROWTH,
    "an approval is not signed by a trusted approver",
    "The approval's DSSE signature does not verify with any key of the policy's approvals.approvers: it was "
    "signed by another key, or changed after signing, or it is not a plugingate approval statement.",
)
EXPIRED = Rule(
    "PG-GRW-003",
    Step.GROWTH,
    "an approval has expired",
    "The approval's expires time has passed; it approves nothing. Ask the approver for a new one.",
)
WRONG_SUBJECT = Rule(
    "PG-GRW-004",
    Step.GROWTH,
    "an approval is about other bundles or another plugin",
    "The approval names another plugin, or other bundle digests than the previous version (--previous) and "
    "the bundle gated: an approval holds for exactly one step from one version to the next.",
)
INCOMPLETE = Rule(
    "PG-GRW-005",
    Step.GROWTH,
    "an approval names fewer items than the growth",
    "A valid approval for this step leaves growth items of a kind that needs approval unnamed; those items "
    "are denied (PG-GRW-001). The approver must name every item (plugingate diff lists them).",
)

PREVIOUS_UNVERIFIED = Rule(
    "PG-GRW-006",
    Step.GROWTH,
    "the previous version's attestation does not verify",
    "--previous names a gate attestation that is not signed by a --previous-key, did not pass in enforce "
    "mode, or is no longer valid: there is no approved version to compare with, so nothing can pass.",
)

RULES = (UNAPPROVED, SIGNATURE_INVALID, EXPIRED, WRONG_SUBJECT, INCOMPLETE, PREVIOUS_UNVERIFIED)
