"""The vulnerability step's rules (PG-VUL-0xx)."""

from __future__ import annotations

from plugingate.findings import Rule, Severity, Step

AT_OR_ABOVE_THRESHOLD = Rule(
    id="PG-VUL-001",
    step=Step.VULNERABILITIES,
    title="A vulnerability at or above the policy's failOn severity",
    help="A package in the bundle or its images has a known vulnerability at or above "
    "vulnerabilities.failOn. Upgrade to the fixed version; or, when it cannot be exploited, record a "
    "policy exception (id, package, expires, reason) or ship an OpenVEX not_affected statement.",
)
BELOW_THRESHOLD = Rule(
    id="PG-VUL-002",
    step=Step.VULNERABILITIES,
    title="A vulnerability below the policy's failOn severity",
    help="Reported for the record; it does not deny.",
    severity=Severity.NOTE,
)
NOT_FIXED = Rule(
    id="PG-VUL-003",
    step=Step.VULNERABILITIES,
    title="A vulnerability with no fix yet, allowed by onlyFixed",
    help="At or above failOn, but no fixed version exists and the policy sets onlyFixed: true. "
    "It will deny once a fix is published.",
    severity=Severity.WARNING,
)
UNKNOWN_SEVERITY = Rule(
    id="PG-VUL-004",
    step=Step.VULNERABILITIES,
    title="A vulnerability whose severity is unknown",
    help="The database gives no severity, so it cannot be compared with failOn; review it by hand.",
    severity=Severity.WARNING,
)
EXCEPTION_APPLIED = Rule(
    id="PG-VUL-010",
    step=Step.VULNERABILITIES,
    title="A vulnerability accepted by a policy exception",
    help="A policy exception (id, package) accepts this vulnerability until its expiry date.",
    severity=Severity.NOTE,
)
EXCEPTION_EXPIRED = Rule(
    id="PG-VUL-011",
    step=Step.VULNERABILITIES,
    title="A policy exception has expired",
    help="The exception's expires date has passed: it no longer applies. Fix the vulnerability, or "
    "renew the exception with a new date and reason.",
    severity=Severity.WARNING,
)
VEX_SUPPRESSED = Rule(
    id="PG-VUL-012",
    step=Step.VULNERABILITIES,
    title="A vulnerability suppressed by a VEX statement",
    help="An OpenVEX document named by the policy states not_affected or fixed for this package.",
    severity=Severity.NOTE,
)
STALE_DATABASE = Rule(
    id="PG-VUL-020",
    step=Step.VULNERABILITIES,
    title="The vulnerability database is older than the policy allows",
    help="Update the database (scripts/setup-tools, or grype db update where there is network). With "
    "onStaleDatabase: fail the gate cannot decide (exit 3); with warn it reports this and goes on.",
    severity=Severity.WARNING,
)

RULES = (
    AT_OR_ABOVE_THRESHOLD,
    BELOW_THRESHOLD,
    NOT_FIXED,
    UNKNOWN_SEVERITY,
    EXCEPTION_APPLIED,
    EXCEPTION_EXPIRED,
    VEX_SUPPRESSED,
    STALE_DATABASE,
)
