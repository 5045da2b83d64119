"""The action, the self-test workflow and the GitLab template: zizmor, their JSON schemas, no injection.

zizmor and check-jsonschema are Python packages of the test extra (check-jsonschema carries the
GitHub and GitLab schemas, so both run offline).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "actions" / "gate" / "action.yml"
WORKFLOW = REPO / ".github" / "workflows" / "self-test.yml"
TEMPLATE = REPO / "gitlab-templates" / "plugingate.yml"

_SEVERITY = {"unknown": 0, "informational": 1, "low": 2, "medium": 3, "high": 4}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; it is in the test extra: pip install -e '.[test]'")
    return found


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_zizmor_finds_nothing_above_low() -> None:
    proc = subprocess.run(
        [_tool("zizmor"), "--offline", "--format", "json", "--no-exit-codes", "actions/", ".github/"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(proc.stdout)
    above = [
        f"{f['ident']} ({f['determinations']['severity']}): {f['desc']}"
        for f in findings
        if _SEVERITY[f["determinations"]["severity"].lower()] > _SEVERITY["low"]
    ]
    assert not above, above
    # zizmor audited both files (an input it cannot parse is skipped with only a warning)
    assert "completed actions/gate/action.yml" in proc.stderr
    assert "completed .github/workflows/self-test.yml" in proc.stderr


def test_action_and_workflow_validate() -> None:
    proc = check_jsonschema("vendor.github-actions", ACTION)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = check_jsonschema("vendor.github-workflows", WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_template_validates_spec_and_jobs_as_separate_documents(tmp_path: Path) -> None:
    spec, jobs = yaml.safe_load_all(TEMPLATE.read_text())
    assert set(spec) == {"spec"}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    proc = check_jsonschema("vendor.gitlab-ci", tmp_path / "spec.json", tmp_path / "jobs.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schemas_reject_a_broken_file(tmp_path: Path) -> None:
    """The checks above are live: the same schemas refuse a wrong input type and a wrong artifact rule."""
    spec, jobs = yaml.safe_load_all(TEMPLATE.read_text())
    spec["spec"]["inputs"]["bundle"]["type"] = "path"
    job = next(iter(jobs.values()))
    job["artifacts"]["when"] = "sometimes"
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    assert check_jsonschema("vendor.gitlab-ci", tmp_path / "spec.json").returncode == 1
    assert check_jsonschema("vendor.gitlab-ci", tmp_path / "jobs.json").returncode == 1
    action = yaml.safe_load(ACTION.read_text())
    action["runs"]["using"] = "shell"
    (tmp_path / "action.json").write_text(json.dumps(action))
    assert check_jsonschema("vendor.github-actions", tmp_path / "action.json").returncode == 1


def _runs(node: object) -> list[str]:
    """Every ``run:`` script in a workflow or action document."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                found.append(value)
            else:
                found += _runs(value)
    elif isinstance(node, list):
        for item in node:
            found += _runs(item)
    return found


def test_no_expression_inside_run_scripts() -> None:
    for path in (ACTION, WORKFLOW):
        scripts = _runs(yaml.safe_load(path.read_text()))
        assert scripts, path
        for script in scripts:
            assert "${{" not in script, f"{path.name}: an expression inside run: {script!r}"


def test_template_inputs_reach_the_script_only_as_variables() -> None:
    _, jobs = yaml.safe_load_all(TEMPLATE.read_text())
    job = next(iter(jobs.values()))
    script = "\n".join(job["script"])
    assert "$[[" not in script
    assert all(re.fullmatch(r"\$\[\[ inputs\.[a-z-]+ \]\]", value) for value in job["variables"].values()), job[
        "variables"
    ]
    reports = job["artifacts"]["reports"]
    assert set(reports) == {"junit", "cyclonedx", "dependency_scanning", "codequality"}
    assert job["artifacts"]["when"] == "always"


def test_action_pins_every_remote_action_by_commit() -> None:
    for path in (ACTION, WORKFLOW):
        for line in path.read_text().splitlines():
            match = re.search(r"uses:\s*([^\s#]+)", line)
            if match and not match.group(1).startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", match.group(1)), line


def test_action_inputs_are_kebab_case_and_documented() -> None:
    action = yaml.safe_load(ACTION.read_text())
    for name, spec in action["inputs"].items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name), name
        assert spec.get("description"), name
    assert {"verdict", "report", "sarif", "sbom", "attestation"} <= set(action["outputs"])
    assert action["runs"]["using"] == "composite"
