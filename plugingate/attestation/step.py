"""The gate's attestation step: the decision, the SBOM and the scan, signed and written into ``--out``.

The other steps hand on what they established as typed results (``StepResult.outcome``: the
``SignatureResult`` and ``ProvenanceResult`` with their signers, the granted capabilities, the
``ScanResult`` with its counts and applied exceptions, the ``SbomResult`` with its digest and tool
version); this step reads those, never their JSON rendering, builds the predicate and the three
statements and signs them. What is signed when:

- an undecided gate (exit 3) is never attested: there is no decision to vouch for;
- without ``--attest-key`` / ``--attest-keyless`` nothing is signed (a ``PG-ATT-020`` note);
- in ``dry-run`` mode nothing is signed unless ``--attest-dry-run`` asks for it;
- ``passed`` is true only for an ``enforce`` decision with no denying finding: a ``warn`` run, and a
  ``dry-run`` signed with ``--attest-dry-run`` (or ``PLUGINGATE_ATTEST_DRY_RUN``), is signed with
  ``passed: false``, its mode and its violations, so no option or variable makes a passing one;
- beside the gate statement, a SLSA Verification Summary Attestation says the same in the standard
  vocabulary (``verificationResult`` ``PASSED`` exactly when ``passed`` is true);
- keyless signing that cannot reach Sigstore ends the step in ``error`` (the gate exits 3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from plugingate.attestation import rules
from plugingate.attestation.predicate import (
    GATE_PREDICATE_TYPE,
    SEVERITIES,
    BundleRef,
    CheckRecord,
    CheckStatus,
    GatePredicate,
    PluginRef,
    PolicyRef,
    ToolVersions,
    VulnerabilitySummary,
    compute_valid_until,
    rfc3339,
)
from plugingate.attestation.statement import (
    CYCLONEDX_PREDICATE_TYPE,
    gate_statement,
    sbom_statement,
    unembedded_statement,
    vuln_statement,
)
from plugingate.capabilities.step import CapabilitiesOutcome
from plugingate.errors import InputError, UndecidedError
from plugingate.files import FileTooLargeError, UnreadableFileError, read_bounded
from plugingate.findings import Finding, Severity, Step
from plugingate.policy.model import Mode
from plugingate.policy.trust import UNPINNED
from plugingate.provenance.result import ProvenanceResult
from plugingate.result import GateResult, StepResult, StepStatus, Verdict
from plugingate.sbom.generate import CYCLONEDX_NAME, SbomResult
from plugingate.signature.result import SignatureResult
from plugingate.vulnerabilities.scan import VULNS_NAME, ScanResult

if TYPE_CHECKING:
    from plugingate.attestation.vsa import InputAttestation
    from plugingate.pipeline import StepContext

SBOM_FILE = CYCLONEDX_NAME
VULNS_FILE = VULNS_NAME
# NOTE: the SBOM and the scan are carried whole in their predicates; beyond this they are not attested.
MAX_EMBEDDED_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AttestationOutcome:
    """What the attestation step established: until when the statements hold, and which were built.

    ``valid_until`` may be earlier than the policy's ``validFor`` allows: an applied exception that
    expires first shortens it, and the gate's report must say the same as the signed statement.
    """

    valid_until: datetime
    predicate_types: tuple[str, ...]


def attest_step(ctx: StepContext, result: GateResult) -> tuple[StepResult, dict[str, str]]:
    """Build, sign and write the attestations; returns the step result and the files written."""
    request = ctx.request
    policy = request.policy
    if result.verdict is Verdict.UNDECIDED:
        return StepResult(Step.ATTESTATION, StepStatus.SKIPPED, "not attested: the gate could not decide"), {}
    signing = request.attest_key is not None or request.attest_keyless
    unsigned = not signing or (policy.mode is Mode.DRY_RUN and not request.attest_in_dry_run)
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
    outcome = AttestationOutcome(valid_until, tuple(s["predicateType"] for s in statements))
    details: dict[str, object] = {
        "validUntil": rfc3339(outcome.valid_until),
        "predicateTypes": list(outcome.predicate_types),
    }
    if unsigned:
        why = (
            "dry-run mode (add --attest-dry-run to sign anyway)"
            if signing
            else "no --attest-key or --attest-keyless was given"
        )
        note = rules.UNSIGNED.finding(f"attestations not signed: {why}")
        return (
            StepResult(Step.ATTESTATION, StepStatus.SKIPPED, note.message, (note, *notes), details, outcome=outcome),
            {},
        )
    from plugingate.attestation.signing import output_name, sign_statements

    try:
        if request.attest_key is not None:
            from plugingate.keys import load_private_key

            key = request.attest_private_key or load_private_key(request.attest_key)
            paths = sign_statements(statements, key=key, out_dir=ctx.out_dir)
        else:
            paths = sign_statements(
                statements, keyless=True, out_dir=ctx.out_dir, keyless_settings=request.attest_keyless_settings
            )
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
    outputs.update({name: str(p) for p in paths if (name := output_name(p.name)) is not None})
    how = "keyless (Sigstore)" if request.attest_keyless else f"with key {request.attest_key}"
    summary = f"{len(statements)} attestation(s) signed {how}, valid until {valid_until:%Y-%m-%dT%H:%M:%SZ}"
    return StepResult(Step.ATTESTATION, StepStatus.PASSED, summary, tuple(notes), details, outcome=outcome), outputs


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
    permissions = _permissions(result, ctx)
    if permissions is not None:
        predicate = replace(predicate, permissions=permissions)
    images = image_digests(result)
    common: dict[str, Any] = {
        "bundle_name": result.bundle.name,
        "bundle_sha256": result.bundle.sha256,
        "image_digests": images,
    }
    statements = [gate_statement(**common, predicate=predicate)]
    notes: list[Finding] = []
    sbom_result = result.outcome(Step.SBOM, SbomResult)
    recorded = sbom_result.sha256 if sbom_result is not None else None
    if not embed and recorded and _is_recorded_cyclonedx(out_dir / SBOM_FILE, recorded):
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
    statements.append(_vsa(result, ctx, predicate, statements, common, embed=embed))
    return statements, predicate.valid_until, notes


def _vsa(
    result: GateResult,
    ctx: StepContext,
    predicate: GatePredicate,
    emitted: Sequence[Mapping[str, Any]],
    common: Mapping[str, Any],
    *,
    embed: bool,
) -> dict[str, Any]:
    """The SLSA VSA statement: the same decision, resting on the provenance and the other statements."""
    from plugingate.attestation.statement import vsa_statement
    from plugingate.attestation.vsa import build_vsa, statement_input

    inputs = []
    if embed:
        provenance = _provenance_input(result, ctx)
        if provenance is not None:
            inputs.append(provenance)
        inputs.extend(statement_input(s) for s in emitted if s["predicateType"] != GATE_PREDICATE_TYPE)
    summary = build_vsa(predicate, bundle_name=result.bundle.name, bundle_sha256=result.bundle.sha256, inputs=inputs)
    return vsa_statement(**common, summary=summary)


def _provenance_input(result: GateResult, ctx: StepContext) -> InputAttestation | None:
    """The verified provenance file (``--provenance`` or ``BUNDLE.intoto.jsonl``) as a VSA input."""
    from plugingate.attestation.vsa import InputAttestation
    from plugingate.bundle.beside import beside
    from plugingate.bundle.digest import sha256_file

    if _status(result, Step.PROVENANCE) is not CheckStatus.VERIFIED:
        return None
    given = ctx.request.provenance
    path = given if given is not None else beside(Path(result.bundle.source), ".intoto.jsonl")
    if not path.is_file():
        return None  # NOTE: in-toto links (a folder) have no one digest to name
    return InputAttestation(uri=f"file:{quote(path.name)}", sha256=sha256_file(path))


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
    """The gate predicate of a decided run, from the steps' typed results and the policy's settings."""
    scan = result.outcome(Step.VULNERABILITIES, ScanResult)
    sbom = result.outcome(Step.SBOM, SbomResult)
    granted = result.outcome(Step.CAPABILITIES, CapabilitiesOutcome)
    exceptions = scan.exceptions_applied if scan is not None else ()
    valid_until = compute_valid_until(result.evaluated_at, valid_for, [e.expires for e in exceptions])
    counts = dict.fromkeys(SEVERITIES, 0)
    for severity, n in (scan.counts if scan is not None else {}).items():
        key = str(severity).lower()
        counts[key if key in counts else "unknown"] += n
    mode = Mode(result.policy.mode)
    violations = tuple(f.rule_id for f in result.findings if f.severity is Severity.ERROR)
    return GatePredicate(
        passed=result.passed and mode is Mode.ENFORCE and not violations,
        mode=mode,
        policy=PolicyRef(
            name=result.policy.name,
            sha256=result.policy.sha256,
            version=policy_version,
            trust=result.policy.trust or UNPINNED,
        ),
        plugingate_version=result.plugingate_version,
        tools=ToolVersions(
            syft=(sbom.syft_version if sbom is not None else None) or result.tools.get("syft") or "unknown",
            grype=result.tools.get("grype") or (scan.tools.get("grype") if scan is not None else None) or "unknown",
            grype_db_built=scan.database.built if scan is not None else None,
            grype_db_schema=(scan.database.schema or None) if scan is not None else None,
        ),
        signature=CheckRecord(
            status=_status(result, Step.SIGNATURE),
            required=signature_required,
            result=result.outcome(Step.SIGNATURE, SignatureResult),
        ),
        provenance=CheckRecord(
            status=_status(result, Step.PROVENANCE),
            required=provenance_required,
            result=result.outcome(Step.PROVENANCE, ProvenanceResult),
        ),
        capabilities=granted.granted if granted is not None else {},
        runtime_controls=granted.runtime_controls if granted is not None else None,
        vulnerabilities=VulnerabilitySummary(
            counts=counts,
            fail_on=fail_on,
            only_fixed=only_fixed,
            suppressed=scan.suppressed if scan is not None else 0,
            exceptions_applied=exceptions,
        ),
        sbom_sha256=sbom_sha256,
        evaluated_at=result.evaluated_at,
        valid_until=valid_until,
        plugin=None
        if result.plugin is None
        else PluginRef(name=result.plugin.name, version=result.plugin.version, publisher=result.plugin.publisher),
        violations=violations,
        bundle=BundleRef(name=result.bundle.name, sha256=result.bundle.sha256.removeprefix("sha256:")),
        from_cache=(sbom is not None and sbom.cached) or (scan is not None and scan.cached),
        probe=_probe_summary(result),
        growth=_growth(result),
    )


def _probe_summary(result: GateResult) -> dict[str, object] | None:
    """The probe step's summary (``gate --probe``), as the predicate carries it; None when it did not run."""
    probe = result.step(Step.PROBE)
    if probe is None:
        return None
    return {"status": str(probe.status), **dict(probe.details)}


