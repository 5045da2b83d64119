"""``results.sarif``: SARIF 2.1.0 for code scanning (GitHub's upload-sarif, and any SARIF viewer).

One run, the tool ``plugingate`` with every known rule (id, title, help) so that a viewer explains a
finding without the docs; one result per finding, located in the repository the pipeline runs in
(see ``plugingate.report.paths``). Results carry a ``partialFingerprints`` entry of their own so that
code scanning does not try to fingerprint lines of files that are inside an archive.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from plugingate.files import write_atomic
from plugingate.findings import Finding, Rule, Severity
from plugingate.report.paths import bundle_repo_path, finding_repo_path
from plugingate.result import GateResult, Verdict, rfc3339
from plugingate.rules import all_rules

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://plugingate.dev"
FINGERPRINT_KEY = "plugingate/v1"


def _rule_descriptor(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": rule.id.replace("-", ""),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.help or rule.title},
        "help": {"text": rule.help or rule.title, "markdown": f"**{rule.title}**\n\n{rule.help}"},
        "defaultConfiguration": {"level": str(rule.severity)},
        "properties": {"tags": ["security", "supply-chain", str(rule.step)], "step": str(rule.step)},
    }


def _unknown_descriptor(finding: Finding) -> dict[str, object]:
    # NOTE: a finding whose rule is not registered still needs a descriptor, or ruleIndex dangles.
    return {
        "id": finding.rule_id,
        "shortDescription": {"text": finding.rule_id},
        "defaultConfiguration": {"level": str(finding.severity)},
        "properties": {"tags": ["security", "supply-chain", str(finding.step)], "step": str(finding.step)},
    }


def _fingerprint(finding: Finding, path: str) -> str:
    where = f"{finding.location}" if finding.location else ""
    text = "\x00".join((finding.rule_id, path, where, finding.message))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _jsonable(value: object) -> object:
    return json.loads(json.dumps(value, default=str))


def _result(result: GateResult, finding: Finding, index: int) -> dict[str, object]:
    path, has_line = finding_repo_path(result, finding.location)
    physical: dict[str, object] = {"artifactLocation": {"uri": path, "uriBaseId": "SRCROOT"}}
    if has_line and finding.location is not None and finding.location.line:
        physical["region"] = {"startLine": finding.location.line}
    location: dict[str, object] = {"physicalLocation": physical}
    if finding.location is not None and not has_line:
        # NOTE: a file inside an archive bundle: the archive is the physical location, the member the logical one.
        location["logicalLocations"] = [{"fullyQualifiedName": str(finding.location), "kind": "member"}]
    message = finding.message if has_line or finding.location is None else f"{finding.location}: {finding.message}"
    properties: dict[str, object] = {"step": str(finding.step)}
    if finding.properties:
        properties["details"] = _jsonable(dict(finding.properties))
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "level": str(finding.severity),
        "kind": "fail" if finding.severity is not Severity.NOTE else "informational",
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(finding, path)},
        "properties": properties,
    }


def render_sarif(result: GateResult) -> dict[str, object]:
    """The SARIF log as a JSON-able dict."""
    known = all_rules()
    descriptors: list[dict[str, object]] = [_rule_descriptor(rule) for _, rule in sorted(known.items())]
    index = {rule_id: i for i, (rule_id, _) in enumerate(sorted(known.items()))}
    for finding in result.findings:
        if finding.rule_id not in index:
            index[finding.rule_id] = len(descriptors)
            descriptors.append(_unknown_descriptor(finding))
    bundle = bundle_repo_path(result)
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "plugingate",
                "semanticVersion": result.plugingate_version,
                "version": result.plugingate_version,
                "informationUri": INFORMATION_URI,
                "rules": descriptors,
            }
        },
        "automationDetails": {"id": f"plugingate/{result.bundle.name}/"},
        "originalUriBaseIds": {
            "SRCROOT": {"description": {"text": "The root of the repository the gate ran in."}},
        },
        "invocations": [
            {
                "executionSuccessful": result.verdict is not Verdict.UNDECIDED,
                "exitCode": int(result.exit_code),
                "endTimeUtc": rfc3339(result.evaluated_at),
                **(
                    {"toolExecutionNotifications": [{"level": "error", "message": {"text": result.error}}]}
                    if result.error
                    else {}
                ),
            }
        ],
        "results": [_result(result, f, index[f.rule_id]) for f in result.findings],
        "properties": {
            "verdict": str(result.verdict),
            "mode": result.policy.mode,
            "bundle": {"path": bundle, "sha256": result.bundle.sha256},
            "policy": {"name": result.policy.name, "sha256": result.policy.sha256},
            "tools": dict(result.tools),
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def write_sarif(result: GateResult, path: Path) -> None:
    """Write ``results.sarif`` atomically."""
    write_atomic(path, json.dumps(render_sarif(result), indent=2, ensure_ascii=False) + "\n")
