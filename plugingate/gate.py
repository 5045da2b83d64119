"""The gate: the contract's pipeline, in order, with syft running beside the checks.

1. Load and digest the bundle (one streaming pass) and unpack it into a private temporary folder.
2. Verify the signature and the provenance against the policy's trusted signers and builders.
3. Validate plugin.yaml; check the declared capabilities against the policy and the manifests
   against the declaration.
4. SBOM with syft, started at once in a worker thread: the checks of steps 2 and 3 are cheap and
   run while syft reads the tree.
5. Vulnerability scan with grype, started as soon as syft's own JSON is written, while syft
   converts it into CycloneDX and SPDX in the worker thread.
6. Decide, write every output, sign the attestations.

A step that cannot be made (a tool missing or failing, a stale database, a trust root that can't be
read) ends as ``StepStatus.ERROR`` and the verdict is ``undecided`` (exit 3): the gate fails closed
and still writes its report, so the pipeline shows why. Bad input (a corrupt archive, an invalid
plugin.yaml or manifest) raises ``InputError`` (exit 2) before anything is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugingate import __version__
from plugingate.errors import ExitCode, UndecidedError
from plugingate.findings import Severity, Step
from plugingate.policy.model import GatePolicy, Mode
from plugingate.policy.trust import UNPINNED, PolicyTrust, refuse_unpinned
from plugingate.result import BundleInfo, GateResult, PluginInfo, PolicyInfo, StepResult, StepStatus, Verdict
from plugingate.steps import StepContext, default_steps

if TYPE_CHECKING:
    from plugingate.bundle import OpenedBundle
    from plugingate.keys import PrivateKey
    from plugingate.signature.keyless import KeylessSettings


@dataclass(frozen=True, slots=True)
class GateRequest:
    """What to gate, against which policy, and where to put the outputs."""

    bundle: Path
    policy: GatePolicy
    out_dir: Path
    signature: Path | None = None
    provenance: Path | None = None
    attest_key: Path | None = None
    attest_private_key: PrivateKey | None = None  # ``attest_key`` loaded up front, so a bad key fails first
    attest_keyless: bool = False
    attest_keyless_settings: KeylessSettings | None = None  # the instance and token; None: public + ambient
    attest_in_dry_run: bool = False
    use_cache: bool = True
    now: datetime | None = None
    # NOTE: how the policy was tied to the platform's approval; unpinned (the default) signs nothing.
    policy_trust: PolicyTrust = UNPINNED


StepFunction = Callable[[StepContext], StepResult]


@dataclass(frozen=True, slots=True)
class GateSteps:
    """The pipeline's parts; tests hand the gate fakes, the CLI the real ones."""

    signature: StepFunction
    provenance: StepFunction
    capabilities: StepFunction
    manifests: StepFunction
    sbom: StepFunction
    vulnerabilities: StepFunction
    attest: Callable[[StepContext, GateResult], tuple[StepResult, dict[str, str]]]
    outputs: Callable[[StepContext, GateResult], dict[str, str]]
    # NOTE: called once the checks are done, while syft still runs on a core of its own: whatever
    # the later steps can get ready (their imports) then stays off the critical path.
    prepare: Callable[[], None] | None = None
    # NOTE: called right after syft is started: work of a later step that can begin at once (the
    # manifests' Kubernetes reading) runs beside syft too.
    start: Callable[[StepContext], None] | None = None


def run_gate(request: GateRequest, steps: GateSteps | None = None) -> GateResult:
    """Run the whole pipeline and return what it decided (outputs are written as a side effect)."""
    from plugingate.bundle import BundleLimits, open_bundle
    from plugingate.declaration import load_declaration

    steps = steps or default_steps()
    now = request.now or datetime.now(UTC)
    policy = request.policy
    limits = BundleLimits.from_policy(policy.bundle)
    with open_bundle(request.bundle, limits) as bundle:
        declaration = load_declaration(bundle.root)
        ctx = StepContext(request=request, bundle=bundle, declaration=declaration, now=now)
        results: list[StepResult] = [_bundle_step(bundle)]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="plugingate-sbom") as pool:
            sbom_future: Future[StepResult] = pool.submit(_timed, Step.SBOM, steps.sbom, ctx)
            try:
                if steps.start is not None:
                    steps.start(ctx)
                for step, function in (
                    (Step.SIGNATURE, steps.signature),
                    (Step.PROVENANCE, steps.provenance),
                    (Step.CAPABILITIES, steps.capabilities),
                    (Step.MANIFESTS, steps.manifests),
                ):
                    results.append(_timed(step, function, ctx))
                if steps.prepare is not None and not sbom_future.done():
                    steps.prepare()
                either: list[Future[Any]] = [sbom_future, ctx.scan_input]
                wait(either, return_when=FIRST_COMPLETED)
                vulnerabilities = (
                    _timed(Step.VULNERABILITIES, steps.vulnerabilities, ctx) if ctx.scan_input.done() else None
                )
                sbom = sbom_future.result()
            except BaseException:
                # NOTE: bad input, Ctrl-C or SIGTERM while syft runs: stop it now rather than wait for
                # it before the temporary folder can be removed.
                from plugingate.tools.runner import stop_running_tools

                stop_running_tools()
                raise
        results.append(sbom)
        if vulnerabilities is not None:
            results.append(vulnerabilities)
        elif sbom.status is StepStatus.ERROR:
            results.append(StepResult(Step.VULNERABILITIES, StepStatus.SKIPPED, "not scanned: no SBOM"))
        else:
            results.append(_timed(Step.VULNERABILITIES, steps.vulnerabilities, ctx))
        result = _decide(request, ctx, results, now)
        # NOTE: a dry run signs nothing unless --attest-dry-run asks for it: only then was signing asked for.
        asked = bool(request.attest_key or request.attest_keyless) and (
            request.policy.mode is not Mode.DRY_RUN or request.attest_in_dry_run
        )
        refused = refuse_unpinned(request.policy_trust, signing=asked)
        attested: dict[str, str]
        if refused is not None and result.verdict is not Verdict.UNDECIDED:
            attestation, attested = refused, {}
        else:
            attestation, attested = steps.attest(ctx, result)
        result = _with(result, attestation, attested)
        written = steps.outputs(ctx, result)
        return replace(result, outputs={**written, **attested})