def _permissions(result: GateResult, ctx: StepContext) -> dict[str, Any] | None:
    """What the bundle asks for (declaration and manifests), when the manifests were read; else nothing."""
    from plugingate.growth.footprint import footprint
    from plugingate.manifests.model import ManifestSet

    manifests = result.outcome(Step.MANIFESTS, ManifestSet)
    if manifests is None:
        return None
    return footprint(ctx.declaration, manifests).to_dict()


def _growth(result: GateResult) -> dict[str, Any] | None:
    """The growth step's record for the predicate, when the gate compared with a previous version."""
    from plugingate.growth.step import GrowthOutcome

    outcome = result.outcome(Step.GROWTH, GrowthOutcome)
    return outcome.attested() if outcome is not None else None


def _sbom_sha256(result: GateResult, out_dir: Path) -> str:
    """The CycloneDX SBOM's sha256: as the SBOM step recorded it, else of the file written."""
    sbom = result.outcome(Step.SBOM, SbomResult)
    if sbom is not None and sbom.sha256:
        return sbom.sha256
    from plugingate.bundle.digest import sha256_file

    try:
        return sha256_file(out_dir / SBOM_FILE)
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
    """``(reference, sha256:<hex>)`` of every image of ``spec.images`` proven to be its pinned digest.

    Proven by the SBOM step (its archive's blobs hashed to the digest, or the engine's repository
    digest): an image whose digest was only claimed, or that could not be had, is never a subject.
    """
    from plugingate.declaration.model import pinned_digest

    sbom = result.outcome(Step.SBOM, SbomResult)
    proven = {(i.ref, i.digest) for i in (sbom.images if sbom is not None else ()) if i.digest}
    pinned = ((ref, pinned_digest(ref)) for _name, ref in (result.plugin.images if result.plugin else ()))
    return [(ref, digest) for ref, digest in pinned if digest is not None and (ref, digest) in proven]


def _status(result: GateResult, step: Step) -> CheckStatus:
    found = result.step(step)
    if found is None or found.status in (StepStatus.SKIPPED, StepStatus.ERROR):
        return CheckStatus.SKIPPED
    if found.status is StepStatus.FAILED:
        return CheckStatus.FAILED
    outcome = found.outcome
    verified = isinstance(outcome, SignatureResult | ProvenanceResult) and outcome.verified
    return CheckStatus.VERIFIED if verified else CheckStatus.ABSENT


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
