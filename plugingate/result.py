"""What a gate run found and decided: the one object every report is written from.

The pipeline fills a ``GateResult``; the reporters (JSON, Markdown, terminal, SARIF, JUnit, GitLab,
GitHub) only read it. ``report.json`` is ``GateResult.to_dict()``, versioned by ``SCHEMA_VERSION``
and described by ``plugingate/schemas/report.schema.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from plugingate.errors import ExitCode
from plugingate.findings import Finding, Severity, Step

_T = TypeVar("_T")

if TYPE_CHECKING:
    from plugingate.policy.trust import PolicyTrust

SCHEMA_VERSION = "1.0"


class Verdict(StrEnum):
    """The gate's answer. ``undecided`` fails closed (exit 3)."""

    PASSED = "passed"
    DENIED = "denied"
    UNDECIDED = "undecided"


class StepStatus(StrEnum):
    """How one step ended."""

    PASSED = "passed"
    FAILED = "failed"
    WARNED = "warned"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step's outcome: its findings, a one-line summary, its typed result and that result as JSON.

    ``outcome`` is the step's own typed result (the signature step's ``SignatureResult``, the scan's
    ``ScanResult``, …): later steps and the reports read it through ``GateResult.outcome``.
    ``details`` is only its JSON rendering for ``report.json``; nothing reads it back.
    """

    step: Step
    status: StepStatus
    summary: str
    findings: tuple[Finding, ...] = ()
    details: Mapping[str, object] = field(default_factory=dict)
    seconds: float = 0.0
    outcome: object | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, object]:
        """The step as it appears in ``report.json``."""
        return {
            "step": str(self.step),
            "status": str(self.status),
            "summary": self.summary,
            "seconds": round(self.seconds, 3),
            "findings": [f.to_dict() for f in self.findings],
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class BundleInfo:
    """The bundle as the attestation names it."""

    source: str
    name: str
    sha256: str
    size: int
    kind: str


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """Who the plugin says it is (from plugin.yaml)."""

    name: str
    version: str
    publisher: str
    images: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    """The policy the gate ran with."""

    name: str
    sha256: str
    source: str
    mode: str
    trust: PolicyTrust | None = None  # how the policy was tied to the platform's approval (pinned, signed, not)


@dataclass(frozen=True, slots=True)
class GateResult:
    """Everything a gate run found and decided."""

    bundle: BundleInfo
    policy: PolicyInfo
    verdict: Verdict
    exit_code: ExitCode
    steps: tuple[StepResult, ...]
    evaluated_at: datetime
    plugingate_version: str
    plugin: PluginInfo | None = None
    valid_until: datetime | None = None
    tools: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def passed(self) -> bool:
        """Whether the bundle may enter (the attestation's ``passed``)."""
        return self.verdict is Verdict.PASSED

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding of every step, in step order."""
        return tuple(f for s in self.steps for f in s.findings)

    def step(self, step: Step) -> StepResult | None:
        """The result of ``step``, if it ran."""
        return next((s for s in self.steps if s.step is step), None)

    def outcome(self, step: Step, kind: type[_T]) -> _T | None:
        """``step``'s typed result when it ran and produced a ``kind`` (``None`` otherwise)."""
        found = self.step(step)
        return found.outcome if found is not None and isinstance(found.outcome, kind) else None

    def counts(self) -> dict[str, int]:
        """Findings by severity."""
        out = {str(s): 0 for s in Severity}
        for f in self.findings:
            out[str(f.severity)] += 1
        return out

    def to_dict(self) -> dict[str, object]:
        """``report.json``."""
        out: dict[str, object] = {
            "schemaVersion": SCHEMA_VERSION,
            "plugingate": self.plugingate_version,
            "verdict": str(self.verdict),
            "passed": self.passed,
            "exitCode": int(self.exit_code),
            "mode": self.policy.mode,
            "evaluatedAt": rfc3339(self.evaluated_at),
            "validUntil": rfc3339(self.valid_until) if self.valid_until else None,
            "bundle": {
                "source": self.bundle.source,
                "name": self.bundle.name,
                "sha256": self.bundle.sha256,
                "size": self.bundle.size,
                "kind": self.bundle.kind,
            },
            "plugin": None
            if self.plugin is None
            else {
                "name": self.plugin.name,
                "version": self.plugin.version,
                "publisher": self.plugin.publisher,
                "images": [{"name": n, "ref": r} for n, r in self.plugin.images],
            },
            "policy": {
                "name": self.policy.name,
                "sha256": self.policy.sha256,
                "source": self.policy.source,
                **({"trust": self.policy.trust.to_dict()} if self.policy.trust is not None else {}),
            },
            "tools": dict(self.tools),
            "counts": self.counts(),
            "steps": [s.to_dict() for s in self.steps],
            "outputs": dict(self.outputs),
        }
        if self.error:
            out["error"] = self.error
        return out


def rfc3339(moment: datetime) -> str:
    """UTC, second precision, ``Z`` suffix (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
