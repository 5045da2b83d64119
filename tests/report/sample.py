"""Hand-built ``GateResult`` objects for the CI reporters' unit tests (real gate runs are in tests/ci)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from plugingate.errors import ExitCode
from plugingate.findings import Finding, Location, Severity, Step
from plugingate.result import BundleInfo, GateResult, PluginInfo, PolicyInfo, StepResult, StepStatus, Verdict

SCHEMAS = Path(__file__).resolve().parents[2] / "testdata" / "schemas"
WHEN = datetime(2026, 11, 29, 21, 30, 5, tzinfo=UTC)

HOSTILE = 'evil\x1b[31m <script>alert("x")</script> | pipe\nnew line \x00 end'


def _result(steps: tuple[StepResult, ...], verdict: Verdict, code: ExitCode, kind: str = "tar.gz") -> GateResult:
    source = "examples/acme-exporter.tgz" if kind != "directory" else "examples/acme-exporter"
    return GateResult(
        bundle=BundleInfo(source=source, name=Path(source).name, sha256="ab" * 32, size=1234, kind=kind),
        policy=PolicyInfo(name="default", sha256="cd" * 32, source="policies/default.yaml", mode="enforce"),
        verdict=verdict,
        exit_code=code,
        steps=steps,
        evaluated_at=WHEN,
        plugingate_version="0.1.0",
        plugin=PluginInfo(name="acme-exporter", version="1.4.2", publisher="acme.example"),
        tools={"syft": "v1.57.1", "grype": "v0.121.2"},
    )


def passed() -> GateResult:
    """Every step passed; one note."""
    steps = (
        StepResult(Step.BUNDLE, StepStatus.PASSED, "1 234 bytes, 7 files", seconds=0.01),
        StepResult(Step.SIGNATURE, StepStatus.PASSED, "signed by key acme", seconds=0.2),
        StepResult(Step.PROVENANCE, StepStatus.SKIPPED, "not required by the policy"),
        StepResult(Step.CAPABILITIES, StepStatus.PASSED, "7 capabilities granted"),
        StepResult(
            Step.SBOM,
            StepStatus.PASSED,
            "12 packages",
            findings=(
                Finding(
                    "PG-SBOM-002", Severity.NOTE, Step.SBOM, "image exporter scanned", Location("images/exporter.tar")
                ),
            ),
            seconds=2.5,
        ),
        StepResult(Step.VULNERABILITIES, StepStatus.PASSED, "0 vulnerabilities at or above high", seconds=1.5),
    )
    return _result(steps, Verdict.PASSED, ExitCode.PASSED)


VULN = Finding(
    "PG-VUL-001",
    Severity.ERROR,
    Step.VULNERABILITIES,
    "GHSA-aaaa-bbbb-cccc (High) in requests 2.19.0; fixed in 2.20.0",
    Location("app/requirements.txt"),
    {
        "vulnerability": "GHSA-aaaa-bbbb-cccc",
        "aliases": ["CVE-2018-18074"],
        "package": "requests",
        "version": "2.19.0",
        "purl": "pkg:pypi/requests@2.19.0",
        "fixState": "fixed",
        "fixedVersions": ["2.20.0"],
        "vulnerabilitySeverity": "High",
        "description": "Requests sends credentials on redirect",
        "urls": ["https://github.com/advisories/GHSA-aaaa-bbbb-cccc", "javascript:alert(1)"],
    },
)
# The snake_case spelling of grype.Match's fields, no fix, an unknown severity word.
VULN_SNAKE = Finding(
    "PG-VUL-003",
    Severity.WARNING,
    Step.VULNERABILITIES,
    "CVE-2024-0001 (Critical) in libfoo 1.0; no fix",
    None,
    {
        "vulnerability_id": "CVE-2024-0001",
        "package_name": "libfoo",
        "package_version": "1.0",
        "fix_versions": [],
        "vulnerability_severity": "Critical",
        "locations": ["images/exporter.tar"],
    },
)
# Vulnerability findings that are not a match: a stale database, an expired exception, a VEX statement.
STALE = Finding("PG-VUL-020", Severity.WARNING, Step.VULNERABILITIES, "database is 9 days old; expected at most 5")
EXPIRED = Finding(
    "PG-VUL-011",
    Severity.WARNING,
    Step.VULNERABILITIES,
    "the exception for GHSA-xxxx in pkg:pypi/requests expired on 2026-01-01",
    Location("policy.yaml", 40),
    {"vulnerability": "GHSA-xxxx-yyyy-zzzz", "package": "pkg:pypi/requests", "expires": "2026-01-01"},
)
VEX = Finding(
    "PG-VUL-012",
    Severity.NOTE,
    Step.VULNERABILITIES,
    "CVE-2024-0002 in libbar 2.0: not_affected per vex.json",
    None,
    {"vulnerability": "CVE-2024-0002", "package": "libbar", "version": "2.0"},
)


def denied(kind: str = "tar.gz") -> GateResult:
    """Violations in several steps, two vulnerabilities, a rule nobody registered, hostile text."""
    steps = (
        StepResult(Step.BUNDLE, StepStatus.PASSED, "ok", seconds=0.01),
        StepResult(
            Step.SIGNATURE,
            StepStatus.FAILED,
            "no signature",
            findings=(Finding("PG-SIG-001", Severity.ERROR, Step.SIGNATURE, "bundle.tgz has no signature"),),
        ),
        StepResult(
            Step.CAPABILITIES,
            StepStatus.FAILED,
            "2 violations",
            findings=(
                Finding(
                    "PG-CAP-010",
                    Severity.ERROR,
                    Step.CAPABILITIES,
                    "egress to 169.254.169.254 is forbidden; expected a public host",
                    Location("plugin.yaml", 12),
                ),
                Finding(
                    "PG-CAP-010",
                    Severity.ERROR,
                    Step.CAPABILITIES,
                    "egress to 10.0.0.1 is forbidden; expected a public host",
                    Location("plugin.yaml", 14),
                ),
                Finding("PG-CAP-999", Severity.WARNING, Step.CAPABILITIES, HOSTILE, Location("../../etc/passwd", 3)),
            ),
            seconds=0.05,
        ),
        StepResult(Step.SBOM, StepStatus.PASSED, "3 packages", seconds=1.0),
        StepResult(
            Step.VULNERABILITIES,
            StepStatus.FAILED,
            "1 vulnerability at or above high",
            findings=(VULN, VULN_SNAKE, STALE, EXPIRED, VEX, VULN),
            seconds=2.0,
        ),
    )
    return _result(steps, Verdict.DENIED, ExitCode.DENIED, kind)


def undecided() -> GateResult:
    """The scan could not run: fail closed."""
    steps = (
        StepResult(Step.BUNDLE, StepStatus.PASSED, "ok"),
        StepResult(Step.SBOM, StepStatus.PASSED, "3 packages"),
        StepResult(Step.VULNERABILITIES, StepStatus.ERROR, "grype failed: database missing"),
    )
    return replace(
        _result(steps, Verdict.UNDECIDED, ExitCode.UNDECIDED), error="grype failed: database missing (exit 1)"
    )
