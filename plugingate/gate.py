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
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from plugingate import __version__
from plugingate.errors import ExitCode, UndecidedError
from plugingate.findings import Severity, Step
from plugingate.pipeline import GateRequest, GateSteps, RanTools, StepContext, StepFunction
from plugingate.policy.model import Mode
from plugingate.result import BundleInfo, GateResult, PluginInfo, PolicyInfo, StepResult, StepStatus, Verdict

if TYPE_CHECKING:
    from plugingate.policy.trust import PolicyTrust

__all__ = ["GateRequest", "GateSteps", "run_gate"]


def run_gate(request: GateRequest, steps: GateSteps | None = None) -> GateResult:
    """Run the whole pipeline and return what it decided (outputs are written as a side effect)."""
    from plugingate.bundle import BundleLimits, open_bundle
    from plugingate.bundle.step import bundle_step
    from plugingate.declaration import load_declaration

    if steps is None:
        from plugingate.steps import default_steps

        steps = default_steps()
    now = request.now or datetime.now(UTC)
    policy = request.policy
    limits = BundleLimits.from_policy(policy.bundle)
    with open_bundle(request.bundle, limits) as bundle:
        declaration = load_declaration(bundle.root)
        ctx = StepContext(request=request, bundle=bundle, declaration=declaration, now=now)
        results: list[StepResult] = [bundle_step(bundle)]
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
                    ctx.earlier[step] = results[-1]
                if request.previous is not None:
                    results.append(_timed(Step.GROWTH, steps.growth or _no_growth_step, ctx))
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
        if request.probe:
            # NOTE: after the scan, not beside it: the sandbox wants the machine's cores for itself.
            if steps.probe is None:
                results.append(StepResult(Step.PROBE, StepStatus.ERROR, "could not decide: no probe in this pipeline"))
            else:
                results.append(_timed(Step.PROBE, steps.probe, ctx))
        result = _decide(request, ctx, results, now)
        # NOTE: a dry run signs nothing unless --attest-dry-run asks for it: only then was signing asked for.
        asked = bool(request.attest_key or request.attest_keyless) and (
            request.policy.mode is not Mode.DRY_RUN or request.attest_in_dry_run
        )
        refused = _refuse_unpinned(request.policy_trust, signing=asked)
        attested: dict[str, str]
        if refused is not None and result.verdict is not Verdict.UNDECIDED:
            attestation, attested = refused, {}
        else:
            attestation, attested = steps.attest(ctx, result)
        result = _with(result, attestation, attested)
        written = steps.outputs(ctx, result)
        return replace(result, outputs={**written, **attested})


def _no_growth_step(ctx: StepContext) -> StepResult:
    """A pipeline without a growth step cannot honour --previous: fail closed rather than skip it."""
    raise UndecidedError("--previous was given but this pipeline has no growth step")


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
    return replace(result, seconds=time.perf_counter() - started)


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
        if isinstance(r.outcome, RanTools):
            tools.update(r.outcome.tool_versions())
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
    from plugingate.attestation.step import AttestationOutcome

    attested = attestation.outcome
    if isinstance(attested, AttestationOutcome):
        # NOTE: an applied exception that expires first shortens the attestation's validity; the
        # report must say the same as the signed statement.
        result = replace(result, valid_until=attested.valid_until)
    return replace(result, steps=steps, outputs=outputs)


def _refuse_unpinned(trust: PolicyTrust, *, signing: bool) -> StepResult | None:
    """The attestation step's result when signing was asked for under an untrusted policy, else None.

    # NOTE: here and not in policy/trust.py: the policy package builds no step result (result.py
    # names PolicyTrust, and an import each way would close a circle).
    """
    if not signing or trust.trusted:
        return None
    from plugingate.policy import rules

    message = (
        "attestations not signed: policy not pinned; pin it with --policy-digest sha256:<digest> "
        "(PLUGINGATE_POLICY_DIGEST) or sign it and name the signer with --policy-key / --policy-identity"
    )
    return StepResult(
        Step.ATTESTATION,
        StepStatus.FAILED,
        message,
        (rules.NOT_PINNED.finding(message),),
        details={"policyTrust": trust.to_dict()},
    )
