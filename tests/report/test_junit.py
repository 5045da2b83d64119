"""junit.xml: one test case per check, failures for violations, the JUnit structure CI parsers expect.

No JUnit XSD is available offline, so the structure is asserted with ``xml.etree`` against the rules of
the common ``junit-10.xsd`` (Jenkins/Ant; what GitLab's parser reads): a ``testsuites`` root of
``testsuite`` elements with ``name`` and ``tests`` (and ``failures``/``errors``/``skipped`` counts that
match their cases), ``testcase`` with ``name`` and ``classname`` and a numeric ``time``, and at most
one of ``failure``/``error``/``skipped`` per case, each with a ``message``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from plugingate.findings import Step
from plugingate.report.junit import render_junit, write_junit
from plugingate.rules import all_rules

from .sample import denied, passed, undecided

_OUTCOMES = {"failure", "error", "skipped"}


def check_structure(root: ET.Element) -> None:
    """Assert the junit-10.xsd shape and that every count matches the cases."""
    assert root.tag == "testsuites"
    totals: Counter[str] = Counter()
    for suite in root:
        assert suite.tag == "testsuite"
        assert suite.get("name")
        cases = list(suite)
        assert all(c.tag == "testcase" for c in cases)
        counts: Counter[str] = Counter()
        for case in cases:
            assert case.get("name") and case.get("classname")
            float(case.get("time", "0"))
            outcomes = [child for child in case if child.tag in _OUTCOMES]
            assert len(outcomes) <= 1, ET.tostring(case)
            for child in outcomes:
                assert child.get("message") is not None
                counts["failures" if child.tag == "failure" else child.tag + ("s" if child.tag == "error" else "")] += 1
            assert {child.tag for child in case} <= _OUTCOMES | {"system-out", "system-err"}
        assert int(suite.get("tests", "-1")) == len(cases)
        for name in ("failures", "errors", "skipped"):
            assert int(suite.get(name, "0")) == counts[name], (suite.get("name"), name)
        totals.update({"tests": len(cases), **counts})
    assert int(root.get("tests", "-1")) == totals["tests"]
    assert int(root.get("failures", "-1")) == totals["failures"]
    assert int(root.get("errors", "-1")) == totals["errors"]


def _parse(data: bytes) -> ET.Element:
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(data)


@pytest.mark.parametrize("make", [passed, denied, undecided])
def test_structure(make: object, tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit(make(), path)  # type: ignore[operator]
    check_structure(_parse(path.read_bytes()))
    assert [p.name for p in tmp_path.iterdir()] == ["junit.xml"]


def test_one_case_per_check_of_each_step_that_ran() -> None:
    root = _parse(render_junit(passed()))
    suites = {s.get("name"): s for s in root}
    assert list(suites) == [
        "plugingate.bundle",
        "plugingate.signature",
        "plugingate.provenance",
        "plugingate.capabilities",
        "plugingate.sbom",
        "plugingate.vulnerabilities",
    ]
    vul_rules = sorted(r.id for r in all_rules().values() if r.step is Step.VULNERABILITIES)
    vul_cases = [c.get("name", "").split(":")[0] for c in suites["plugingate.vulnerabilities"]]
    assert vul_cases == vul_rules
    assert root.get("failures") == "0"
    # a note lands in system-out of a passing case
    scanned = next(c for c in suites["plugingate.sbom"] if c.get("name", "").startswith("PG-SBOM-002"))
    assert "image exporter scanned" in (scanned.findtext("system-out") or "")
    # the skipped step's cases are skipped
    assert all(c.find("skipped") is not None for c in suites["plugingate.provenance"])


def test_violations_fail_their_check() -> None:
    root = _parse(render_junit(denied()))
    cases = {c.get("name", "").split(":")[0]: c for s in root for c in s}
    egress = cases["PG-CAP-010"].find("failure")
    assert egress is not None
    assert egress.get("message") == "2 violations of PG-CAP-010"
    assert "plugin.yaml:12" in (egress.text or "") and "plugin.yaml:14" in (egress.text or "")
    assert cases["PG-SIG-001"].find("failure") is not None
    assert cases["PG-VUL-001"].find("failure") is not None
    # a warning does not fail; an unregistered rule still gets its case
    assert cases["PG-VUL-003"].find("failure") is None
    assert cases["PG-CAP-999"].find("failure") is None
    assert root.get("failures") == "3"


def test_hostile_text_is_escaped_and_control_characters_dropped() -> None:
    data = render_junit(denied())
    root = _parse(data)
    out = next(c for s in root for c in s if c.get("name", "").startswith("PG-CAP-999")).findtext("system-out") or ""
    assert '<script>alert("x")</script>' in out  # text, not markup
    assert "\x1b" not in out and "\x00" not in out
    assert b"<script>" not in data


def test_undecided_reports_an_error() -> None:
    root = _parse(render_junit(undecided()))
    assert root.get("errors") == "1"
    error = next(c for s in root for c in s if c.find("error") is not None).find("error")
    assert error is not None and "database missing" in error.get("message", "")
