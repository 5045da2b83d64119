"""GitLab reports: dependency scanning against GitLab's schema 15.2.1; code quality's documented shape."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import pytest

from plugingate.report.gitlab import (
    render_code_quality,
    render_dependency_scanning,
    write_code_quality,
    write_dependency_scanning,
)
from plugingate.result import GateResult

from .sample import SCHEMAS, denied, passed, undecided


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "gitlab-dependency-scanning-report-format.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("make", [passed, denied, undecided, lambda: denied("directory")])
def test_dependency_scanning_validates(make: object, tmp_path: Path, validator: jsonschema.protocols.Validator) -> None:
    result: GateResult = make()  # type: ignore[operator]
    path = tmp_path / "gl-dependency-scanning-report.json"
    write_dependency_scanning(result, path)
    report = json.loads(path.read_text("utf-8"))
    errors = sorted(validator.iter_errors(report), key=str)
    assert not errors, errors[0]
    assert report["version"] == "15.2.1"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_vulnerabilities_from_findings() -> None:
    report = render_dependency_scanning(denied())
    vulns = report["vulnerabilities"]
    assert isinstance(vulns, list)
    # two matches: the duplicate collapses; a stale database, an expired exception and a VEX statement are not
    assert len(vulns) == 2
    requests, libfoo = vulns
    assert requests["identifiers"][0] == {
        "type": "ghsa",
        "name": "GHSA-aaaa-bbbb-cccc",
        "value": "GHSA-aaaa-bbbb-cccc",
        "url": "https://github.com/advisories/GHSA-aaaa-bbbb-cccc",
    }
    assert requests["identifiers"][1]["type"] == "cve"
    assert requests["severity"] == "High"
    assert requests["solution"] == "Upgrade requests to 2.20.0."
    assert requests["location"] == {
        "file": "examples/acme-exporter.tgz",
        "dependency": {"package": {"name": "requests"}, "version": "2.19.0"},
    }
    assert requests["links"] == [{"url": "https://github.com/advisories/GHSA-aaaa-bbbb-cccc"}]
    uuid.UUID(requests["id"])
    # snake_case properties, no fix
    assert libfoo["severity"] == "Critical"
    assert libfoo["location"]["dependency"] == {"package": {"name": "libfoo"}, "version": "1.0"}
    assert "No fixed version" in libfoo["solution"]
    # stable ids across runs
    assert [v["id"] for v in render_dependency_scanning(denied())["vulnerabilities"]] == [  # type: ignore[union-attr]
        requests["id"],
        libfoo["id"],
    ]


def test_directory_bundle_points_at_the_lock_file() -> None:
    vulns = render_dependency_scanning(denied("directory"))["vulnerabilities"]
    assert vulns[0]["location"]["file"] == "examples/acme-exporter/app/requirements.txt"  # type: ignore[index]
    assert vulns[1]["location"]["file"] == "examples/acme-exporter/images/exporter.tar"  # type: ignore[index]


def test_scan_status() -> None:
    assert render_dependency_scanning(passed())["scan"]["status"] == "success"  # type: ignore[index]
    scan = render_dependency_scanning(undecided())["scan"]
    assert scan["status"] == "failure"  # type: ignore[index]
    assert scan["messages"][0]["level"] == "fatal"  # type: ignore[index]
    assert scan["end_time"] == "2026-11-29T21:30:05"  # type: ignore[index]
    assert scan["scanner"]["version"] == "0.121.2"  # type: ignore[index]


def test_code_quality(tmp_path: Path) -> None:
    path = tmp_path / "gl-code-quality-report.json"
    write_code_quality(denied("directory"), path)
    issues = json.loads(path.read_text("utf-8"))
    assert isinstance(issues, list)
    for issue in issues:
        # GitLab's documented required fields
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(issue["location"]["path"], str) and issue["location"]["path"]
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints), "duplicates are collapsed, so fingerprints are unique"
    egress = next(i for i in issues if "169.254" in i["description"])
    assert egress["location"] == {"path": "examples/acme-exporter/plugin.yaml", "lines": {"begin": 12}}
    assert egress["severity"] == "critical"
    assert egress["check_name"] == "PG-CAP-010"


def test_code_quality_archive_names_the_member() -> None:
    issues = render_code_quality(denied())
    egress = next(i for i in issues if "169.254" in i["description"])
    assert egress["location"] == {"path": "examples/acme-exporter.tgz", "lines": {"begin": 1}}
    assert egress["description"].startswith("PG-CAP-010: plugin.yaml:12: ")
    assert render_code_quality(passed())[0]["severity"] == "info"
