"""The policy applied to matches, without grype: thresholds, onlyFixed, exceptions, VEX, purls.

The real twin of these cases is test_scan_integration.py (same rules, real grype output).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from plugingate.errors import InputError, ToolError
from plugingate.findings import Severity
from plugingate.policy.model import VulnSeverity
from plugingate.vulnerabilities.evaluate import Disposition, evaluate
from plugingate.vulnerabilities.grype import Match, parse_grype_json
from plugingate.vulnerabilities.purl import Purl
from plugingate.vulnerabilities.vex import load_vex

from .conftest import exception, policy

NOW = datetime(2027, 3, 1, tzinfo=UTC)


def match(vid: str = "GHSA-aaaa-bbbb-cccc", severity: str = "high", **kw: Any) -> Match:
    fields: dict[str, Any] = {
        "id": vid,
        "severity": severity,
        "aliases": ("CVE-2027-0001",),
        "namespace": "github:language:python",
        "description": "",
        "package_name": "Flask_Cors",
        "package_version": "3.0.0",
        "package_type": "python",
        "purl": "pkg:pypi/flask-cors@3.0.0",
        "locations": ("/requirements.txt",),
        "fix_state": "fixed",
        "fix_versions": ("3.0.9",),
    }
    fields.update(kw)
    return Match(**fields)


@pytest.mark.parametrize(
    ("severity", "fail_on", "rule", "denies"),
    [
        ("critical", VulnSeverity.HIGH, "PG-VUL-001", True),
        ("high", VulnSeverity.HIGH, "PG-VUL-001", True),
        ("medium", VulnSeverity.HIGH, "PG-VUL-002", False),
        ("medium", VulnSeverity.MEDIUM, "PG-VUL-001", True),
        ("negligible", VulnSeverity.NEGLIGIBLE, "PG-VUL-001", True),
        ("unknown", VulnSeverity.NEGLIGIBLE, "PG-VUL-004", False),
    ],
)
def test_threshold(severity: str, fail_on: VulnSeverity, rule: str, denies: bool) -> None:
    result = evaluate([match(severity=severity)], policy(fail_on=fail_on), [], now=NOW)
    assert [f.rule_id for f in result.findings] == [rule]
    assert result.findings[0].denies is denies
    assert result.findings[0].location is not None and result.findings[0].location.path == "requirements.txt"


def test_only_fixed_lets_an_unfixed_one_through_with_a_warning() -> None:
    unfixed = match(fix_state="not-fixed", fix_versions=())
    result = evaluate([unfixed, match(vid="GHSA-2")], policy(only_fixed=True), [], now=NOW)
    assert [(f.rule_id, f.severity) for f in result.findings] == [
        ("PG-VUL-003", Severity.WARNING),
        ("PG-VUL-001", Severity.ERROR),
    ]
    assert result.matches[0].disposition is Disposition.NOT_FIXED


def test_exception_matches_by_alias_and_normalized_name_and_expires_inclusively() -> None:
    exc = exception("cve-2027-0001", "pkg:pypi/Flask.CORS", date(2027, 3, 1))
    on_day = evaluate([match()], policy(exceptions=(exc,)), [], now=NOW)
    assert on_day.exceptions_applied == (exc,) and not any(f.denies for f in on_day.findings)
    after = evaluate([match()], policy(exceptions=(exc,)), [], now=datetime(2027, 3, 2, tzinfo=UTC))
    assert after.exceptions_applied == () and after.expired_exceptions == (exc,)
    assert {f.rule_id for f in after.findings} == {"PG-VUL-001", "PG-VUL-011"}


def test_exception_for_another_package_or_id_does_not_apply() -> None:
    for exc in (
        exception("GHSA-aaaa-bbbb-cccc", "pkg:pypi/flask", date(2030, 1, 1)),
        exception("GHSA-zzzz-zzzz-zzzz", "pkg:pypi/flask-cors", date(2030, 1, 1)),
        exception("GHSA-aaaa-bbbb-cccc", "pkg:npm/flask-cors", date(2030, 1, 1)),
        exception("GHSA-aaaa-bbbb-cccc", "pkg:pypi/flask-cors@3.0.1", date(2030, 1, 1)),
    ):
        result = evaluate([match()], policy(exceptions=(exc,)), [], now=NOW)
        assert result.exceptions_applied == (), exc


def test_purls() -> None:
    assert Purl.parse("pkg:golang/golang.org/x/text@v0.3.7").key() == ("golang", "golang.org/x", "text")
    assert Purl.parse("pkg:golang/golang.org/x/text").covers(Purl.parse("pkg:golang/golang.org/x/text@v0.3.7"))
    assert Purl.parse("pkg:golang/golang.org/x/text@0.3.7").covers(Purl.parse("pkg:golang/golang.org/x/text@v0.3.7"))
    assert Purl.parse("pkg:npm/%40scope/pkg@1.0.0?x=1#sub").key() == ("npm", "@scope", "pkg")
    for bad in ("npm/lodash", "pkg:npm", "pkg:"):
        with pytest.raises(ValueError, match="package URL"):
            Purl.parse(bad)


def _vex(tmp_path: Path, statements: list[dict[str, Any]], name: str = "v.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"@context": "https://openvex.dev/ns/v0.2.0", "statements": statements}))
    return path


def test_vex_later_statement_overrides_and_subcomponents_count(tmp_path: Path) -> None:
    doc = _vex(
        tmp_path,
        [
            {
                "vulnerability": {"name": "GHSA-aaaa-bbbb-cccc"},
                "products": [{"@id": "pkg:oci/plugin", "subcomponents": [{"@id": "pkg:pypi/flask-cors"}]}],
                "status": "not_affected",
                "justification": "component_not_present",
            }
        ],
    )
    statements = load_vex([doc])
    assert evaluate([match()], policy(), statements, now=NOW).matches[0].disposition is Disposition.VEX
    later = _vex(
        tmp_path,
        [{"vulnerability": "GHSA-aaaa-bbbb-cccc", "products": ["pkg:pypi/flask-cors@3.0.0"], "status": "affected"}],
        "later.json",
    )
    result = evaluate([match()], policy(), load_vex([doc, later]), now=NOW)
    assert result.matches[0].disposition is Disposition.DENY


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not JSON"),
        ('{"statements": []}', "is not an OpenVEX document"),
        ('{"@context": "https://openvex.dev/ns/v0.2.0"}', "has no statements list"),
        (
            '{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"status": "fixed"}]}',
            "names no vulnerability",
        ),
        (
            '{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": "X", "status": "gone"}]}',
            "unknown status",
        ),
    ],
)
def test_bad_vex_is_an_input_error_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.openvex.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as caught:
        load_vex([path])
    assert str(path) in caught.value.message and caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "document is list"),
        ('{"matches": {}}', "no matches list"),
        ('{"matches": [{"vulnerability": {"id": 1}, "artifact": {}}]}', "matches[0].vulnerability.id"),
        ('{"matches": [{"vulnerability": {"id": "X"}, "artifact": {"name": "a"}}]}', "matches[0].artifact.version"),
        ("{", "Expecting"),
    ],
)
def test_unexpected_grype_output_fails_closed(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "grype.json"
    path.write_text(content)
    with pytest.raises(ToolError, match="not what plugingate expects") as caught:
        parse_grype_json(path)
    assert message in caught.value.message and caught.value.exit_code == 3


def test_grype_matches_of_one_package_in_two_places_are_merged(tmp_path: Path) -> None:
    one = {
        "vulnerability": {"id": "GHSA-1", "severity": "High", "fix": {"state": "fixed", "versions": ["2"]}},
        "relatedVulnerabilities": [{"id": "CVE-1"}],
        "artifact": {"name": "a", "version": "1", "type": "npm", "purl": "pkg:npm/a@1", "locations": [{"path": "/x"}]},
    }
    two = json.loads(json.dumps(one))
    two["artifact"]["locations"] = [{"path": "/y"}]
    path = tmp_path / "grype.json"
    path.write_text(json.dumps({"matches": [one, two]}))
    [merged] = parse_grype_json(path)
    assert merged.locations == ("/x", "/y") and merged.severity == "high" and merged.aliases == ("CVE-1",)
