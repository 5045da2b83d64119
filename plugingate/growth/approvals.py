"""Signed approvals of permission growth: who let which growth in, between which two bundles, until when.

An approval is a DSSE envelope (payload type ``application/vnd.in-toto+json``) over an in-toto
Statement v1 whose subject is the new bundle and whose predicate (type ``PREDICATE_TYPE``) names the
plugin, the previous and the new bundle by sha256 (and version), the exact growth items approved
(the ids ``plugingate diff`` prints), the approver, and an expiry. It is signed with a key as the
gate's attestations are (``plugingate approve``, or ``cosign attest-blob --type`` with the same
predicate), and verified with the same DSSE code against the policy's ``approvals.approvers``.

An approval that does not verify, has expired, or is about other bundles approves nothing: it is a
finding of its own (PG-GRW-002/003/004), and the growth it would have covered is denied (PG-GRW-001).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugingate.attestation.predicate import parse_rfc3339, rfc3339
from plugingate.attestation.statement import PAYLOAD_TYPE, STATEMENT_TYPE
from plugingate.errors import InputError, VerificationError
from plugingate.files import read_bounded
from plugingate.findings import Finding, Location
from plugingate.growth import rules

if TYPE_CHECKING:
    from plugingate.keys import PrivateKey
    from plugingate.signature.identity import TrustedSigner

PREDICATE_TYPE = "https://plugingate.dev/approval/v1"
MAX_FILE_BYTES = 1 << 20
MAX_ITEMS = 10_000
# NOTE: cosign attest-blob still writes Statement v0.1; an approval signed with it is read the same.
_STATEMENT_TYPES = (STATEMENT_TYPE, "https://in-toto.io/Statement/v0.1")


@dataclass(frozen=True, slots=True)
class Approval:
    """What an approver signed."""

    plugin: str
    previous_sha256: str
    previous_version: str
    bundle_name: str
    bundle_sha256: str
    bundle_version: str
    items: tuple[str, ...]
    approver: str
    issued_at: datetime
    expires: datetime
    reason: str | None = None

    def statement(self) -> dict[str, Any]:
        """The in-toto statement that is signed."""
        predicate: dict[str, Any] = {
            "plugin": self.plugin,
            "previous": {"sha256": self.previous_sha256, "version": self.previous_version},
            "bundle": {"name": self.bundle_name, "sha256": self.bundle_sha256, "version": self.bundle_version},
            "items": sorted(set(self.items)),
            "approver": self.approver,
            "issuedAt": rfc3339(self.issued_at),
            "expires": rfc3339(self.expires),
        }
        if self.reason:
            predicate["reason"] = self.reason
        return {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": self.bundle_name, "digest": {"sha256": self.bundle_sha256}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": predicate,
        }

    @classmethod
    def from_statement(cls, doc: Any) -> Approval:
        """The approval a statement holds; ``ValueError`` saying what is missing or wrong."""
        if not isinstance(doc, dict) or doc.get("_type") not in _STATEMENT_TYPES:
            raise ValueError(f"not an in-toto statement ({STATEMENT_TYPE})")
        if doc.get("predicateType") != PREDICATE_TYPE:
            raise ValueError(f"predicateType {doc.get('predicateType')!r} is not {PREDICATE_TYPE!r}")
        p = doc.get("predicate")
        subject = doc.get("subject")
        if not isinstance(p, dict) or not isinstance(subject, list) or len(subject) != 1:
            raise ValueError("expected one subject and a predicate object")
        try:
            items = p["items"]
            if not isinstance(items, list) or len(items) > MAX_ITEMS or not all(isinstance(i, str) for i in items):
                raise ValueError(f"items must be a list of at most {MAX_ITEMS} strings")
            subject_sha = str(subject[0]["digest"]["sha256"]).lower()
            bundle_sha = str(p["bundle"]["sha256"]).lower()
            if subject_sha != bundle_sha:
                raise ValueError(f"subject sha256 {subject_sha} differs from predicate bundle.sha256 {bundle_sha}")
            return cls(
                plugin=str(p["plugin"]),
                previous_sha256=str(p["previous"]["sha256"]).lower(),
                previous_version=str(p["previous"].get("version", "")),
                bundle_name=str(p["bundle"].get("name", subject[0].get("name", ""))),
                bundle_sha256=bundle_sha,
                bundle_version=str(p["bundle"].get("version", "")),
                items=tuple(items),
                approver=str(p["approver"]),
                issued_at=parse_rfc3339(str(p["issuedAt"])),
                expires=parse_rfc3339(str(p["expires"])),
                reason=str(p["reason"]) if p.get("reason") else None,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"missing or malformed field: {exc}") from exc


def sign_approval(approval: Approval, key: PrivateKey) -> dict[str, Any]:
    """The DSSE envelope over the approval's statement (canonical JSON), as cosign writes one."""
    from plugingate.dsse import sign_envelope

    payload = json.dumps(approval.statement(), sort_keys=True, separators=(",", ":")).encode()
    return sign_envelope(payload, PAYLOAD_TYPE, key)