def _bundle_step(bundle: OpenedBundle) -> StepResult:
    """What unpacking found that does not stop the gate (dropped setuid bits, trailing data)."""
    from plugingate.steps import status_of

    summary = f"{bundle.kind} {bundle.size} bytes, {bundle.files} entries, sha256:{bundle.sha256[:12]}"
    return StepResult(
        Step.BUNDLE,
        status_of(bundle.findings),
        summary,
        tuple(bundle.findings),
        details={"files": bundle.files, "unpackedBytes": bundle.unpacked_bytes},
    )


def _timed(step: Step, function: StepFunction, ctx: StepContext) -> StepResult:
    """Run one step; a check that cannot be made becomes an ERROR result instead of an exception."""
    started = time.perf_counter()
    try:
        result = function(ctx)
    except UndecidedError as exc:
        return StepResult(
            step,
            StepStatus.ERROR,
            f"could not decide: {exc.message}",
            details={"error": exc.diagnostics()},
            seconds=time.perf_counter() - started,
        )
    return StepResult(
        result.step,
        result.status,
        result.summary,
        result.findings,
        result.details,
        seconds=time.perf_counter() - started,
    )


def _decide(request: GateRequest, ctx: StepContext, results: list[StepResult], now: datetime) -> GateResult:
    policy = request.policy
    errors = [r for r in results if r.status is StepStatus.ERROR]
    denying = [f for r in results for f in r.findings if f.severity is Severity.ERROR]
    if errors:
        verdict, code = Verdict.UNDECIDED, ExitCode.UNDECIDED
    elif denying and policy.mode is Mode.ENFORCE:
        verdict, code = Verdict.DENIED, ExitCode.DENIED
    else:
        verdict, code = Verdict.PASSED, ExitCode.PASSED
    tools: dict[str, str] = {}
    for r in results:
        versions = r.details.get("tools")
        if isinstance(versions, dict):
            tools.update({str(k): str(v) for k, v in versions.items()})
    decl = ctx.declaration
    return GateResult(
        bundle=BundleInfo(
            source=str(request.bundle),
            name=ctx.bundle.name,
            sha256=ctx.bundle.sha256,
            size=ctx.bundle.size,
            kind=str(ctx.bundle.kind),
        ),
        policy=PolicyInfo(
            name=policy.name,
            sha256=policy.sha256,
            source=policy.source,
            mode=str(policy.mode),
            trust=request.policy_trust,
        ),
        verdict=verdict,
        exit_code=code,
        steps=tuple(results),
        evaluated_at=now,
        valid_until=now + policy.attestation.valid_for,
        plugingate_version=__version__,
        plugin=PluginInfo(
            name=decl.name,
            version=decl.version,
            publisher=decl.publisher,
            images=tuple((i.name, i.ref) for i in decl.images),
        ),
        tools=tools,
        error="; ".join(f"{r.step}: {r.summary}" for r in errors) or None,
    )


def _with(result: GateResult, attestation: StepResult, outputs: dict[str, str]) -> GateResult:
    """The result with the attestation step and the output paths added."""
    steps = (*result.steps, attestation)
    if attestation.status is StepStatus.ERROR and result.verdict is not Verdict.UNDECIDED:
        return replace(
            result,
            steps=steps,
            outputs=outputs,
            verdict=Verdict.UNDECIDED,
            exit_code=ExitCode.UNDECIDED,
            error=f"attestation: {attestation.summary}",
        )
    if attestation.status is StepStatus.FAILED and result.verdict is not Verdict.UNDECIDED:
        # NOTE: signing was asked for and refused (an unpinned policy): the run is a denial, exit 1.
        return replace(
            result,
            steps=steps,
            outputs=outputs,
            verdict=Verdict.DENIED,
            exit_code=ExitCode.DENIED,
        )
    valid_until = attestation.details.get("validUntil")
    if isinstance(valid_until, str):
        from plugingate.attestation.predicate import parse_rfc3339

        # NOTE: an applied exception that expires first shortens the attestation's validity; the
        # report must say the same as the signed statement.
        result = replace(result, valid_until=parse_rfc3339(valid_until))
    return replace(result, steps=steps, outputs=outputs)
