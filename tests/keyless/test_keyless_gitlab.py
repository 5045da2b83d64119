"""The GitLab template signs keyless against the private Sigstore, under gitlab-ci-local.

The job gets its OIDC token as GitLab gives one to a job with ``id_tokens: SIGSTORE_ID_TOKEN``: in
that variable (here minted by the test's issuer, with a GitLab pipeline's claims), and the instance
through the template's ``trust-config`` input. The attestation it writes must verify for the
pipeline's identity with cosign and the private trusted root.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from plugingate.attestation.predicate import GATE_PREDICATE_TYPE
from tests.attestation.tools import cosign
from tests.ci.tools import EXAMPLE_BUNDLE, REPO, ci_tools, require_inputs, snapshot_repo
from tests.support.oidc_issuer import gitlab_claims, gitlab_identity
from tests.support.sigstore_local import LocalSigstore

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# NOTE: offline, the gate scans with the test database, which only a test policy accepts.
TEST_DB_POLICY = "testdata/policies/default-test-db.yaml"


def test_template_signs_keyless_with_the_job_token(local_sigstore: LocalSigstore, tmp_path: Path) -> None:
    require_inputs()
    gcl = ci_tools().gitlab_ci_local
    source = snapshot_repo(tmp_path / "plugingate")
    project = tmp_path / "consumer"
    (project / "ci").mkdir(parents=True)
    shutil.copy2(REPO / "gitlab-templates/plugingate.yml", project / "ci/plugingate.yml")
    shutil.copy2(REPO / TEST_DB_POLICY, project / "policy.yaml")
    shutil.copy2(local_sigstore.trust_config, project / "sigstore-trust.json")
    bundle = REPO / EXAMPLE_BUNDLE
    (project / "plugins").mkdir()
    for suffix in ("", ".sigstore.json", ".sig", ".intoto.jsonl"):
        if (REPO / (EXAMPLE_BUNDLE + suffix)).is_file():
            shutil.copy2(REPO / (EXAMPLE_BUNDLE + suffix), project / "plugins" / (bundle.name + suffix))
    inputs = {
        "policy": "policy.yaml",
        # NOTE: attestations are signed only under a pinned policy; the data is the test database, offline.
        "policy-digest": "sha256:" + hashlib.sha256((REPO / TEST_DB_POLICY).read_bytes()).hexdigest(),
        "db-source": "test",
        "plugingate-repository": f"file://{source}",
        "plugingate-ref": "main",
        "job-name": "gate-keyless",
        "bundle": f"plugins/{bundle.name}",
        "out": "out-keyless",
        "attest-keyless": True,
        "trust-config": "sigstore-trust.json",
    }
    config = {"stages": ["test"], "include": [{"local": "ci/plugingate.yml", "inputs": inputs}]}
    (project / ".gitlab-ci.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@plugingate.invalid"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "consumer"]):
        subprocess.run([*git, *args], cwd=project, check=True, capture_output=True, timeout=60)
    token = local_sigstore.issuer.mint("/gitlab", gitlab_claims(), lifetime=1800)
    run = subprocess.run(
        [str(gcl), "--force-shell-executor", "--home", str(tmp_path / "gcl-home"),
         "--variable", f"SIGSTORE_ID_TOKEN={token}", "gate-keyless"],
        cwd=project, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-6000:]
    out = project / ".gitlab-ci-local" / "artifacts" / "gate-keyless" / "out-keyless"
    attestation = out / "attestation-gate.sigstore.json"
    assert attestation.is_file(), sorted(p.name for p in out.iterdir())
    argv = [
        cosign(), "verify-blob-attestation", "--bundle", str(attestation),
        "--trusted-root", str(local_sigstore.trusted_root), "--type", GATE_PREDICATE_TYPE,
        "--certificate-oidc-issuer", local_sigstore.gitlab_issuer(), "--certificate-identity", gitlab_identity(),
        str(bundle),
    ]  # fmt: skip
    checked = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stderr
