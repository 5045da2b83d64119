"""The policy applied to grype's matches: VEX, exceptions (with expiry), thresholds, onlyFixed.

Pure: no tool runs here, so a cached scan is re-evaluated on every gate (an exception that expired
since the scan no longer applies) and the rules can be tested without grype.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from plugingate.findings import Finding, Location, Rule
from plugingate.policy.model import VulnerabilityPolicy, VulnException, VulnSeverity
from plugingate.vulnerabilities import rules
from plugingate.vulnerabilities.grype import Match
from plugingate.vulnerabilities.purl import Purl
from plugingate.vulnerabilities.vex import VexStatement, decide

SEVERITIES = ("critical", "high", "medium", "low", "negligible", "unknown")


class Disposition(StrEnum):
    """What the policy made of one match."""

    DENY = "deny"
    REPORT = "report"
    NOT_FIXED = "allowed-not-fixed"
    EXCEPTION = "exception"
    VEX = "vex"


@dataclass(frozen=True, slots=True)
class EvaluatedMatch:
    """A match and what the policy made of it (with the exception or VEX statement that applied)."""

    match: Match
    disposition: Disposition
    exception: VulnException | None = None
    vex: VexStatement | None = None

    @property
    def suppressed(self) -> bool:
        """Whether an exception or a VEX statement removed it."""
        return self.disposition in (Disposition.EXCEPTION, Disposition.VEX)

    def to_dict(self) -> dict[str, object]:
        """As in ``vulns.json``."""
        out = self.match.to_dict()
        out["disposition"] = str(self.disposition)
        if self.exception is not None:
            out["exception"] = exception_dict(self.exception)
        if self.vex is not None:
            out["vex"] = self.vex.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Everything the policy decided about one scan."""

    matches: tuple[EvaluatedMatch, ...]
    findings: tuple[Finding, ...]
    counts: dict[str, int]
    exceptions_applied: tuple[VulnException, ...]
    expired_exceptions: tuple[VulnException, ...]


def exception_dict(exc: VulnException) -> dict[str, object]:
    """An exception as the reports show it."""
    return {"id": exc.id, "package": exc.package, "expires": exc.expires.isoformat(), "reason": exc.reason}


def _exception_covers(exc: VulnException, match: Match) -> bool:
    if exc.id.upper() not in {i.upper() for i in match.ids} or not match.purl:
        return False
    try:
        return Purl.parse(exc.package).covers(Purl.parse(match.purl))
    except ValueError:
        return False


def _severity_rank(severity: str) -> int | None:
    try:
        return VulnSeverity(severity).rank
    except ValueError:
        return None


def _describe(m: Match) -> str:
    where = f"; {m.locations[0].lstrip('/')}" if m.locations else ""
    return f"{m.id} ({m.severity}) in {m.package_name} {m.package_version} ({m.package_type}{where})"


def _fix(m: Match) -> str:
    if m.fix_state == "fixed" and m.fix_versions:
        return f"fixed in {', '.join(m.fix_versions)}"
    return "no fix available yet"


def _finding(rule: Rule, message: str, *, location: Location | None, props: dict[str, object] | None = None) -> Finding:
    return Finding(rule.id, rule.severity, rule.step, message, location, dict(props or {}))


def _location(m: Match) -> Location | None:
    return Location(m.locations[0].lstrip("/")) if m.locations else None


def evaluate(
    matches: Sequence[Match],
    policy: VulnerabilityPolicy,
    vex: Sequence[VexStatement],
    *,
    now: datetime,
    policy_source: str = "policy",
) -> Evaluation:
    """Apply ``policy`` and ``vex`` to ``matches`` at ``now`` (its date decides which exceptions apply)."""
    today = now.date()
    threshold = policy.fail_on.rank
    expired = tuple(e for e in policy.exceptions if not e.active(today))
    active = [e for e in policy.exceptions if e.active(today)]
    evaluated: list[EvaluatedMatch] = []
    findings: list[Finding] = []
    applied: list[VulnException] = []
    counts = dict.fromkeys(SEVERITIES, 0)
    for m in matches:
        props: dict[str, object] = {
            "vulnerability": m.id,
            "vulnerabilitySeverity": m.severity,
            "aliases": list(m.aliases),
            "package": m.package_name,
            "version": m.package_version,
            "purl": m.purl,
            "fixState": m.fix_state,
            "fixedVersions": list(m.fix_versions),
        }
        statement = decide(vex, m.ids, m.purl)
        if statement is not None:
            evaluated.append(EvaluatedMatch(m, Disposition.VEX, vex=statement))
            findings.append(
                _finding(
                    rules.VEX_SUPPRESSED,
                    f"{_describe(m)}: {statement.status} per {statement.document} "
                    f"(statement {statement.index}{', ' + statement.justification if statement.justification else ''})",
                    location=_location(m),
                    props=props,
                )
            )
            continue
        exception = next((e for e in active if _exception_covers(e, m)), None)
        if exception is not None:
            evaluated.append(EvaluatedMatch(m, Disposition.EXCEPTION, exception=exception))
            if exception not in applied:
                applied.append(exception)
            findings.append(
                _finding(
                    rules.EXCEPTION_APPLIED,
                    f"{_describe(m)}: accepted by the policy exception for {exception.package} until "
                    f"{exception.expires.isoformat()} ({exception.reason})",
                    location=_location(m),
                    props=props,
                )
            )
            continue
        counts[m.severity if m.severity in counts else "unknown"] += 1
        rank = _severity_rank(m.severity)
        if rank is None:
            evaluated.append(EvaluatedMatch(m, Disposition.REPORT))
            findings.append(
                _finding(
                    rules.UNKNOWN_SEVERITY,
                    f"{_describe(m)}: severity unknown, so it cannot be compared with failOn "
                    f"{policy.fail_on}; {_fix(m)}",
                    location=_location(m),
                    props=props,
                )
            )
        elif rank >= threshold and policy.only_fixed and m.fix_state != "fixed":
            evaluated.append(EvaluatedMatch(m, Disposition.NOT_FIXED))
            findings.append(
                _finding(
                    rules.NOT_FIXED,
                    f"{_describe(m)}: at or above failOn {policy.fail_on}, but no fix exists and the policy "
                    "sets onlyFixed",
                    location=_location(m),
                    props=props,
                )
            )
        elif rank >= threshold:
            evaluated.append(EvaluatedMatch(m, Disposition.DENY))
            findings.append(
                _finding(
                    rules.AT_OR_ABOVE_THRESHOLD,
                    f"{_describe(m)}: {_fix(m)}; the policy denies {policy.fail_on} and above",
                    location=_location(m),
                    props=props,
                )
            )
        else:
            evaluated.append(EvaluatedMatch(m, Disposition.REPORT))
            findings.append(
                _finding(
                    rules.BELOW_THRESHOLD,
                    f"{_describe(m)}: {_fix(m)}; below failOn {policy.fail_on}",
                    location=_location(m),
                    props=props,
                )
            )
    for exc in expired:
        findings.append(
            _finding(
                rules.EXCEPTION_EXPIRED,
                f"the exception for {exc.id} in {exc.package} expired on {exc.expires.isoformat()} and no "
                f"longer applies (reason given: {exc.reason}); expected a date on or after {today.isoformat()}",
                location=Location(policy_source, exc.line),
                props={"vulnerability": exc.id, "package": exc.package, "expires": exc.expires.isoformat()},
            )
        )
    return Evaluation(
        matches=tuple(evaluated),
        findings=tuple(findings),
        counts=counts,
        exceptions_applied=tuple(applied),
        expired_exceptions=expired,
    )
