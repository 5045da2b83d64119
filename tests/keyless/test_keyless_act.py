"""The GitHub action signs keyless against the private Sigstore under act, with the ambient credential.

A runner gets its OIDC token by asking ``ACTIONS_ID_TOKEN_REQUEST_URL`` with the bearer
``ACTIONS_ID_TOKEN_REQUEST_TOKEN``; here the test's issuer answers that request (GitHub-workflow
claims), so the action takes the same path as on GitHub: no token is handed to it. The workflow then
checks the attestation with ``plugingate verify-attestation`` for the workflow's identity and the
private trusted root (act removes its copy of a run that succeeds, so the check runs inside it).
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import pytest

from tests.ci.test_action_act import UPLOAD_SARIF
from tests.ci.tools import EXAMPLE_BUNDLE, REPO, ci_tools, require_inputs, snapshot_repo
from tests.support.oidc_issuer import github_identity
from tests.support.sigstore_local import LocalSigstore

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# NOTE: offline, the gate scans with the test database, which only a test policy accepts.
TEST_DB_POLICY = "testdata/policies/default-test-db.yaml"

WORKFLOW = """name: keyless
on: push
permissions: {{}}
jobs:
  gate:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - name: Gate keyless
        uses: ./actions/gate
        with:
          bundle: {bundle}
          policy: {policy}
          policy-digest: {policy_digest}
          db-source: test
          out: gate-out/keyless
          attest-keyless: "true"
          trust-config: {trust}
      - name: The attestation verifies for this workflow
        shell: bash
        run: |
          set -euo pipefail
          plugingate verify-attestation {bundle} --attestation gate-out/keyless/attestation-gate.sigstore.json \\
            --identity '{identity}' --issuer '{issuer}' --trusted-root '{root}'
          echo "keyless-act: attestation verified"
"""


def test_action_signs_keyless_with_the_ambient_credential(local_sigstore: LocalSigstore, tmp_path: Path) -> None:
    require_inputs()
    tools = ci_tools()
    repo = snapshot_repo(tmp_path / "repo")
    workflow = repo / ".github" / "workflows" / "keyless.yml"
    workflow.write_text(
        WORKFLOW.format(
            bundle=EXAMPLE_BUNDLE,
            policy=TEST_DB_POLICY,
            policy_digest="sha256:" + hashlib.sha256((REPO / TEST_DB_POLICY).read_bytes()).hexdigest(),
            trust=local_sigstore.trust_config,
            identity=github_identity(),
            issuer=local_sigstore.github_issuer(),
            root=local_sigstore.trusted_root,
        )
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@plugingate.invalid"]
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True, capture_output=True, timeout=60)
    subprocess.run(
        [*git, "commit", "-q", "-m", "keyless workflow"], cwd=repo, check=True, capture_output=True, timeout=60
    )
    placeholder = tmp_path / "codeql-action"
    (placeholder / "upload-sarif").mkdir(parents=True)
    (placeholder / "upload-sarif" / "action.yml").write_text(
        "name: placeholder\ndescription: never runs under act\nruns:\n  using: composite\n  steps: []\n"
    )
    env_file = tmp_path / "env"
    env_file.write_text(
        f"ACTIONS_ID_TOKEN_REQUEST_URL={local_sigstore.issuer.token_request_url()}\n"
        f"ACTIONS_ID_TOKEN_REQUEST_TOKEN={local_sigstore.issuer.request_token}\n"
    )
    empty = tmp_path / "empty"
    empty.write_text("")
    # NOTE: act's own cache for this run, so that concurrent act runs never remove each other's copies.
    act_cache = tmp_path / "act-cache"
    start = time.monotonic()
    proc = subprocess.run(
        [str(tools.act), "push", "--workflows", ".github/workflows/keyless.yml", "-P", "ubuntu-latest=-self-hosted",
         "--local-repository", f"{UPLOAD_SARIF}={placeholder}", "--env-file", str(env_file),
         "--var-file", str(empty), "--secret-file", str(empty), "--action-cache-path", str(act_cache)],
        cwd=repo, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    seconds = time.monotonic() - start
    log = proc.stdout + proc.stderr
    print(f"act ran the keyless workflow in {seconds:.0f}s")
    assert proc.returncode == 0, log[-6000:]
    assert "keyless-act: attestation verified" in log, log[-6000:]
