"""GitLab's report artifacts: dependency scanning (security schema 15.2.1) and code quality.

``gl-dependency-scanning-report.json`` lists the vulnerabilities grype matched (the ``PG-VUL-*``
findings that name a vulnerability), so they appear in GitLab's security widget and vulnerability
report. ``gl-code-quality-report.json`` lists every finding, so merge requests show the policy
violations inline.

The vulnerability step describes each match in the finding's ``properties``; this module reads
them defensively (any missing key falls back to something valid) under these names (the snake_case
spellings of ``plugingate.vulnerabilities.grype.Match``'s fields are accepted too):

==================  ==========================================================================
``vulnerability``   the vulnerability id (``GHSA-…``, ``CVE-…``); without it the finding is not a
                    dependency-scanning vulnerability (for example a stale database)
``aliases``         other ids of the same vulnerability (list of str)
``package``         the package name; ``version`` its version; ``purl`` its package URL
``fixedVersions``   versions that fix it (list of str, may be empty)
``vulnerabilitySeverity``  the advisory's severity as grype reports it (Critical … Negligible, Unknown)
``packagePath``     where in the bundle the package was found (a lock file, an image archive);
                    else the first of ``locations``
``description``     the advisory's summary; ``urls`` links about it (list of str)
==================  ==========================================================================

A finding enters the report when it names a vulnerability and a package version (a match), except
when a VEX statement suppressed it (PG-VUL-012: the supplier states this artifact is not affected).
Matches accepted by a policy exception (PG-VUL-010) stay in: the risk was accepted, not removed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, timedelta
from pathlib import Path

from plugingate.files import write_atomic
from plugingate.findings import Finding, Location, Severity, Step
from plugingate.report.paths import finding_repo_path
from plugingate.result import GateResult, StepStatus, Verdict

DEPENDENCY_SCANNING_SCHEMA_VERSION = "15.2.1"
SCHEMA_URL = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.2.1/dist/"
    "dependency-scanning-report-format.json"
)
# NOTE: the UUID namespace 6f1c1a5e-8d0b-4a53-9a7c-2f3c1b7d9e10 of the vulnerabilities' stable ids.
_NAMESPACE = bytes.fromhex("6f1c1a5e8d0b4a539a7c2f3c1b7d9e10")
_GL_SEVERITY = {
    "critical": "Critical",
    "high": "High",
    "medium": "Medium",
    "moderate": "Medium",
    "low": "Low",
    "negligible": "Info",
    "info": "Info",
}
# NOTE: PG-VUL-012 is a VEX not_affected/fixed statement: not a vulnerability of this artifact.
_NOT_VULNERABLE = frozenset({"PG-VUL-012"})
_CQ_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.NOTE: "info"}
_MAX_NAME = 255
_MAX_DESCRIPTION = 1_048_576
_MAX_SOLUTION = 7000


def uuid5(name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` (RFC 4122), without importing uuid, which imports platform."""
    digest = bytearray(hashlib.sha1(_NAMESPACE + name.encode("utf-8"), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _text(props: Mapping[str, object], *names: str) -> str:
    for name in names:
        value = props.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _texts(props: Mapping[str, object], *names: str) -> list[str]:
    for name in names:
        value = props.get(name)
        if isinstance(value, str) and value.strip():
            return [value.strip()]
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _identifier(vuln_id: str) -> dict[str, str]:
    upper = vuln_id.upper()
    if upper.startswith("CVE-"):
        return {"type": "cve", "name": upper, "value": upper, "url": f"https://nvd.nist.gov/vuln/detail/{upper}"}
    if upper.startswith("GHSA-"):
        return {"type": "ghsa", "name": vuln_id, "value": vuln_id, "url": f"https://github.com/advisories/{vuln_id}"}
    return {"type": "grype", "name": vuln_id, "value": vuln_id}


def _gitlab_time(result: GateResult, offset: float = 0.0) -> str:
    moment = result.evaluated_at + timedelta(seconds=offset)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _vulnerability(result: GateResult, finding: Finding) -> dict[str, object] | None:
    props = finding.properties
    vuln_id = _text(props, "vulnerability", "vulnerabilityId", "vulnerability_id", "id")
    version = _text(props, "version", "packageVersion", "package_version")
    if not vuln_id or not version or finding.rule_id in _NOT_VULNERABLE:
        return None
    package = _text(props, "package", "packageName", "package_name", "name") or "unknown"
    purl = _text(props, "purl")
    location = finding.location
    package_path = _text(props, "packagePath", "package_path", "path") or next(iter(_texts(props, "locations")), "")
    if package_path:
        location = Location(package_path)
    file, _ = finding_repo_path(result, location)
    fixes = _texts(props, "fixedVersions", "fixVersions", "fix_versions", "fixedIn")
    severity = _GL_SEVERITY.get(
        _text(props, "vulnSeverity", "vulnerabilitySeverity", "vulnerability_severity", "severity").lower(), "Unknown"
    )
    identifiers = [_identifier(vuln_id)]
    identifiers += [_identifier(a) for a in _texts(props, "aliases") if a != vuln_id][:9]
    description = _text(props, "description") or finding.message
    links = [{"url": u} for u in _texts(props, "urls") if u.startswith(("https://", "http://"))][:20]
    # NOTE: the id is stable across runs for the same match, so GitLab tracks one vulnerability, not many.
    stable = uuid5("\x00".join((vuln_id, purl or f"{package}@{version}", file)))
    out: dict[str, object] = {
        "id": stable,
        "name": f"{vuln_id} in {package}"[:_MAX_NAME],
        "description": description[:_MAX_DESCRIPTION],
        "severity": severity,
        "solution": (
            f"Upgrade {package} to {' or '.join(fixes)}." if fixes else f"No fixed version of {package} is known yet."
        )[:_MAX_SOLUTION],
        "identifiers": identifiers,
        "location": {"file": file, "dependency": {"package": {"name": package}, "version": version}},
    }
    if links:
        out["links"] = links
    if purl:
        out["details"] = {"purl": {"type": "text", "name": "Package URL", "value": purl}}
    return out


def render_dependency_scanning(result: GateResult) -> dict[str, object]:
    """``gl-dependency-scanning-report.json`` as a JSON-able dict."""
    vulns: list[dict[str, object]] = []
    seen: set[str] = set()
    for finding in result.findings:
        if finding.step is not Step.VULNERABILITIES:
            continue
        vuln = _vulnerability(result, finding)
        if vuln is not None and vuln["id"] not in seen:
            seen.add(str(vuln["id"]))
            vulns.append(vuln)
    step = result.step(Step.VULNERABILITIES)
    failed = result.verdict is Verdict.UNDECIDED or step is None or step.status is StepStatus.ERROR
    messages: list[dict[str, str]] = []
    if step is None:
        messages.append({"level": "fatal", "value": "the vulnerability scan did not run"})
    elif step.status is StepStatus.ERROR:
        messages.append({"level": "fatal", "value": step.summary or "the vulnerability scan failed"})
    elif step.summary:
        messages.append({"level": "info", "value": step.summary})
    grype = result.tools.get("grype", "") or "unknown"
    duration = sum(s.seconds for s in result.steps)
    return {
        "version": DEPENDENCY_SCANNING_SCHEMA_VERSION,
        "schema": SCHEMA_URL,
        "scan": {
            "analyzer": {
                "id": "plugingate",
                "name": "plugingate",
                "version": result.plugingate_version or "unknown",
                "vendor": {"name": "plugingate"},
            },
            "scanner": {
                "id": "grype",
                "name": "Grype",
                "url": "https://github.com/anchore/grype",
                "version": grype.removeprefix("v") or "unknown",
                "vendor": {"name": "Anchore"},
            },
            "type": "dependency_scanning",
            "start_time": _gitlab_time(result, -duration),
            "end_time": _gitlab_time(result),
            "status": "failure" if failed else "success",
            "messages": messages,
        },
        "vulnerabilities": vulns,
        "remediations": [],
    }


def render_code_quality(result: GateResult) -> list[dict[str, object]]:
    """``gl-code-quality-report.json``: every finding as a Code Climate issue."""
    issues: list[dict[str, object]] = []
    seen: set[str] = set()
    for finding in result.findings:
        path, has_line = finding_repo_path(result, finding.location)
        line = finding.location.line if has_line and finding.location and finding.location.line else 1
        where = "" if has_line or finding.location is None else f"{finding.location}: "
        key = "\x00".join((finding.rule_id, path, str(finding.location or ""), finding.message))
        fingerprint = hashlib.sha256(key.encode("utf-8")).hexdigest()
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        issues.append(
            {
                "type": "issue",
                "check_name": finding.rule_id,
                "description": f"{finding.rule_id}: {where}{finding.message}",
                "categories": ["Security"],
                "severity": _CQ_SEVERITY[finding.severity],
                "fingerprint": fingerprint,
                "location": {"path": path, "lines": {"begin": line}},
                "engine_name": "plugingate",
            }
        )
    return issues


def write_dependency_scanning(result: GateResult, path: Path) -> None:
    """Write ``gl-dependency-scanning-report.json`` atomically."""
    write_atomic(path, json.dumps(render_dependency_scanning(result), indent=2, ensure_ascii=False) + "\n")


def write_code_quality(result: GateResult, path: Path) -> None:
    """Write ``gl-code-quality-report.json`` atomically."""
    write_atomic(path, json.dumps(render_code_quality(result), indent=2, ensure_ascii=False) + "\n")
