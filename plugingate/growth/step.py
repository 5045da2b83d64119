"""The growth step as the gate runs it (``gate --previous OLD [--approval FILE]…``).

The previous version is read exactly as the gate reads the bundle (same limits, same safe readers);
the growth over it is compared; each growth item of a kind the policy's ``approvals.requireFor``
lists must be named by an approval that verifies against ``approvals.approvers``, is about this
plugin and these two bundles, and has not expired. The step's outcome is what the gate attestation
records (``growth``) and the report shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plugingate.findings import Finding, Location
from plugingate.findings import Step as GateStep
from plugingate.growth import rules
from plugingate.growth.approvals import CheckedApproval, Transition, approved_items, check_approval
from plugingate.growth.compare import Growth, GrowthItem, compare
from plugingate.growth.read import ReadVersion
from plugingate.pipeline import status_of
from plugingate.result import StepResult

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext


# NOTE: ids carry manifest text (an image name, a path); a finding shows at most this much of one.
_SHOWN = 500


@dataclass(frozen=True, slots=True)
class GrowthOutcome:
    """What the step found: the previous version, the growth, which of it needed and got approval."""

    previous: ReadVersion
    growth: Growth
    required: tuple[str, ...]
    approved: tuple[str, ...]
    denied: tuple[str, ...]
    approvals: tuple[CheckedApproval, ...]

    def attested(self) -> dict[str, Any]:
        """The gate predicate's ``growth``: the previous bundle, the items, and the approvals used."""
        return {
            "previous": {"sha256": self.previous.sha256, "version": self.previous.version},
            "items": [i.id for i in self.growth.items],
            "requireFor": list(self.required),
            "approved": list(self.approved),
            "denied": list(self.denied),
            "approvals": [a.attested() for a in self.approvals if a.approval is not None],
        }


def growth_step(ctx: StepContext) -> StepResult:
    """Compare the bundle with ``--previous`` and hold its growth against the approvals given."""
    from plugingate.bundle import BundleLimits
    from plugingate.errors import InputError, VerificationError
    from plugingate.growth.footprint import footprint
    from plugingate.growth.previous import read_previous
    from plugingate.keys import load_public_key
    from plugingate.manifests.step import checked_manifests
    from plugingate.packaging.model import PackagingOptions
    from plugingate.tools.runner import ToolRunner

    request = ctx.request
    assert request.previous is not None
    policy = request.policy
    keys = [load_public_key(k) for k in request.previous_keys]
    packaging = PackagingOptions.from_policy(policy, ToolRunner(forbidden=(request.bundle, request.previous)))
    try:
        previous = read_previous(request.previous, keys, BundleLimits.from_policy(policy.bundle), ctx.now, packaging)
    except VerificationError as exc:
        finding = rules.PREVIOUS_UNVERIFIED.finding(
            f"{request.previous}: {exc.message}", location=Location(str(request.previous))
        )
        return StepResult(GateStep.GROWTH, status_of([finding]), "no approved previous version", (finding,))
    if previous.footprint.name != ctx.declaration.name:
        raise InputError(
            f"--previous is plugin {previous.footprint.name!r} (version {previous.version}), the bundle is "
            f"{ctx.declaration.name!r}",
            field="--previous",
            hint="give the previous approved version of the same plugin",
        )
    # NOTE: the objects the manifests step read and checked (a chart rendered once, with the policy's settings).
    current = footprint(ctx.declaration, checked_manifests(ctx))
    growth = compare(previous.footprint, current)
    transition = Transition(
        plugin=ctx.declaration.name, previous_sha256=previous.sha256, bundle_sha256=ctx.bundle.sha256
    )
    approvers = policy.approvals.approvers
    checked = tuple(check_approval(path, approvers, transition, ctx.now) for path in request.approvals)
    findings: list[Finding] = [f for c in checked for f in c.findings]
    named = approved_items(checked)
    required = {str(k) for k in policy.approvals.require_for}
    needing = [i for i in growth.items if str(i.kind) in required]
    approved = tuple(i.id for i in needing if i.id in named)
    denied = [i for i in needing if i.id not in named]
    for c in checked:
        if c.approval is not None and denied:
            findings.append(
                rules.INCOMPLETE.finding(
                    f"approval {c.source} names {len(set(c.approval.items) & {i.id for i in needing})} of the "
                    f"{len(needing)} growth item(s) that need approval; not named: "
                    + ", ".join(i.id for i in denied[:10])
                    + (" …" if len(denied) > 10 else ""),
                    location=Location(c.source),
                )
            )
    findings += [_unapproved(item, previous) for item in denied]
    outcome = GrowthOutcome(
        previous=previous,
        growth=growth,
        required=tuple(sorted(required)),
        approved=approved,
        denied=tuple(i.id for i in denied),
        approvals=checked,
    )
    summary = (
        f"{len(growth.items)} growth item(s) over {previous.footprint.version} (sha256:{previous.sha256[:12]}…): "
        f"{len(needing)} need approval, {len(approved)} approved, {len(denied)} not"
    )
    return StepResult(
        GateStep.GROWTH,
        status_of(findings),
        summary,
        tuple(findings),
        details={
            "previous": previous.to_dict(),
            "items": [i.to_dict() for i in growth.items],
            "imageUpdates": [u.to_dict() for u in growth.updates],
            "approved": list(approved),
        },
        outcome=outcome,
    )


def _unapproved(item: GrowthItem, previous: ReadVersion) -> Finding:
    where = item.sources[0] if item.sources else None
    path, _, rest = (where or "").partition(":")
    line = rest.split(" ", 1)[0]
    shown = item.id if len(item.id) <= _SHOWN else item.id[: _SHOWN - 1] + "…"
    return rules.UNAPPROVED.finding(
        f"{shown}: new since version {previous.version} (sha256:{previous.sha256[:12]}…)"
        + (f" [{item.detail}]" if item.detail else "")
        + "; expected an approval naming it (plugingate approve, then gate --approval FILE)",
        location=Location(path, int(line) if line.isdigit() else None) if path else None,
        growthKind=str(item.kind),
        growthItem=shown,
    )
