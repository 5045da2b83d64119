"""``junit.xml``: the gate as a test report, one test case per check, for CI test tabs (GitLab, Jenkins).

A test suite per step that ran; in it a test case per rule of that step (a *check*): it fails when
the rule found an ``error``, passes otherwise (warnings and notes go to ``system-out``), and is
skipped when the step was skipped. A step that could not complete adds a test case with an
``<error>``. Findings of a rule that is not registered still get their own test case, so nothing
found is ever dropped from the report.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from plugingate.files import write_atomic
from plugingate.findings import Finding, Rule, Severity, Step
from plugingate.result import GateResult, StepResult, StepStatus, rfc3339
from plugingate.rules import all_rules

_MAX_TEXT = 64 * 1024


# NOTE: messages quote hostile bundle content; XML 1.0 cannot carry most control characters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)[:_MAX_TEXT]


def _line(finding: Finding) -> str:
    where = f" [{finding.location}]" if finding.location else ""
    return f"{finding.severity}: {finding.rule_id}{where}: {finding.message}"


def _case(
    suite: ET.Element, step: StepResult, rule_id: str, title: str, findings: list[Finding], seconds: float
) -> tuple[int, int, int]:
    """Add one test case; returns (failures, errors, skipped) it adds."""
    case = ET.SubElement(
        suite,
        "testcase",
        {"name": _clean(f"{rule_id}: {title}"), "classname": f"plugingate.{step.step}", "time": f"{seconds:.3f}"},
    )
    errors = [f for f in findings if f.severity is Severity.ERROR]
    others = [f for f in findings if f.severity is not Severity.ERROR]
    if errors:
        failure = ET.SubElement(
            case,
            "failure",
            {
                "message": _clean(errors[0].message if len(errors) == 1 else f"{len(errors)} violations of {rule_id}"),
                "type": rule_id,
            },
        )
        failure.text = _clean("\n".join(_line(f) for f in errors))
    elif step.status is StepStatus.SKIPPED and not findings:
        ET.SubElement(case, "skipped", {"message": _clean(f"step {step.step} was skipped: {step.summary}")})
        return 0, 0, 1
    if others:
        ET.SubElement(case, "system-out").text = _clean("\n".join(_line(f) for f in others))
    return (1 if errors else 0), 0, 0


def _suite(parent: ET.Element, step: StepResult, rules: list[Rule], timestamp: str) -> tuple[int, int, int, int]:
    suite = ET.SubElement(
        parent,
        "testsuite",
        {"name": f"plugingate.{step.step}", "timestamp": timestamp, "time": f"{step.seconds:.3f}"},
    )
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in step.findings:
        by_rule[finding.rule_id].append(finding)
    titles = {r.id: r.title for r in rules}
    for finding in step.findings:
        titles.setdefault(finding.rule_id, finding.rule_id)
    tests = failures = errors = skipped = 0
    share = step.seconds / max(len(titles), 1)
    for rule_id, title in titles.items():
        f, e, s = _case(suite, step, rule_id, title, by_rule.get(rule_id, []), share)
        tests, failures, errors, skipped = tests + 1, failures + f, errors + e, skipped + s
    if step.status is StepStatus.ERROR:
        case = ET.SubElement(
            suite,
            "testcase",
            {"name": f"{step.step}: step completed", "classname": f"plugingate.{step.step}", "time": "0.000"},
        )
        ET.SubElement(case, "error", {"message": _clean(step.summary), "type": "could-not-decide"}).text = _clean(
            step.summary
        )
        tests, errors = tests + 1, errors + 1
    if tests == 0:
        # NOTE: a step without rules still shows up, as one passing (or skipped) case with its summary.
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "name": f"{step.step}: {_clean(step.summary)}",
                "classname": f"plugingate.{step.step}",
                "time": f"{step.seconds:.3f}",
            },
        )
        if step.status is StepStatus.SKIPPED:
            ET.SubElement(case, "skipped", {"message": _clean(step.summary)})
            skipped += 1
        tests = 1
    for name, value in (("tests", tests), ("failures", failures), ("errors", errors), ("skipped", skipped)):
        suite.set(name, str(value))
    return tests, failures, errors, skipped


def render_junit(result: GateResult) -> bytes:
    """The JUnit XML document (UTF-8, with declaration)."""
    rules_by_step: dict[Step, list[Rule]] = defaultdict(list)
    for rule in sorted(all_rules().values(), key=lambda r: r.id):
        rules_by_step[rule.step].append(rule)
    root = ET.Element("testsuites", {"name": _clean(f"plugingate gate {result.bundle.name}")})
    timestamp = rfc3339(result.evaluated_at).removesuffix("Z")
    totals = [0, 0, 0, 0]
    for step in result.steps:
        counts = _suite(root, step, rules_by_step.get(step.step, []), timestamp)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    if result.error and not any(s.status is StepStatus.ERROR for s in result.steps):
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": "plugingate.gate",
                "tests": "1",
                "failures": "0",
                "errors": "1",
                "skipped": "0",
                "timestamp": timestamp,
                "time": "0.000",
            },
        )
        case = ET.SubElement(
            suite, "testcase", {"name": "gate: decided", "classname": "plugingate.gate", "time": "0.000"}
        )
        ET.SubElement(case, "error", {"message": _clean(result.error), "type": "could-not-decide"}).text = _clean(
            result.error
        )
        totals[0] += 1
        totals[2] += 1
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    root.set("time", f"{sum(s.seconds for s in result.steps):.3f}")
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def write_junit(result: GateResult, path: Path) -> None:
    """Write ``junit.xml`` atomically."""
    write_atomic(path, render_junit(result))
