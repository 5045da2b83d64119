"""What the cluster side checks: a signed gate attestation about this artifact, passed, still valid.

An attestation file is ``attestations.intoto.jsonl`` (one DSSE envelope a line), a single DSSE
envelope, or a Sigstore bundle (``*.sigstore.json``, keyless). Every signed statement in it is
checked in order: signature, payload type, statement layout, subject digest, predicate type, the
verdict (``passed``, ``mode == enforce``, no violations), the predicate's schema, ``validUntil`` /
``evaluatedAt`` against now, the pinned policy digest, and the revocation list. A SLSA Verification
Summary (``--type https://slsa.dev/verification_summary/v1``) is checked the same way: plugingate's
``verifier.id``, ``verificationResult: PASSED``, ``timeVerified`` within ``max_age``, the pinned
policy digest, revocation. One statement passing every check is enough (a file may hold the SBOM and vulnerability
attestations beside the gate's). When none passes, the error is the one of the statement that got
furthest, so that "wrong key" and "expired" are told apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugingate.attestation import rules
from plugingate.attestation.predicate import (
    GATE_PREDICATE_TYPE,
    LEGACY_GATE_PREDICATE_TYPES,
    PREDICATE_SCHEMA,
    parse_rfc3339,
)
from plugingate.attestation.statement import PAYLOAD_TYPE, STATEMENT_TYPE, VSA_PREDICATE_TYPE, parse_digest
from plugingate.bundle.digest import sha256_file
from plugingate.errors import InputError, VerificationError
from plugingate.files import read_bounded

if TYPE_CHECKING:
    from plugingate.attestation.revocation import RevocationList
    from plugingate.keys import LoadedPublicKey

MAX_ATTESTATION_FILE_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 256
# NOTE: clocks of CI runners and clusters drift; an evaluatedAt this far ahead is still accepted.
CLOCK_SKEW = timedelta(minutes=5)
# NOTE: a VSA carries no expiry; unless told otherwise, it counts for as long as a gate attestation does by default.
DEFAULT_VSA_MAX_AGE = timedelta(hours=720)
VSA_VERIFIER_ID = "https://plugingate.dev/gate"
# NOTE: statement types cosign and in-toto produce; v0.1 is accepted so that `cosign attest` output is readable.
_STATEMENT_TYPES = (STATEMENT_TYPE, "https://in-toto.io/Statement/v0.1")
_GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True, slots=True)
class KeyTrust:
    """Trust envelopes signed by any of these public keys."""

    keys: Sequence[LoadedPublicKey]

    def describe(self) -> str:
        return ", ".join(k.describe() for k in self.keys)


@dataclass(frozen=True, slots=True)
class KeylessTrust:
    """Trust Sigstore bundles whose certificate has this identity (exact or regex) and issuer."""

    issuer: str = _GITHUB_ISSUER
    identity: str | None = None
    identity_regex: str | None = None
    trusted_root: Path | None = None
    staging: bool = False
    identity_regex_search: bool = False

    def __post_init__(self) -> None:
        if (self.identity is None) == (self.identity_regex is None):
            raise ValueError("keyless trust needs exactly one of identity and identity_regex")

    def describe(self) -> str:
        who = self.identity if self.identity is not None else f"/{self.identity_regex}/"
        return f"identity {who} issued by {self.issuer}"


Trust = KeyTrust | KeylessTrust


@dataclass(frozen=True, slots=True)
class Entry:
    """One signed item of an attestation file: a DSSE envelope or a Sigstore bundle (raw JSON)."""

    source: str  # file, or file:line
    envelope: dict[str, Any] | None = None
    bundle_json: str | None = None


@dataclass(frozen=True, slots=True)
class VerifiedAttestation:
    """A statement that passed every check, and what the checks established."""

    source: str
    signer: str
    statement: dict[str, Any]
    predicate_type: str
    passed: bool | None
    valid_until: datetime | None
    policy_name: str | None
    policy_sha256: str | None

    def summary(self) -> str:
        """One line for people: what was verified."""
        parts = [f"{self.predicate_type} attestation verified ({self.source}), signed by {self.signer}"]
        if self.policy_name is not None:
            parts.append(f"policy {self.policy_name} sha256:{self.policy_sha256}")
        if self.valid_until is not None:
            parts.append(f"valid until {self.valid_until.strftime('%Y-%m-%dT%H:%M:%SZ')}")
        return "; ".join(parts)


def subject_digest(subject: str) -> tuple[str, str]:
    """The digest of SUBJECT: ``sha256:<hex>`` (or ``IMAGE@sha256:<hex>``), or the sha256 of a file."""
    if "@sha256:" in subject and not Path(subject).exists():
        subject = subject.rsplit("@", 1)[1]
    if re.match(r"^(sha256|sha512):", subject.strip().lower()):
        try:
            return parse_digest(subject)
        except ValueError as exc:
            raise InputError(str(exc), field="SUBJECT") from exc
    path = Path(subject)
    if path.is_dir():
        raise InputError(
            "is a directory; the attestation subject is the bundle archive",
            path=subject,
            hint="pack it first (plugingate pack DIR -o X.tgz) or give the digest as sha256:<hex>",
        )
    try:
        return "sha256", sha256_file(path)
    except OSError as exc:
        raise InputError(f"cannot read the subject: {exc.strerror}", path=subject) from exc


def load_entries(path: Path) -> list[Entry]:
    """Read an attestation file (bounded): JSONL of envelopes/bundles, one envelope, or one bundle."""
    data = read_bounded(path, MAX_ATTESTATION_FILE_BYTES, "the attestation file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", path=str(path)) from exc
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        return [_entry(whole, text, str(path), None)]
    entries: list[Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not JSON ({exc.msg}); expected one DSSE envelope per line", path=str(path), line=number
            ) from exc
        if not isinstance(doc, dict):
            raise InputError("expected a JSON object (a DSSE envelope)", path=str(path), line=number)
        entries.append(_entry(doc, line, str(path), number))
        if len(entries) > MAX_ENTRIES:
            raise InputError(f"more than {MAX_ENTRIES} attestations in one file", path=str(path), line=number)
    if not entries:
        raise InputError("holds no attestation", path=str(path))
    return entries


def _entry(doc: dict[str, Any], raw: str, path: str, line: int | None) -> Entry:
    source = f"{path}:{line}" if line else path
    media = doc.get("mediaType")
    if isinstance(media, str) and media.startswith("application/vnd.dev.sigstore.bundle"):
        return Entry(source=source, bundle_json=raw)
    if "payloadType" in doc and "signatures" in doc:
        return Entry(source=source, envelope=doc)
    raise InputError(
        "neither a DSSE envelope (payloadType, payload, signatures) nor a Sigstore bundle (mediaType)",
        path=path,
        line=line,
    )


# NOTE: the stages in order; a failure's stage ranks it when no statement passes.
_STAGE_SIGNATURE, _STAGE_SUBJECT, _STAGE_TYPE, _STAGE_SCHEMA, _STAGE_VERDICT = range(5)


class _StageFailedError(Exception):
    def __init__(self, stage: int, error: VerificationError) -> None:
        super().__init__(error.message)
        self.stage = stage
        self.error = error


def verify_attestation(
    *,
    subject: tuple[str, str],
    attestation: Path,
    trust: Trust,
    predicate_type: str = GATE_PREDICATE_TYPE,
    policy_digest: str | None = None,
    now: datetime | None = None,
    revocations: RevocationList | None = None,
    max_age: timedelta = DEFAULT_VSA_MAX_AGE,
) -> VerifiedAttestation:
    """Verify that ``attestation`` holds a valid signed statement about ``subject``; raise otherwise.

    ``subject`` is ``(algorithm, hex)``. Raises ``VerificationError`` (exit 1) with the rule id of
    the check that failed, ``InputError`` (exit 2) when the file is unreadable or not an attestation.
    ``revocations`` (already verified, see ``revocation.load_list``) refuses the subject, and any
    statement one of whose subjects or whose ``bundle`` is listed. ``max_age`` bounds a VSA's
    ``timeVerified``.
    """
    moment = now or datetime.now(UTC)
    if revocations is not None and (hit := revocations.find(*subject)) is not None:
        raise VerificationError(
            f"{rules.REVOKED.id}: {subject[0]}:{subject[1]} is revoked"
            + (f" ({hit.reason})" if hit.reason else "")
            + f" by the revocation list issued {revocations.issued_at.strftime('%Y-%m-%dT%H:%M:%SZ')}",
            rule_id=rules.REVOKED.id,
        )
    pinned = None
    if policy_digest is not None:
        try:
            pinned = parse_digest(policy_digest)[1]
        except ValueError as exc:
            raise InputError(str(exc), field="--policy-digest") from exc
    failures: list[_StageFailedError] = []
    for entry in load_entries(attestation):
        try:
            verified = _verify_entry(entry, subject, trust, predicate_type, pinned, moment, max_age)
            _check_revocations(entry, verified, revocations)
            return verified
        except _StageFailedError as failed:
            failures.append(failed)
    best = max(failures, key=lambda f: f.stage)
    if len(failures) > 1:
        best.error.message = f"{best.error.message} (best of {len(failures)} attestations in the file)"
        best.error.args = (best.error.message,)
    raise best.error


def _fail(stage: int, rule: Any, message: str, hint: str | None = None) -> _StageFailedError:
    return _StageFailedError(stage, VerificationError(f"{rule.id}: {message}", rule_id=rule.id, hint=hint))


def _verify_entry(
    entry: Entry,
    subject: tuple[str, str],
    trust: Trust,
    predicate_type: str,
    pinned_policy: str | None,
    now: datetime,
    max_age: timedelta,
) -> VerifiedAttestation:
    payload_type, payload, signer = _verify_signature(entry, trust)
    if payload_type != PAYLOAD_TYPE:
        raise _fail(
            _STAGE_TYPE,
            rules.PREDICATE_TYPE,
            f"{entry.source}: payload type is {payload_type!r}, expected {PAYLOAD_TYPE!r}",
        )
    statement = _parse_statement(entry, payload)
    algo, hexdigest = subject
    names = [s.get("name") for s in statement["subject"] if s.get("digest", {}).get(algo) == hexdigest]
    if not names:
        have = ", ".join(
            f"{s.get('name')}@{next(iter(s.get('digest', {}).items()), ('?', '?'))[0]}:"
            f"{next(iter(s.get('digest', {}).values()), '?')[:12]}…"
            for s in statement["subject"][:5]
        )
        raise _fail(
            _STAGE_SUBJECT,
            rules.SUBJECT,
            f"{entry.source}: no subject has digest {algo}:{hexdigest}; the statement is about {have}",
            hint="this attestation belongs to another bundle or image",
        )
    found_type = statement["predicateType"]
    # NOTE: whatever --type asked for: a v1 gate predicate proves nothing a verifier can rely on.
    if found_type in LEGACY_GATE_PREDICATE_TYPES:
        raise _fail(
            _STAGE_TYPE,
            rules.PREDICATE_TYPE,
            f"{entry.source}: predicate type is {found_type!r}, whose passed: true also covered warn and dry-run "
            f"runs that found violations; only {GATE_PREDICATE_TYPE!r} is accepted",
            hint="run the gate again (plugingate 0.2 or later) in enforce mode",
        )
    if found_type != predicate_type:
        raise _fail(
            _STAGE_TYPE,
            rules.PREDICATE_TYPE,
            f"{entry.source}: predicate type is {found_type!r}, expected {predicate_type!r}",
        )
    result = VerifiedAttestation(
        source=entry.source,
        signer=signer,
        statement=statement,
        predicate_type=found_type,
        passed=None,
        valid_until=None,
        policy_name=None,
        policy_sha256=None,
    )
    if predicate_type == VSA_PREDICATE_TYPE:
        return _check_vsa(entry, result, pinned_policy, now, max_age)
    if predicate_type != GATE_PREDICATE_TYPE:
        return result
    return _check_gate_predicate(entry, result, pinned_policy, now)


def _check_revocations(entry: Entry, verified: VerifiedAttestation, revocations: RevocationList | None) -> None:
    """Refuse a statement about a revoked bundle or image (any subject, or the gate predicate's ``bundle``)."""
    if revocations is None:
        return
    digests = [(algo, value) for s in verified.statement["subject"] for algo, value in s["digest"].items()]
    predicate = verified.statement.get("predicate")
    bundle = predicate.get("bundle") if isinstance(predicate, dict) else None
    if isinstance(bundle, dict) and isinstance(bundle.get("sha256"), str):
        digests.append(("sha256", bundle["sha256"]))
    for algo, value in digests:
        hit = revocations.find(str(algo), str(value))
        if hit is not None:
            why = f" ({hit.reason})" if hit.reason else ""
            raise VerificationError(
                f"{rules.REVOKED.id}: {entry.source}: the attestation is about {hit.digest}, which is revoked{why}",
                rule_id=rules.REVOKED.id,
                hint="a revoked bundle or image stays quarantined whatever its attestations say",
            )


def _check_vsa(
    entry: Entry, result: VerifiedAttestation, pinned_policy: str | None, now: datetime, max_age: timedelta
) -> VerifiedAttestation:
    """A plugingate VSA: our verifier, PASSED, verified recently enough, under the pinned policy."""
    summary = result.statement["predicate"]
    try:
        verifier = summary["verifier"]["id"]
        outcome = summary["verificationResult"]
        verified_at = parse_rfc3339(summary["timeVerified"])
        policy_sha = summary["policy"]["digest"]["sha256"]
        if not all(isinstance(v, str) for v in (verifier, outcome, policy_sha)):
            raise TypeError("verifier.id, verificationResult and policy.digest.sha256 must be strings")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _fail(
            _STAGE_SCHEMA,
            rules.MALFORMED,
            f"{entry.source}: not a SLSA verification summary (verifier.id, timeVerified, policy.digest.sha256, "
            f"verificationResult): {exc}",
        ) from exc
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    if verifier != VSA_VERIFIER_ID:
        raise _fail(_STAGE_VERDICT, rules.VERIFIER, f"{entry.source}: verifier.id is {verifier!r}")
    if outcome != "PASSED":
        raise _fail(_STAGE_VERDICT, rules.NOT_PASSED, f"{entry.source}: verificationResult is {outcome!r}")
    if verified_at + max_age <= now:
        raise _fail(
            _STAGE_VERDICT,
            rules.EXPIRED,
            f"{entry.source}: verified at {verified_at.strftime(stamp)}, older than the maximum age {max_age}",
            hint="run the gate again to get a fresh attestation",
        )
    if verified_at > now + CLOCK_SKEW:
        raise _fail(
            _STAGE_VERDICT,
            rules.NOT_YET_VALID,
            f"{entry.source}: timeVerified {verified_at.strftime(stamp)} is in the future (now {now.strftime(stamp)})",
        )
    if pinned_policy is not None and policy_sha != pinned_policy:
        raise _fail(
            _STAGE_VERDICT,
            rules.POLICY_DIGEST,
            f"{entry.source}: verified under policy sha256:{policy_sha}, expected sha256:{pinned_policy}",
        )
    return replace(
        result,
        passed=True,
        valid_until=verified_at + max_age,
        policy_name=str(summary["policy"].get("uri")),
        policy_sha256=policy_sha,
    )


def _check_gate_predicate(
    entry: Entry, result: VerifiedAttestation, pinned_policy: str | None, now: datetime
) -> VerifiedAttestation:
    import jsonschema

    from plugingate.schemas import load_schema

    predicate = result.statement["predicate"]
    _check_verdict(entry, predicate)
    validator = jsonschema.Draft202012Validator(load_schema(PREDICATE_SCHEMA))
    error = jsonschema.exceptions.best_match(validator.iter_errors(predicate))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise _fail(_STAGE_SCHEMA, rules.MALFORMED, f"{entry.source}: predicate field {where}: {error.message[:300]}")
    try:
        valid_until = parse_rfc3339(predicate["validUntil"])
        evaluated_at = parse_rfc3339(predicate["evaluatedAt"])
    except ValueError as exc:
        raise _fail(_STAGE_SCHEMA, rules.MALFORMED, f"{entry.source}: {exc}") from exc
    policy = predicate["policy"]
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    if valid_until <= now:
        raise _fail(
            _STAGE_VERDICT,
            rules.EXPIRED,
            f"{entry.source}: expired at {valid_until.strftime(stamp)} (now {now.strftime(stamp)})",
            hint="run the gate again to get a fresh attestation",
        )
    if evaluated_at > now + CLOCK_SKEW:
        raise _fail(
            _STAGE_VERDICT,
            rules.NOT_YET_VALID,
            f"{entry.source}: evaluatedAt {evaluated_at.strftime(stamp)} is in the future (now {now.strftime(stamp)})",
        )
    if pinned_policy is not None and policy["sha256"] != pinned_policy:
        raise _fail(
            _STAGE_VERDICT,
            rules.POLICY_DIGEST,
            f"{entry.source}: made under policy {policy['name']} sha256:{policy['sha256']}, "
            f"expected sha256:{pinned_policy}",
        )
    return replace(
        result, passed=True, valid_until=valid_until, policy_name=policy["name"], policy_sha256=policy["sha256"]
    )


def _check_verdict(entry: Entry, predicate: Any) -> None:
    """``passed: true``, ``mode: enforce``, no violations: each on its own, whatever else the predicate says.

    NOTE: checked before the schema (which also ties passed to enforce), so that a warn or dry-run
    attestation is refused as what it is, not as a malformed one; a missing or odd ``mode`` or
    ``violations`` is left to the schema (PG-ATT-007).
    """
    if not isinstance(predicate, dict):
        raise _fail(_STAGE_SCHEMA, rules.MALFORMED, f"{entry.source}: the gate predicate is not a JSON object")
    raw = predicate.get("violations")
    violations = [str(v) for v in raw] if isinstance(raw, list) else []
    listed = ", ".join(violations) or "none listed"
    mode = predicate.get("mode")
    if predicate.get("passed") is not True:
        raise _fail(
            _STAGE_VERDICT,
            rules.NOT_PASSED,
            f"{entry.source}: the gate did not pass this bundle (passed: {json.dumps(predicate.get('passed'))}, "
            f"mode: {mode}; violations: {listed})",
        )
    if mode in ("warn", "dry-run"):
        raise _fail(
            _STAGE_VERDICT,
            rules.NOT_ENFORCED,
            f"{entry.source}: the decision was made in {json.dumps(mode)} mode, not enforce (violations: {listed})",
        )
    if violations:
        raise _fail(
            _STAGE_VERDICT,
            rules.NOT_ENFORCED,
            f"{entry.source}: the attestation says passed but lists violations ({listed})",
        )


def _parse_statement(entry: Entry, payload: bytes) -> dict[str, Any]:
    try:
        statement = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _fail(_STAGE_TYPE, rules.MALFORMED, f"{entry.source}: the signed payload is not JSON") from exc
    ok = (
        isinstance(statement, dict)
        and statement.get("_type") in _STATEMENT_TYPES
        and isinstance(statement.get("predicateType"), str)
        and isinstance(statement.get("subject"), list)
        and all(isinstance(s, dict) and isinstance(s.get("digest"), dict) for s in statement["subject"])
        and "predicate" in statement
    )
    if not ok:
        raise _fail(
            _STAGE_TYPE,
            rules.MALFORMED,
            f"{entry.source}: the signed payload is not an in-toto Statement (_type, subject[].digest, "
            "predicateType, predicate)",
        )
    return statement  # type: ignore[no-any-return]


def _verify_signature(entry: Entry, trust: Trust) -> tuple[str, bytes, str]:
    """``(payload_type, payload, signer description)`` of a verified entry; ``_StageFailedError`` otherwise."""
    if isinstance(trust, KeyTrust):
        if entry.envelope is None:
            raise _fail(
                _STAGE_SIGNATURE,
                rules.SIGNATURE,
                f"{entry.source}: a keyless Sigstore bundle cannot be checked against a public key",
                hint="verify it with --identity/--issuer instead of --key",
            )
        from plugingate.dsse import verify_envelope_with

        try:
            verified = verify_envelope_with(entry.envelope, trust.keys, source=entry.source)
        except VerificationError as exc:
            raise _fail(_STAGE_SIGNATURE, rules.SIGNATURE, exc.message, exc.hint) from exc
        return verified.payload_type, verified.payload, verified.key.describe()
    if entry.bundle_json is None:
        raise _fail(
            _STAGE_SIGNATURE,
            rules.SIGNATURE,
            f"{entry.source}: a bare DSSE envelope carries no certificate; a keyless identity cannot be checked",
            hint="verify it with --key, or give the *.sigstore.json bundle",
        )
    return _verify_keyless(entry, trust)


def _verify_keyless(entry: Entry, trust: KeylessTrust) -> tuple[str, bytes, str]:
    """Verify the bundle against the trusted root whoever signed it, then judge the signer.

    # NOTE: as the gate's signature step does (PG-SIG-005/007/008/009): first what the trusted root
    # covers (chain, SCT, log entry, timestamps, signature), then the issuer, then the identity, so
    # that each failure has its own rule id and names what was found.
    """
    from plugingate.signature import rules as sig_rules
    from plugingate.signature.identity import certificate_claims, identity_regex_mismatch
    from plugingate.signature.sigstore_bundle import verify_dsse_bundle
    from plugingate.signature.trust import Instance, TrustSettings, load_trusted_root

    assert entry.bundle_json is not None
    try:
        doc = json.loads(entry.bundle_json)
    except json.JSONDecodeError as exc:
        raise InputError(f"not a valid Sigstore bundle: {exc}", path=entry.source) from exc
    root = load_trusted_root(
        TrustSettings(
            trusted_root=trust.trusted_root,
            offline=True,
            instance=Instance.STAGING if trust.staging else Instance.PRODUCTION,
        )
    )
    try:
        verified = verify_dsse_bundle(doc, root, source=entry.source)
    except VerificationError as exc:
        rule = {
            sig_rules.SIGNATURE_INVALID.id: rules.SIGNATURE,
            sig_rules.CERTIFICATE_NOT_VALID.id: rules.CERTIFICATE_NOT_VALID,
        }.get(exc.rule_id or "", rules.NOT_COVERED)
        raise _fail(_STAGE_SIGNATURE, rule, exc.message, exc.hint) from exc
    claims = certificate_claims(verified.certificate)
    san = claims.san
    if claims.issuer != trust.issuer:
        raise _fail(
            _STAGE_SIGNATURE,
            rules.ISSUER,
            f"{entry.source}: signed by {san!r} with a certificate for a token from issuer {claims.issuer!r}; "
            f"expected {trust.describe()}",
        )
    if trust.identity is not None and san != trust.identity:
        raise _fail(
            _STAGE_SIGNATURE,
            rules.IDENTITY,
            f"{entry.source}: signed by {san!r}; expected {trust.describe()}",
        )
    if trust.identity_regex is not None:
        problem = identity_regex_mismatch(trust.identity_regex, san, search=trust.identity_regex_search)
        if problem is not None:
            raise _fail(_STAGE_SIGNATURE, rules.IDENTITY, f"{entry.source}: signed by {san!r}: {problem}")
    return verified.payload_type, verified.payload, f"{san} ({trust.issuer})"
