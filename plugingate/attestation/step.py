"""The gate's attestation step: the decision, the SBOM and the scan, signed and written into ``--out``.

The other steps record what they established in their ``StepResult.details`` (the signer, the
granted capabilities, the vulnerability counts and applied exceptions, the SBOM digest, tool
versions); this step maps those onto the typed predicate, builds the three statements and signs
them. What is signed when:

- an undecided gate (exit 3) is never attested: there is no decision to vouch for;
- without ``--attest-key`` / ``--attest-keyless`` nothing is signed (a ``PG-ATT-020`` note);
- in ``dry-run`` mode nothing is signed unless ``--attest-dry-run`` asks for it;
- keyless signing that cannot reach Sigstore ends the step in ``error`` (the gate exits 3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugingate.attestation import rules
from plugingate.attestation.predicate import (
    SEVERITIES,
    AppliedException,
    CheckStatus,
    GateMode,
    GatePredicate,
    PluginRef,
    PolicyRef,
    ProvenanceResult,
    SignatureResult,
    Signer,
    SignerKind,
    ToolVersions,
    VulnerabilitySummary,
    compute_valid_until,
    parse_rfc3339,
    rfc3339,
)
from plugingate.attestation.statement import (
    CYCLONEDX_PREDICATE_TYPE,
    gate_statement,
    sbom_statement,
    unembedded_statement,
    vuln_statement,
)
from plugingate.errors import InputError, UndecidedError
from plugingate.files import FileTooLargeError, UnreadableFileError, read_bounded
from plugingate.findings import Finding, Severity, Step
from plugingate.result import GateResult, StepResult, StepStatus, Verdict

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext

SBOM_FILE = "sbom.cdx.json"
VULNS_FILE = "vulns.json"
# NOTE: the SBOM and the scan are carried whole in their predicates; beyond this they are not attested.
MAX_EMBEDDED_BYTES = 32 * 1024 * 1024
_OUTPUT_KEYS = {
    "attestation-gate.dsse.json": "attestation-gate",
    "attestation-sbom.dsse.json": "attestation-sbom",
    "attestation-vuln.dsse.json": "attestation-vuln",
    "attestation-gate.sigstore.json": "attestation-gate",
    "attestation-sbom.sigstore.json": "attestation-sbom",
    "attestation-vuln.sigstore.json": "attestation-vuln",
}


def attest_step(ctx: StepContext, result: GateResult) -> tuple[StepResult, dict[str, str]]:
    """Build, sign and write the attestations; returns the step result and the files written."""
    request = ctx.request
    policy = request.policy
    if result.verdict is Verdict.UNDECIDED:
        return StepResult(Step.ATTESTATION, StepStatus.SKIPPED, "not attested: the gate could not decide"), {}
    signing = request.attest_key is not None or request.attest_keyless
    unsigned = not signing or (str(policy.mode) == GateMode.DRY_RUN and not request.attest_in_dry_run)
    try:
        statements, valid_until, notes = build_statements(result, ctx, ctx.out_dir, embed=not unsigned)
    except UndecidedError as exc:
        return (
            StepResult(
                Step.ATTESTATION,
                StepStatus.ERROR,
                f"could not build the attestations: {exc.message}",
                details={"error": exc.diagnostics()},
            ),
            {},
        )
    # NOTE: details are JSON (report.json): validUntil as RFC 3339 text, the gate parses it back.
    details: dict[str, object] = {
        "validUntil": rfc3339(valid_until),
        "predicateTypes": [s["predicateType"] for s in statements],
    }
    if unsigned:
        why = (
            "dry-run mode (add --attest-dry-run to sign anyway)"
            if signing
            else "no --attest-key or --attest-keyless was given"
        )
        note = rules.UNSIGNED.finding(f"attestations not signed: {why}")
        return StepResult(Step.ATTESTATION, StepStatus.SKIPPED, note.message, (note, *notes), details), {}
    from plugingate.attestation.signing import sign_statements

    try:
        if request.attest_key is not None:
            from plugingate.keys import load_private_key

            key = request.attest_private_key or load_private_key(request.attest_key)
            paths = sign_statements(statements, key=key, out_dir=ctx.out_dir)
        else:
            paths = sign_statements(statements, keyless=True, out_dir=ctx.out_dir)
    except UndecidedError as exc:
        return (
            StepResult(
                Step.ATTESTATION,
                StepStatus.ERROR,
                f"could not sign the attestations: {exc.message}",
                tuple(notes),
                {**details, "error": exc.diagnostics()},
            ),
            {},
        )
    outputs = {"attestation": str(paths[0])}
    outputs.update({_OUTPUT_KEYS[p.name]: str(p) for p in paths if p.name in _OUTPUT_KEYS})
    how = "keyless (Sigstore)" if request.attest_keyless else f"with key {request.attest_key}"
    summary = f"{len(statements)} attestation(s) signed {how}, valid until {valid_until:%Y-%m-%dT%H:%M:%SZ}"
    return StepResult(Step.ATTESTATION, StepStatus.PASSED, summary, tuple(notes), details), outputs


def build_statements(
    result: GateResult, ctx: StepContext, out_dir: Path, *, embed: bool = True
) -> tuple[list[dict[str, Any]], datetime, list[Finding]]:
    """The gate statement, and the SBOM and vulnerability statements when their files exist.

    ``embed=False`` is for a run that signs nothing, whose report only names the statements' types:
    the SBOM statement then carries no predicate, so that a large SBOM is not read whole for nothing
    (see ``_is_recorded_cyclonedx``).
    """
    policy = ctx.request.policy
    predicate = gate_predicate(
        result,
        policy_version=policy.version,
        valid_for=policy.attestation.valid_for,
        fail_on=str(policy.vulnerabilities.fail_on),
        only_fixed=policy.vulnerabilities.only_fixed,
        signature_required=policy.signature.required,
        provenance_required=policy.provenance.required,
        sbom_sha256=_sbom_sha256(result, out_dir),
    )
    images = image_digests(result)
    common: dict[str, Any] = {
        "bundle_name": result.bundle.name,
        "bundle_sha256": result.bundle.sha256,
        "image_digests": images,
    }
    statements = [gate_statement(**common, predicate=predicate)]
    notes: list[Finding] = []
    recorded = _details(result, Step.SBOM).get("sha256")
    if not embed and isinstance(recorded, str) and _is_recorded_cyclonedx(out_dir / SBOM_FILE, recorded):
        statements.append(unembedded_statement(**common, predicate_type=CYCLONEDX_PREDICATE_TYPE))
    elif isinstance(sbom := _read_json(out_dir / SBOM_FILE), dict) and sbom.get("bomFormat") == "CycloneDX":
        statements.append(sbom_statement(**common, sbom=sbom))
    else:
        notes.append(rules.NOT_EMBEDDED.finding(f"no CycloneDX SBOM attestation: {SBOM_FILE} is missing or too large"))
    vulns = _read_json(out_dir / VULNS_FILE)
    vuln_step = result.step(Step.VULNERABILITIES)
    if not isinstance(vulns, dict) or vuln_step is None:
        notes.append(rules.NOT_EMBEDDED.finding(f"no vulnerability attestation: {VULNS_FILE} is missing or too large"))
    else:
        tools = predicate.tools
        finished = result.evaluated_at
        statements.append(
            vuln_statement(
                **common,
                scanner_version=tools.grype,
                db_built=tools.grype_db_built,
                db_uri="",
                result=vulns,
                started=finished - timedelta(seconds=vuln_step.seconds),
                finished=finished,
            )
        )
    return statements, predicate.valid_until, notes


def gate_predicate(
    result: GateResult,
    *,
    policy_version: str | None,
    valid_for: timedelta,
    fail_on: str,
    only_fixed: bool,
    signature_required: bool,
    provenance_required: bool,
    sbom_sha256: str,
) -> GatePredicate:
    """The gate predicate of a decided run, from the steps' details and the policy's settings."""
    vuln = _details(result, Step.VULNERABILITIES)
    exceptions = tuple(_exception(e) for e in _list(vuln.get("exceptionsApplied")))
    valid_until = compute_valid_until(result.evaluated_at, valid_for, [e.expires for e in exceptions])
    counts = dict.fromkeys(SEVERITIES, 0)
    for severity, n in _mapping(vuln.get("counts")).items():
        key = str(severity).lower()
        counts[key if key in counts else "unknown"] += _count(n)
    tools = _mapping(vuln.get("tools"))
    db_built = tools.get("grypeDbBuilt") or result.tools.get("grypeDbBuilt")
    sbom = _details(result, Step.SBOM)
    return GatePredicate(
        passed=result.passed,
        mode=GateMode(result.policy.mode),
        policy=PolicyRef(name=result.policy.name, sha256=result.policy.sha256, version=policy_version),
        plugingate_version=result.plugingate_version,
        tools=ToolVersions(
            syft=str(result.tools.get("syft") or _mapping(sbom.get("tools")).get("syft") or "unknown"),
            grype=str(result.tools.get("grype") or tools.get("grype") or "unknown"),
            grype_db_built=parse_rfc3339(str(db_built)) if db_built else None,
            grype_db_schema=str(tools["grypeDbSchema"]) if tools.get("grypeDbSchema") else None,
        ),
        signature=SignatureResult(
            status=_status(result, Step.SIGNATURE),
            required=signature_required,
            signer=_signer(_details(result, Step.SIGNATURE)),
        ),
        provenance=_provenance(result, provenance_required),
        capabilities=_mapping(_details(result, Step.CAPABILITIES).get("granted")),
        vulnerabilities=VulnerabilitySummary(
            counts=counts,
            fail_on=fail_on,
            only_fixed=only_fixed,
            suppressed=_count(vuln.get("suppressed")),
            exceptions_applied=exceptions,
        ),
        sbom_sha256=sbom_sha256,
        evaluated_at=result.evaluated_at,
        valid_until=valid_until,
        plugin=None
        if result.plugin is None
        else PluginRef(name=result.plugin.name, version=result.plugin.version, publisher=result.plugin.publisher),
        violations=tuple(f.rule_id for f in result.findings if f.severity is Severity.ERROR),
    )


def _sbom_sha256(result: GateResult, out_dir: Path) -> str:
    """The CycloneDX SBOM's sha256: as the SBOM step recorded it, else of the file written."""
    recorded = _details(result, Step.SBOM).get("sha256")
    if isinstance(recorded, str) and recorded:
        return recorded
    import hashlib

    try:
        return hashlib.sha256((out_dir / SBOM_FILE).read_bytes()).hexdigest()
    except OSError as exc:
        raise UndecidedError(f"no SBOM to attest: {out_dir / SBOM_FILE}: {exc.strerror}") from exc


