"""Issue 12's cache attack through the real CLI: a rewritten result-cache entry never becomes a signed pass.

The attacker rewrites the cached grype result (matches erased) *and* the manifest's digest of it, as
anyone who can write the cache folder can. The entry's MAC (under the per-user key kept outside the
cache folder) no longer verifies, so the gate runs grype again, denies again, and the signed
attestation says ``passed: false``. The same re-gate without the forgery is answered from the cache,
so the re-run is the forgery's doing, not a cache that never hits.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.integration

POLICY = """apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: forged-cache}
spec:
  signature: {required: false, trustedSigners: []}
  vulnerabilities:
    database: {allowTestDatabase: true}  # NOTE: the suite's test database
    failOn: high
    onSkippedImage: warn
"""


def _step(report: dict[str, Any], name: str) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in report["steps"] if s["step"] == name)
    return step


def _forge(results: Path) -> int:
    """Erase the matches of every cached grype result, and fix up the manifest's digest to match."""
    forged = 0
    for manifest_path in results.glob("*/*/manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        for name in manifest["files"]:
            path = manifest_path.parent / name
            doc = json.loads(path.read_text())
            if isinstance(doc, dict) and "matches" in doc:
                doc["matches"] = []
                path.write_text(json.dumps(doc))
                manifest["files"][name] = hashlib.sha256(path.read_bytes()).hexdigest()
                forged += 1
        manifest_path.write_text(json.dumps(manifest))
    return forged


def test_a_forged_cache_entry_is_not_signed_as_a_pass(tmp_path: Path) -> None:
    key = run_cli("keygen", "--output-prefix", tmp_path / "gate", env={"PLUGINGATE_PASSWORD": "pw"})
    assert key.code == 0, key.stderr
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    results = tmp_path / "results"
    env = {
        "PLUGINGATE_PASSWORD": "pw",
        "PLUGINGATE_RESULT_CACHE": str(results),
        "PLUGINGATE_CACHE_KEY_FILE": str(tmp_path / "config" / "cache.key"),
        "PLUGINGATE_POLICY_DIGEST": "sha256:" + hashlib.sha256(policy.read_bytes()).hexdigest(),
    }
    bundle = REPO / "testdata" / "vuln-bundles" / "vulnerable"

    def gate(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        out = tmp_path / name
        done = run_cli("gate", bundle, "--policy", policy, "--attest-key", tmp_path / "gate.key", "--out", out, env=env)
        # NOTE: no skip on exit 3: with the tools installed (scripts/test) it is a failure to see, not hide.
        assert done.code == 1, done.stdout + done.stderr
        report = json.loads((out / "report.json").read_text())
        envelope = json.loads((out / "attestation-gate.dsse.json").read_text())
        return report, json.loads(base64.b64decode(envelope["payload"]))["predicate"]

    cold, cold_predicate = gate("cold")
    assert cold["verdict"] == "denied" and cold_predicate["passed"] is False
    warm, _ = gate("warm")
    assert _step(warm, "vulnerabilities")["details"]["cached"] is True
    assert oct((tmp_path / "config" / "cache.key").stat().st_mode & 0o777) == oct(0o600)
    assert not str(tmp_path / "config").startswith(str(results))

    assert _forge(results) >= 1
    forged, forged_predicate = gate("forged")
    vulns = _step(forged, "vulnerabilities")
    assert vulns["details"]["cached"] is False, "the forged entry was read"
    assert forged["verdict"] == "denied" and forged_predicate["passed"] is False
    assert vulns["findings"] == _step(cold, "vulnerabilities")["findings"]
