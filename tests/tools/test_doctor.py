"""``plugingate doctor``: what it finds, and exit 3 when the gate could not run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from plugingate.errors import Error
from plugingate.tools import Tool, ToolRunner
from plugingate.tools.pins import PINNED_VERSIONS
from plugingate.vulnerabilities import database_dir, read_database_info


def _doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plugingate", "doctor", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


@pytest.fixture
def real_env(tmp_path: Path) -> dict[str, str]:
    runner = ToolRunner()
    env: dict[str, str] = {"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    for tool in Tool:
        try:
            env[tool.env_var] = str(runner.info(tool).path)
        except Error as exc:
            pytest.skip(f"{exc.message}: run scripts/setup-tools")
    try:
        read_database_info(database_dir())
    except Error as exc:
        pytest.skip(f"{exc.message}: run scripts/setup-tools")
    env["GRYPE_DB_CACHE_DIR"] = str(database_dir().resolve())
    return env


@pytest.mark.integration
def test_doctor_reports_tools_versions_and_the_database(real_env: dict[str, str]) -> None:
    done = _doctor(real_env, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    for tool in ("syft", "grype", "cosign", "kustomize"):
        assert (
            report[tool]["version"] == PINNED_VERSIONS[tool] and report[tool]["foundBy"] == f"PLUGINGATE_{tool.upper()}"
        )
    assert report["database"]["ok"] is True and report["database"]["schema"].startswith("v6.")
    assert "plugingate test database" in report["database"]["source"]
    assert report["docker"]["reachable"] is False
    assert any("no Docker engine" in w for w in report["warnings"])
    # in plain words: which engine and why, not the SDK's exception chain
    host = real_env["DOCKER_HOST"]
    assert report["docker"]["error"] == (
        f"no Docker engine answered at {host}: its socket does not exist (no engine is running there)"
    )

    text = _doctor(real_env)
    assert text.returncode == 0
    assert re.search(r"^grype +0\.121\.2 ", text.stdout, re.M) and "built " in text.stdout


@pytest.mark.integration
def test_doctor_exits_3_without_a_database_or_grype(real_env: dict[str, str], tmp_path: Path) -> None:
    no_db = _doctor({**real_env, "GRYPE_DB_CACHE_DIR": str(tmp_path / "none")})
    assert no_db.returncode == 3 and "no vulnerability database" in no_db.stdout + no_db.stderr
    no_grype = _doctor(
        {**real_env, "PLUGINGATE_GRYPE": "", "PLUGINGATE_TOOLS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        "--format",
        "json",
    )
    assert no_grype.returncode == 3
    report = json.loads(no_grype.stdout)
    assert report["grype"]["found"] is False and "grype was not found" in report["problems"][0]


@pytest.mark.integration
def test_doctor_reports_k8sdecode_and_exits_3_without_it(real_env: dict[str, str], tmp_path: Path) -> None:
    done = _doctor(real_env, "--format", "json")
    report = json.loads(done.stdout)
    assert report["k8sdecode"]["found"] is True and report["k8sdecode"]["version"].endswith("+k8s.v0.32.4")
    missing = _doctor({**real_env, "PLUGINGATE_K8SDECODE": str(tmp_path / "none")}, "--format", "json")
    assert missing.returncode == 3
    assert json.loads(missing.stdout)["k8sdecode"]["found"] is False


@pytest.mark.integration
def test_doctor_reports_olmvalidate_and_exits_3_without_it(real_env: dict[str, str], tmp_path: Path) -> None:
    report = json.loads(_doctor(real_env, "--format", "json").stdout)
    assert report["olmvalidate"]["found"] is True
    assert report["olmvalidate"]["version"].endswith("+operator-framework-api.v0.9.1")
    missing = _doctor({**real_env, "PLUGINGATE_OLMVALIDATE": str(tmp_path / "none")}, "--format", "json")
    assert missing.returncode == 3 and json.loads(missing.stdout)["olmvalidate"]["found"] is False


@pytest.mark.integration
def test_doctor_reports_helm_but_only_warns_without_it(real_env: dict[str, str], tmp_path: Path) -> None:
    # NOTE: only plugins that declare spec.chart need helm; a platform without charts must not fail doctor.
    missing = _doctor({**real_env, "PLUGINGATE_HELM": str(tmp_path / "none")}, "--format", "json")
    report = json.loads(missing.stdout)
    assert missing.returncode == 0 and report["ok"] is True
    assert report["helm"]["found"] is False and any("PLUGINGATE_HELM" in w for w in report["warnings"])
    text = _doctor({**real_env, "PLUGINGATE_HELM": str(tmp_path / "none")})
    lines = text.stdout.splitlines()
    assert any(line.startswith("helm ") and " missing " in line for line in lines), text.stdout
    # NOTE: one column for versions, however long a helper's version is.
    starts = {line.index(line.split()[1]) for line in lines if line.split()[0] in {"syft", "cosign", "olmvalidate"}}
    assert len(starts) == 1, text.stdout