# NOTE: syft writes "$schema" (when it does) and then "bomFormat" first; anything else is read whole.
_CYCLONEDX_HEAD = re.compile(rb'\A\s*\{\s*(?:"\$schema"\s*:\s*"[^"\\]*"\s*,\s*)?"bomFormat"\s*:\s*"CycloneDX"\s*[,}]')


def _is_recorded_cyclonedx(path: Path, recorded_sha256: str) -> bool:
    """Whether ``path`` is the SBOM the SBOM step recorded, within the size limit, and CycloneDX.

    The SBOM step read that document as a JSON object (or the result cache vouches for it by digest),
    so its bytes' digest and head are enough to know it would be embedded; anything else (no record,
    another digest, an unusual head) returns False and is read whole as before.
    """
    from plugingate.bundle.digest import sha256_file

    try:
        if path.stat().st_size > MAX_EMBEDDED_BYTES:
            return False
        with path.open("rb") as fh:
            head = fh.read(1024)
        return bool(_CYCLONEDX_HEAD.match(head)) and sha256_file(path) == recorded_sha256.removeprefix("sha256:")
    except OSError:
        return False


def image_digests(result: GateResult) -> list[tuple[str, str]]:
    """``(reference, sha256:<hex>)`` of every image of ``spec.images`` pinned by digest."""
    from plugingate.declaration.model import pinned_digest

    pinned = ((ref, pinned_digest(ref)) for _name, ref in (result.plugin.images if result.plugin else ()))
    return [(ref, digest) for ref, digest in pinned if digest is not None]