@dataclass(frozen=True, slots=True)
class CheckedApproval:
    """One approval file as the gate judged it: ``approval`` set only when it verified and applies here."""

    source: str
    sha256: str
    approval: Approval | None
    signer: str | None = None
    findings: tuple[Finding, ...] = field(default=())

    def attested(self) -> dict[str, Any]:
        """As the gate attestation records an approval it used."""
        out: dict[str, Any] = {"sha256": self.sha256, "signer": self.signer}
        if self.approval is not None:
            out["approver"] = self.approval.approver
            out["expires"] = rfc3339(self.approval.expires)
        return out


@dataclass(frozen=True, slots=True)
class Transition:
    """The step an approval must be about: the plugin, and the previous and the new bundle's sha256."""

    plugin: str
    previous_sha256: str
    bundle_sha256: str


def check_approval(path: Path, approvers: Sequence[TrustedSigner], step: Transition, now: datetime) -> CheckedApproval:
    """Verify one approval file against the trusted approvers and the step it must be about.

    Unreadable or not a DSSE envelope at all: ``InputError`` (exit 2). Anything else that makes the
    approval worthless is a finding on the returned value, whose ``approval`` is then None.
    """
    from plugingate.dsse import parse_envelope, verify_envelope_with

    source = str(path)
    raw = read_bounded(path, MAX_FILE_BYTES, "the approval")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        envelope = parse_envelope(raw, source=source)
    except InputError as exc:
        raise InputError(
            exc.message, path=source, hint="give the file plugingate approve -o wrote (a DSSE envelope)"
        ) from exc
    where = Location(source)

    def refused(rule: Any, message: str, signer: str | None = None, **props: object) -> CheckedApproval:
        finding = rule.finding(f"approval {source}: {message}", location=where, approval=digest, **props)
        return CheckedApproval(source, digest, None, signer, (finding,))

    keys = [a.key for a in approvers if a.key is not None]
    if not keys:
        return refused(
            rules.SIGNATURE_INVALID, "the policy names no approver key (approvals.approvers), so no approval verifies"
        )
    try:
        verified = verify_envelope_with(envelope, keys, source=source)
    except VerificationError as exc:
        return refused(rules.SIGNATURE_INVALID, exc.message)
    signer = next((a.name for a in approvers if a.key is verified.key), "?")
    if verified.payload_type != PAYLOAD_TYPE:
        return refused(rules.SIGNATURE_INVALID, f"payload type {verified.payload_type!r} is not {PAYLOAD_TYPE!r}")
    try:
        approval = Approval.from_statement(json.loads(verified.payload))
    except (ValueError, UnicodeDecodeError) as exc:
        return refused(rules.SIGNATURE_INVALID, f"signed, but not a plugingate approval: {exc}", signer)
    if approval.plugin != step.plugin:
        return refused(rules.WRONG_SUBJECT, f"approves plugin {approval.plugin!r}, not {step.plugin!r}", signer)
    if (approval.previous_sha256, approval.bundle_sha256) != (step.previous_sha256, step.bundle_sha256):
        return refused(
            rules.WRONG_SUBJECT,
            f"approves sha256:{approval.previous_sha256} -> sha256:{approval.bundle_sha256}; this step is "
            f"sha256:{step.previous_sha256} -> sha256:{step.bundle_sha256}",
            signer,
        )
    if approval.expires <= now:
        return refused(rules.EXPIRED, f"expired at {rfc3339(approval.expires)} (now {rfc3339(now)})", signer)
    return CheckedApproval(source, digest, approval, signer)


def approved_items(checked: Iterable[CheckedApproval]) -> frozenset[str]:
    """Every item some valid approval names."""
    return frozenset(i for c in checked if c.approval is not None for i in c.approval.items)
