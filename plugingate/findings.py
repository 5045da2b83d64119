"""Findings: what a check found, with a stable rule id, a severity and a location.

Every step of the gate reports ``Finding`` objects. The rule id is the contract with the people who
read reports and write exceptions (``PG-CAP-010`` means the same thing in every version), so rule ids
are declared once, in ``plugingate.rules``, and never reused for another meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is. ``error`` denies in enforce mode; ``warning`` and ``note`` never deny."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class Step(StrEnum):
    """The steps of a gate, in the order they run; every finding belongs to one."""

    BUNDLE = "bundle"
    SIGNATURE = "signature"
    PROVENANCE = "provenance"
    DECLARATION = "declaration"
    CAPABILITIES = "capabilities"
    MANIFESTS = "manifests"
    GROWTH = "growth"
    SBOM = "sbom"
    VULNERABILITIES = "vulnerabilities"
    PROBE = "probe"
    ATTESTATION = "attestation"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is: a path relative to the bundle root, and a 1-based line when known."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check found. ``message`` says what was found and what was expected."""

    rule_id: str
    severity: Severity
    step: Step
    message: str
    location: Location | None = None
    properties: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def denies(self) -> bool:
        """Whether this finding denies the bundle in enforce mode."""
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, object]:
        """The finding as it appears in ``report.json``."""
        out: dict[str, object] = {
            "ruleId": self.rule_id,
            "severity": str(self.severity),
            "step": str(self.step),
            "message": self.message,
        }
        if self.location is not None:
            loc: dict[str, object] = {"path": self.location.path}
            if self.location.line:
                loc["line"] = self.location.line
            out["location"] = loc
        if self.properties:
            out["properties"] = dict(self.properties)
        return out


@dataclass(frozen=True, slots=True)
class Rule:
    """A check's stable identity: its id, a one-line title and help text for SARIF and the docs."""

    id: str
    step: Step
    title: str
    help: str
    severity: Severity = Severity.ERROR

    def finding(
        self,
        message: str,
        *,
        location: Location | None = None,
        severity: Severity | None = None,
        **properties: object,
    ) -> Finding:
        """A finding of this rule; ``severity`` overrides the rule's default (a policy may soften it)."""
        return Finding(
            rule_id=self.id,
            severity=severity or self.severity,
            step=self.step,
            message=message,
            location=location,
            properties=properties,
        )
