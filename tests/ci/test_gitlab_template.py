"""The GitLab template, end to end under gitlab-ci-local (shell executor).

The test creates a project that includes ``gitlab-templates/plugingate.yml`` twice (``include:
local:`` with inputs): once for the example plugin, once for a denied bundle. The template fetches
plugingate from ``plugingate-repository`` at ``plugingate-ref``; here that is a snapshot of this
checkout, as a local git repository. Each job passes or fails as the gate decides and leaves its
report artifacts.

The jobs keep the template's default ``db-source`` (``upstream``: ``grype db update``) under the shipped
default policy; the test serves the mirror on 127.0.0.1 (the Go vulnerability database at the pinned
version, packaged as grype's distribution is) and passes ``GRYPE_DB_UPDATE_URL`` with ``--variable``,
as a platform would set a CI/CD variable. A job whose mirror is unreachable fails with exit 3.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from plugingate.tools.pins import PINNED_VERSIONS

from .tools import (
    CHART_BUNDLE,
    DENIED_BUNDLE,
    EXAMPLE_BUNDLE,
    EXAMPLE_POLICY,
    REPO,
    assert_reports_valid,
    assert_upstream_database,
    ci_tools,
    closed_port_url,
    go_vulndb_mirror,
    require_inputs,
    serve_mirror,
    snapshot_repo,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)


def _project(root: Path, source_repo: Path) -> Path:
    project = root / "consumer"
    _copy(REPO / "gitlab-templates/plugingate.yml", project / "ci/plugingate.yml")
    _copy(REPO / EXAMPLE_POLICY, project / "policy.yaml")
    bundle = REPO / EXAMPLE_BUNDLE
    _copy(bundle, project / "plugins" / bundle.name)
    for suffix in (".sigstore.json", ".sig", ".intoto.jsonl"):
        if (REPO / (EXAMPLE_BUNDLE + suffix)).is_file():
            _copy(REPO / (EXAMPLE_BUNDLE + suffix), project / "plugins" / (bundle.name + suffix))
    denied = REPO / DENIED_BUNDLE
    _copy(denied, project / "plugins" / denied.name)
    for suffix in ("", ".sigstore.json", ".sig"):
        _copy(REPO / (CHART_BUNDLE + suffix), project / "plugins" / (Path(CHART_BUNDLE).name + suffix))
    # NOTE: issue 12's attack, committed by the merge request: a grype that erases every match, with the
    # stamp that made the old template's setup take it for its own cached build.
    planted = project / ".plugingate" / "cache" / "tools" / f"grype-v{PINNED_VERSIONS['grype']}"
    planted.mkdir(parents=True)
    (planted / "grype").write_text('#!/bin/sh\necho \'{"version": "0.121.2", "matches": []}\'\n')
    (planted / "grype").chmod(0o755)
    grype = PINNED_VERSIONS["grype"]
    (planted / ".stamp").write_text(f"github.com/anchore/grype/cmd/grype@v{grype} -s -w -X main.version={grype}\n")
    common = {
        "policy": "policy.yaml",
        # NOTE: the platform's include pins the approved policy's digest.
        "policy-digest": "sha256:" + hashlib.sha256((REPO / EXAMPLE_POLICY).read_bytes()).hexdigest(),
        "plugingate-repository": f"file://{source_repo}",
        "plugingate-ref": "main",
        # NOTE: no db-source: the default, upstream, from the mirror GRYPE_DB_UPDATE_URL names.
    }
    config = {
        "stages": ["test"],
        "include": [
            {
                "local": "ci/plugingate.yml",
                "inputs": {
                    **common,
                    "job-name": "gate-example",
                    "bundle": f"plugins/{bundle.name}",
                    "out": "out-example",
                },
            },
            {
                "local": "ci/plugingate.yml",
                "inputs": {
                    **common,
                    "job-name": "gate-denied",
                    "bundle": f"plugins/{denied.name}",
                    "out": "out-denied",
                },
            },
            {
                "local": "ci/plugingate.yml",
                "inputs": {
                    **common,
                    "job-name": "gate-chart",
                    "bundle": f"plugins/{Path(CHART_BUNDLE).name}",
                    "out": "out-chart",
                },
            },
            {
                "local": "ci/plugingate.yml",
                "inputs": {
                    **common,
                    "job-name": "gate-planted",
                    "bundle": f"plugins/{denied.name}",
                    "out": "out-planted",
                },
            },
            {
                "local": "ci/plugingate.yml",
                "inputs": {
                    **common,
                    "job-name": "gate-unreachable",
                    "bundle": f"plugins/{bundle.name}",
                    "out": "out-unreachable",
                },
            },
        ],
        # NOTE: a job told to use the committed cache: setup-tools refuses it (exit 3), nothing runs.
        "gate-planted": {"variables": {"PLUGINGATE_CACHE": ".plugingate/cache"}},
    }
    (project / ".gitlab-ci.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@plugingate.invalid"]
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "consumer"],
        ["remote", "add", "origin", "https://gitlab.example.com/platform/consumer.git"],
    ):
        subprocess.run([*git, *args], cwd=project, check=True, capture_output=True, timeout=60)
    return project


def _run(gcl: Path, project: Path, job: str, mirror: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(gcl),
            "--force-shell-executor",
            "--home",
            str(project.parent / "gcl-home"),
            "--variable",
            f"GRYPE_DB_UPDATE_URL={mirror}",
            job,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_template_under_gitlab_ci_local(tmp_path: Path) -> None:
    require_inputs()
    gcl = ci_tools().gitlab_ci_local
    source = snapshot_repo(tmp_path / "plugingate")
    project = _project(tmp_path, source)

    # the configuration as gitlab-ci-local expands it: inputs interpolated, reports declared
    preview = subprocess.run(
        [str(gcl), "--preview", "--home", str(tmp_path / "gcl-home")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert preview.returncode == 0, preview.stdout + preview.stderr
    expanded = yaml.safe_load(
        preview.stdout[preview.stdout.index("---") :] if "---" in preview.stdout else preview.stdout
    )
    job = expanded["gate-example"]
    assert job["variables"]["PG_BUNDLE"] == "plugins/acme-exporter.tgz"
    assert job["artifacts"]["reports"]["dependency_scanning"] == "out-example/gl-dependency-scanning-report.json"
    assert job["artifacts"]["when"] == "always"
    assert job["variables"]["PG_DB_SOURCE"] == "upstream"

    start = time.monotonic()
    mirror = go_vulndb_mirror(tmp_path / "mirror")
    packaged = time.monotonic() - start
    with serve_mirror(mirror) as url:
        start = time.monotonic()
        passed = _run(gcl, project, "gate-example", url)
        first = time.monotonic() - start
        log = passed.stdout + passed.stderr
        assert passed.returncode == 0, log[-6000:]
        assert "PASS  gate-example" in log
        assert f"grype db update from {url}" in log, log[-6000:]

        start = time.monotonic()
        denied = _run(gcl, project, "gate-denied", url)
        second = time.monotonic() - start
        log = denied.stdout + denied.stderr
        print(
            f"gitlab-ci-local: mirror packaged in {packaged:.0f}s, gate-example {first:.0f}s (installs), "
            f"gate-denied {second:.0f}s (cached)"
        )
        assert denied.returncode == 1, log[-6000:]
        assert "FAIL  gate-denied" in log

        # the example as a Helm chart: the template builds (or reuses) the pinned helm for it alone
        chart = _run(gcl, project, "gate-chart", url)
        log = chart.stdout + chart.stderr
        assert chart.returncode == 0 and "PASS  gate-chart" in log, log[-6000:]

    artifacts = project / ".gitlab-ci-local" / "artifacts"
    example = assert_reports_valid(artifacts / "gate-example" / "out-example")
    assert example["verdict"] == "passed"
    report = assert_reports_valid(artifacts / "gate-denied" / "out-denied")
    assert report["verdict"] == "denied"
    chart_report = assert_reports_valid(artifacts / "gate-chart" / "out-chart")
    assert chart_report["verdict"] == "passed" and chart_report["tools"]["helm"] == "3.21.4"
    (manifests,) = [s for s in chart_report["steps"] if s["step"] == "manifests"]
    assert manifests["details"]["objects"] == 14, manifests
    for out in (artifacts / "gate-example" / "out-example", artifacts / "gate-denied" / "out-denied"):
        assert (out / "sbom.cdx.json").is_file(), sorted(p.name for p in out.iterdir())
        # the data came from the mirror, through grype's upstream update: named so in vulns.json and the report
        assert_upstream_database(out, url)
    # the denied job's code quality report names what denied it
    issues = json.loads((artifacts / "gate-denied/out-denied/gl-code-quality-report.json").read_text())
    assert any(i["severity"] == "critical" for i in issues)
    # the committed grype was never run: the denial above is the real grype's, under the pinned policy
    assert (
        report["policy"]["trust"]["kind"] == "pinned-digest" and example["policy"]["trust"]["kind"] == "pinned-digest"
    )
    planted = _run(gcl, project, "gate-planted", url)
    log = planted.stdout + planted.stderr
    assert planted.returncode != 0 and "FAIL  gate-planted" in log, log[-6000:]
    assert "is inside the checkout" in log, log[-3000:]

    # the mirror is down: the job fails with exit 3 (no fallback to the test database, nor to the copy
    # the jobs above left in the cache), and no gate ran
    unreachable = closed_port_url()
    down = _run(gcl, project, "gate-unreachable", unreachable)
    log = down.stdout + down.stderr
    assert down.returncode != 0 and "FAIL  gate-unreachable" in log, log[-6000:]
    assert f"grype could not update its database from {unreachable}" in log, log[-6000:]
    # NOTE: gitlab-ci-local ends a failed job's log with its exit status ("finished in 3.56 s  FAIL 3").
    assert re.search(r"gate-unreachable finished in [0-9.]+ \S+\s+FAIL 3\b", log), log[-3000:]
    assert not (artifacts / "gate-unreachable" / "out-unreachable" / "report.json").exists()
