"""The composite action, end to end under act in host mode, on the self-test workflow.

``act -P ubuntu-latest=-self-hosted`` runs the job on this machine (no container): the action
installs plugingate and the pinned tools under its own folder, fails on the denied bundle, passes
the example plugin with key-signed attestations (verified in the workflow), and writes the outputs
and the job summary. act runs a snapshot of the checkout
(so nothing is written into it) and, in host mode, copies it to <action cache>/<random>/hostexecutor
(the test's own ``--action-cache-path``, so that concurrent act runs never remove each other's
copies), which it removes after a run that succeeds: the workflow's own check steps test the output files
(``test -s``), and this test reads the outputs and the summary from act's log.

The action keeps its default ``db-source``, ``upstream``, under the shipped default policy: the test
serves a mirror on 127.0.0.1 (the Go vulnerability database at the pinned version, packaged as grype's
distribution is) and hands ``GRYPE_DB_UPDATE_URL`` to the job in act's ``--env-file``; a step of the
workflow points the action at an unreachable mirror, which must fail it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .tools import (
    DENIED_BUNDLE,
    EXAMPLE_BUNDLE,
    EXAMPLE_POLICY,
    REPO,
    ci_tools,
    go_vulndb_mirror,
    require_inputs,
    serve_mirror,
    snapshot_repo,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

UPLOAD_SARIF = "github/codeql-action@8aad20d150bbac5944a9f9d289da16a4b0d87c1e"


def test_self_test_workflow_under_act(tmp_path: Path) -> None:
    require_inputs()
    workflow = (REPO / ".github/workflows/self-test.yml").read_text()
    assert f"bundle: {EXAMPLE_BUNDLE}" in workflow and f"bundle: {DENIED_BUNDLE}" in workflow
    assert f"policy: {EXAMPLE_POLICY}" in workflow
    # NOTE: every gate of the workflow keeps the action's default database source (upstream)
    assert "db-source:" not in workflow
    assert f"uses: {UPLOAD_SARIF.replace('@', '/upload-sarif@')}" in (REPO / "actions/gate/action.yml").read_text()
    tools = ci_tools()
    repo = snapshot_repo(tmp_path / "repo")
    # NOTE: act resolves every remote action of a composite action before evaluating its `if:`; the
    # upload step is skipped under act (env.ACT), so a placeholder that is never run stands in for it.
    placeholder = tmp_path / "codeql-action"
    (placeholder / "upload-sarif").mkdir(parents=True)
    (placeholder / "upload-sarif" / "action.yml").write_text(
        "name: placeholder\ndescription: never runs under act\nruns:\n  using: composite\n  steps: []\n"
    )
    empty = tmp_path / "empty"
    empty.write_text("")
    act_cache = tmp_path / "act-cache"
    mirror = go_vulndb_mirror(tmp_path / "mirror")
    with serve_mirror(mirror) as url:
        env_file = tmp_path / "job.env"
        env_file.write_text(f"GRYPE_DB_UPDATE_URL={url}\n")
        proc, seconds = _act(tools.act, repo, placeholder, env_file, empty, act_cache)
    log = proc.stdout + proc.stderr
    # NOTE: act leaves the copy of a failed run behind (with the action's venv and tools): remove it.
    shutil.rmtree(act_cache, ignore_errors=True)
    print(f"act ran the self-test workflow in {seconds:.0f}s")
    assert proc.returncode == 0, log[-6000:]
    assert "Job succeeded" in log

    # the default source, upstream, from the mirror: downloaded by setup-tools, named in vulns.json and report.json
    assert f"grype db update from {url}" in log, log[-6000:]
    assert re.search(
        rf"self-test: database upstream from 'grype db update {re.escape(url)}': \d{{4}} advisories \(go-vulndb\)", log
    )
    # the unreachable mirror failed the action with exit 3 (setup-tools), and no gate ran
    start = log.index("grype could not update its database from http://127.0.0.1:9/latest.json")
    unreachable = log[start : log.index("self-test: unreachable database mirror refused, as expected", start)]
    assert "Failure - Main Install plugingate and its pinned tools" in unreachable, unreachable[-3000:]
    assert "exit status 3" in unreachable and "Run Main Gate the bundle" not in unreachable, unreachable[-3000:]
    assert "Failure - Main Gate with an unreachable database mirror" in log

    _check_outputs(log)


def _act(
    act: Path, repo: Path, placeholder: Path, env_file: Path, empty: Path, act_cache: Path
) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    proc = subprocess.run(
        [
            str(act),
            "push",
            "--workflows",
            ".github/workflows/self-test.yml",
            "-P",
            "ubuntu-latest=-self-hosted",
            "--local-repository",
            f"{UPLOAD_SARIF}={placeholder}",
            "--env-file",
            str(env_file),
            "--var-file",
            str(empty),
            "--secret-file",
            str(empty),
            "--concurrent-jobs",
            "1",
            "--action-cache-path",
            str(act_cache),
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return proc, time.monotonic() - start


def _check_outputs(log: str) -> None:
    # the example passed; the denied bundle failed the action (continue-on-error) and the check step saw it
    assert "Success - Main Gate the example plugin" in log, log[-6000:]
    assert "self-test: example passed; attestation verified" in log
    # the example chart plugin: helm built (or cached) by the action, 14 objects rendered and checked
    assert "Success - Main Gate the example chart plugin" in log, log[-6000:]
    assert re.search(r"self-test: chart example passed; helm 3\.21\.4 rendered 14 objects", log), log[-6000:]
    assert "Failure - Main Gate a denied bundle" in log, log[-6000:]
    assert "self-test: denied bundle denied (exit 1), as expected" in log
    # the tools cache pointed into the workspace (where a grype was planted with its stamp) was refused
    assert "self-test: tools cache inside the workspace refused, as expected" in log
    assert "is inside the checkout" in log
    # the SARIF upload is skipped under act, never attempted
    assert not re.search(r"(Success|Failure) - Main Upload SARIF", log)

    # outputs, as plugingate wrote them to $GITHUB_OUTPUT
    outputs = re.findall(r"::set-output:: (verdict|passed|exit-code)=(\S*)", log)
    assert ("verdict", "passed") in outputs and ("verdict", "denied") in outputs, outputs
    assert ("exit-code", "1") in outputs
    assert re.search(r"::set-output:: attestation=\S+/gate-out/example/attestations\.intoto\.jsonl", log)

    # the job summary: the verdict first, then the table of steps
    summary = re.findall(r"Summary - (.*)", log)
    assert any("plugingate: ✅ PASSED" in line for line in summary), summary[:5]
    assert any("plugingate: ❌ DENIED" in line for line in summary), summary[:5]

    # the action installed plugingate and the tools outside the workspace (~/.cache), never under the checkout
    assert re.search(r"plugingate: (installing .* into|cached in) \S*/\.cache/plugingate-action/venv", log)
    grype = re.search(r"::set-env:: PLUGINGATE_GRYPE=(\S+)", log)
    assert grype and "/.cache/plugingate/tools/" in grype[1] and "hostexecutor" not in grype[1], grype
    # the check steps found every output file non-empty (test -s), and the verdicts in report.json and summary.md
    assert "Success - Main The example passed, with every output written and the attestation verified" in log
    assert "Success - Main The denied bundle failed the action, with its outputs written" in log