def _details(result: GateResult, step: Step) -> Mapping[str, object]:
    found = result.step(step)
    return found.details if found is not None else {}


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _list(value: object) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


def _status(result: GateResult, step: Step) -> CheckStatus:
    found = result.step(step)
    if found is None or found.status in (StepStatus.SKIPPED, StepStatus.ERROR):
        return CheckStatus.SKIPPED
    if found.status is StepStatus.FAILED:
        return CheckStatus.FAILED
    return CheckStatus.VERIFIED if found.details.get("verified") else CheckStatus.ABSENT


def _signer(details: Mapping[str, object]) -> Signer | None:
    signer = _mapping(details.get("signer"))
    if not signer:
        return None
    kind = SignerKind.KEYLESS if signer.get("kind") == "keyless" else SignerKind.KEY
    fingerprint = signer.get("keySha256")
    trusted = details.get("trustedSigner")
    return Signer(
        kind=kind,
        name=str(trusted) if trusted else None,
        identity=str(signer["identity"]) if signer.get("identity") else None,
        issuer=str(signer["issuer"]) if signer.get("issuer") else None,
        key_fingerprint=str(fingerprint) if fingerprint else None,
    )


def _provenance(result: GateResult, required: bool) -> ProvenanceResult:
    details = _details(result, Step.PROVENANCE)

    def text(name: str) -> str | None:
        value = details.get(name)
        return str(value) if value else None

    return ProvenanceResult(
        status=_status(result, Step.PROVENANCE),
        required=required,
        signer=_signer(details),
        builder_id=text("builderId"),
        source_repository=text("sourceRepository"),
        source_ref=text("sourceRef"),
    )


def _exception(value: Any) -> AppliedException:
    doc = _mapping(value)
    try:
        return AppliedException(
            id=str(doc["id"]),
            package=str(doc["package"]),
            expires=date.fromisoformat(str(doc["expires"])),
            reason=str(doc["reason"]),
        )
    except (KeyError, ValueError) as exc:
        raise UndecidedError(f"the vulnerability step reported a malformed applied exception: {doc!r}") from exc


def _read_json(path: Path) -> Any:
    try:
        data = read_bounded(path, MAX_EMBEDDED_BYTES, "an output to attest")
    except FileTooLargeError:
        # NOTE: too large to embed is not an error: the statement is left out (see MAX_EMBEDDED_BYTES).
        return None
    except UnreadableFileError as exc:
        if isinstance(exc.reason, FileNotFoundError):
            return None
        raise UndecidedError(f"cannot read {path} to attest it: {exc.reason.strerror}") from exc
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not JSON: {exc}", path=str(path)) from exc
