"""``summary.md``: the report a person reads in a merge request or a CI step summary.

The verdict comes first, then one table row per step, then the findings of each step folded in
``<details>`` so that a long vulnerability list doesn't bury the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from plugingate.files import write_atomic
from plugingate.findings import Step
from plugingate.result import GateResult, StepStatus, Verdict

_ICON = {
    StepStatus.PASSED: "✅",
    StepStatus.FAILED: "❌",
    StepStatus.WARNED: "⚠️",
    StepStatus.SKIPPED: "⏭️",
    StepStatus.ERROR: "⛔",
}
_VERDICT = {Verdict.PASSED: "✅ PASSED", Verdict.DENIED: "❌ DENIED", Verdict.UNDECIDED: "⛔ COULD NOT DECIDE"}
_MAX_ROWS = 200


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _shadow_run(details: Mapping[str, object]) -> str:
    """One line on the probe (``gate --probe``): what ran, its memory peak and the rules it found."""
    images = details.get("images")
    found = details.get("findings")
    peak = details.get("memoryPeakBytes")
    rules = ", ".join(f"`{r}`" for r in found) if isinstance(found, list) and found else "nothing undeclared"
    names = ", ".join(map(str, images)) if isinstance(images, list) else "?"
    return (
        f"**Shadow run** in gVisor (runsc {_cell(str(details.get('runsc')))}, {details.get('durationSeconds')} s "
        f"per image, no host network): images {_cell(names)}; sandbox memory peak "
        f"{(peak if isinstance(peak, int) else 0) >> 20} MiB; {rules}. Everything it recorded is in `probe.json`."
    )


def render_markdown(result: GateResult) -> str:
    """The summary as Markdown."""
    plugin = f"{result.plugin.name} {result.plugin.version} ({result.plugin.publisher})" if result.plugin else "?"
    counts = result.counts()
    lines = [
        f"# plugingate: {_VERDICT[result.verdict]}",
        "",
        f"**Plugin** {_cell(plugin)} · **bundle** `{result.bundle.name}` `sha256:{result.bundle.sha256[:16]}…` · "
        f"**policy** `{result.policy.name}` ({result.policy.mode}) · "
        f"{counts['error']} error(s), {counts['warning']} warning(s)",
        "",
    ]
    if result.error:
        lines += [f"> **Could not decide:** {_cell(result.error)}", ""]
    if result.policy.trust is not None and not result.policy.trust.trusted:
        lines += ["> **Policy not pinned:** nothing is signed under it (see `--policy-digest`).", ""]
    if result.verdict is Verdict.PASSED and counts["error"]:
        lines += [f"> Mode `{result.policy.mode}`: the violations below are reported but do not deny.", ""]
    lines += ["| step | result | summary |", "| --- | --- | --- |"]
    for step in result.steps:
        lines.append(f"| {step.step} | {_ICON[step.status]} {step.status} | {_cell(step.summary)} |")
    lines.append("")
    probe = result.step(Step.PROBE)
    if probe is not None and probe.details.get("ran"):
        lines += [_shadow_run(probe.details), ""]
    for step in result.steps:
        if not step.findings:
            continue
        lines += [
            f"<details{' open' if step.status is StepStatus.FAILED else ''}>",
            f"<summary><b>{step.step}</b>: {len(step.findings)} finding(s)</summary>",
            "",
            "| rule | severity | where | finding |",
            "| --- | --- | --- | --- |",
        ]
        for finding in step.findings[:_MAX_ROWS]:
            where = f"`{finding.location}`" if finding.location else ""
            lines.append(f"| `{finding.rule_id}` | {finding.severity} | {where} | {_cell(finding.message)} |")
        if len(step.findings) > _MAX_ROWS:
            lines.append(f"| … | | | {len(step.findings) - _MAX_ROWS} more in report.json |")
        lines += ["", "</details>", ""]
    lines += _growth(result)
    tools = ", ".join(f"{k} {v}" for k, v in sorted(result.tools.items()))
    lines.append(f"<sub>plugingate {result.plugingate_version}{' · ' + tools if tools else ''}</sub>")
    return "\n".join(lines) + "\n"


def _growth(result: GateResult) -> list[str]:
    """``gate --previous``: what this version asks for beyond the previous one, and which of it was approved.

    # NOTE: read from the growth step's typed outcome (its ``attested()`` record, what the attestation
    # signs), so the summary says what the statement says; the report imports no step package.
    """
    from plugingate.findings import Step

    step = result.step(Step.GROWTH)
    attested = getattr(step.outcome, "attested", None) if step is not None else None
    if not callable(attested):
        return []
    record = attested()
    previous = record["previous"]
    approved, denied = set(record["approved"]), set(record["denied"])
    lines = [f"### Permission growth over {_cell(previous['version'])} (`sha256:{previous['sha256'][:16]}…`)", ""]
    if not record["items"]:
        return [*lines, "No growth: this version asks for nothing the previous one did not.", ""]
    lines += ["| item | kind | approval |", "| --- | --- | --- |"]
    for ident in record["items"][:_MAX_ROWS]:
        state = "✅ approved" if ident in approved else "❌ not approved" if ident in denied else "not required"
        lines.append(f"| `{_cell(ident)}` | {ident.split(':', 1)[0]} | {state} |")
    used = record["approvals"]
    if used:
        lines += [
            "",
            "Approvals used: "
            + ", ".join(f"{a.get('approver')} (signed by {a['signer']}, until {a.get('expires')})" for a in used),
        ]
    return [*lines, ""]


def write_markdown(result: GateResult, path: Path) -> None:
    """Write ``summary.md``."""
    write_atomic(path, render_markdown(result))
