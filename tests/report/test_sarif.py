"""results.sarif: valid SARIF 2.1.0 (the OASIS schema), with rules, locations, help and fingerprints."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from plugingate.report.sarif import render_sarif, write_sarif
from plugingate.result import GateResult
from plugingate.rules import all_rules

from .sample import SCHEMAS, denied, passed, undecided


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("make", [passed, denied, undecided, lambda: denied("directory")])
def test_written_file_validates(make: object, tmp_path: Path, validator: jsonschema.protocols.Validator) -> None:
    result: GateResult = make()  # type: ignore[operator]
    path = tmp_path / "results.sarif"
    write_sarif(result, path)
    log = json.loads(path.read_text("utf-8"))
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, errors[0]
    assert log["version"] == "2.1.0"
    assert [p.name for p in tmp_path.iterdir()] == ["results.sarif"], "no temporary file left behind"


def test_rules_carry_title_and_help_and_results_point_at_them() -> None:
    log = render_sarif(denied())
    run = log["runs"][0]  # type: ignore[index]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert set(all_rules()) <= set(ids)
    cap = rules[ids.index("PG-CAP-010")]
    known = all_rules()["PG-CAP-010"]
    assert cap["shortDescription"]["text"] == known.title
    assert cap["help"]["text"] == known.help
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    # the unregistered rule still has a descriptor
    assert "PG-CAP-999" in ids
    assert run["invocations"][0]["exitCode"] == 1
    assert run["properties"]["verdict"] == "denied"


def test_locations_archive_vs_directory() -> None:
    archive = render_sarif(denied())["runs"][0]["results"]  # type: ignore[index]
    by_msg = {r["message"]["text"]: r for r in archive}
    egress = next(r for m, r in by_msg.items() if "169.254" in m)
    phys = egress["locations"][0]["physicalLocation"]
    # inside an archive: the archive is the file, the member is logical, the line is not claimed
    assert phys["artifactLocation"]["uri"] == "examples/acme-exporter.tgz"
    assert "region" not in phys
    assert egress["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "plugin.yaml:12"
    assert egress["message"]["text"].startswith("plugin.yaml:12: ")
    assert egress["level"] == "error"

    directory = render_sarif(denied("directory"))["runs"][0]["results"]  # type: ignore[index]
    egress = next(r for r in directory if "169.254" in r["message"]["text"])
    phys = egress["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"]["uri"] == "examples/acme-exporter/plugin.yaml"
    assert phys["region"] == {"startLine": 12}
    # a path that climbs out of the bundle is not followed
    hostile = next(r for r in directory if r["ruleId"] == "PG-CAP-999")
    assert hostile["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "examples/acme-exporter"


def test_fingerprints_are_stable_and_distinct() -> None:
    first = render_sarif(denied())["runs"][0]["results"]  # type: ignore[index]
    second = render_sarif(denied())["runs"][0]["results"]  # type: ignore[index]
    prints = [r["partialFingerprints"]["plugingate/v1"] for r in first]
    assert prints == [r["partialFingerprints"]["plugingate/v1"] for r in second]
    # two different egress violations of one rule differ; the duplicated vulnerability repeats
    assert len(set(prints)) == len(prints) - 1


def test_undecided_is_an_unsuccessful_execution() -> None:
    inv = render_sarif(undecided())["runs"][0]["invocations"][0]  # type: ignore[index]
    assert inv["executionSuccessful"] is False
    assert inv["exitCode"] == 3
    assert "database missing" in inv["toolExecutionNotifications"][0]["message"]["text"]


def test_vulnerability_properties_are_kept() -> None:
    results = render_sarif(denied())["runs"][0]["results"]  # type: ignore[index]
    vuln = next(r for r in results if r["ruleId"] == "PG-VUL-001")
    assert vuln["properties"]["details"]["purl"] == "pkg:pypi/requests@2.19.0"
    assert vuln["properties"]["step"] == "vulnerabilities"


def test_bundle_outside_the_working_directory_is_named_by_its_own_name(tmp_path: Path) -> None:
    from dataclasses import replace

    from plugingate.report.paths import bundle_repo_path, finding_repo_path

    result = denied("directory")
    outside = replace(
        result, bundle=replace(result.bundle, source="/elsewhere/acme-exporter", name="acme-exporter.tgz")
    )
    assert bundle_repo_path(outside, cwd=tmp_path) == "acme-exporter"
    inside = replace(result, bundle=replace(result.bundle, source=str(tmp_path / "plugins" / "acme")))
    assert bundle_repo_path(inside, cwd=tmp_path) == "plugins/acme"
    assert finding_repo_path(inside, result.steps[2].findings[0].location, cwd=tmp_path) == (
        "plugins/acme/plugin.yaml",
        True,
    )
