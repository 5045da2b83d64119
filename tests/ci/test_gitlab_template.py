"""The GitLab template, end to end under gitlab-ci-local (shell executor).

The test creates a project that includes ``gitlab-templates/plugingate.yml`` twice (``include:
local:`` with inputs): once for the example plugin, once for a denied bundle. The template fetches
plugingate from ``plugingate-repository`` at ``plugingate-ref``; here that is a snapshot of this
checkout, as a local git repository. Each job passes or fails as the gate decides and leaves its
report artifacts.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from plugingate.tools.pins import PINNED_VERSIONS

from .tools import (
    DENIED_BUNDLE,
    EXAMPLE_BUNDLE,
    EXAMPLE_POLICY,
    REPO,
    assert_reports_valid,
    ci_tools,
    require_inputs,
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
        # NOTE: offline here; a real pipeline keeps the default, upstream.
        "db-source": "test",
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
                    "job-name": "gate-planted",
                    "bundle": f"plugins/{denied.name}",
                    "out": "out-planted",
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


def _run(gcl: Path, project: Path, job: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(gcl), "--force-shell-executor", "--home", str(project.parent / "gcl-home"), job],
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

    start = time.monotonic()
    passed = _run(gcl, project, "gate-example")
    first = time.monotonic() - start
    log = passed.stdout + passed.stderr
    assert passed.returncode == 0, log[-6000:]
    assert "PASS  gate-example" in log

    start = time.monotonic()
    denied = _run(gcl, project, "gate-denied")
    second = time.monotonic() - start
    log = denied.stdout + denied.stderr
    print(f"gitlab-ci-local: gate-example {first:.0f}s (installs), gate-denied {second:.0f}s (cached)")
    assert denied.returncode == 1, log[-6000:]
    assert "FAIL  gate-denied" in log

    artifacts = project / ".gitlab-ci-local" / "artifacts"
    example = assert_reports_valid(artifacts / "gate-example" / "out-example")
    assert example["verdict"] == "passed"
    report = assert_reports_valid(artifacts / "gate-denied" / "out-denied")
    assert report["verdict"] == "denied"
    for out in (artifacts / "gate-example" / "out-example", artifacts / "gate-denied" / "out-denied"):
        assert (out / "sbom.cdx.json").is_file(), sorted(p.name for p in out.iterdir())
    # the denied job's code quality report names what denied it
    issues = json.loads((artifacts / "gate-denied/out-denied/gl-code-quality-report.json").read_text())
    assert any(i["severity"] == "critical" for i in issues)
    # the committed grype was never run: the denial above is the real grype's, under the pinned policy
    assert (
        report["policy"]["trust"]["kind"] == "pinned-digest" and example["policy"]["trust"]["kind"] == "pinned-digest"
    )
    planted = _run(gcl, project, "gate-planted")
    log = planted.stdout + planted.stderr
    assert planted.returncode != 0 and "FAIL  gate-planted" in log, log[-6000:]
    assert "is inside the checkout" in log, log[-3000:]
