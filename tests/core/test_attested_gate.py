"""A gate that signs its attestations: the key is checked before any scanning, and the report's
validUntil is the signed statement's, shortened by an exception that expires first."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def key(tmp_path: Path) -> Path:
    res = run_cli("keygen", "--output-prefix", tmp_path / "k", env={"PLUGINGATE_PASSWORD": "right"})
    assert res.code == 0, res.stderr
    return tmp_path / "k.key"


def test_a_wrong_passphrase_fails_before_the_gate_runs(key: Path, tmp_path: Path) -> None:
    res = run_cli(
        "gate",
        REPO / "examples" / "acme-exporter.tgz",
        "--attest-key",
        key,
        "--out",
        tmp_path / "out",
        env={"PLUGINGATE_PASSWORD": "wrong"},
    )
    assert res.code == 2 and "wrong passphrase" in res.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.integration
def test_valid_until_follows_an_expiring_exception(key: Path, tmp_path: Path) -> None:
    expires = date.today() + timedelta(days=3)
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"""apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {{name: exception-test}}
spec:
  signature: {{required: false}}
  vulnerabilities:
    database: {{allowTestDatabase: true}}  # NOTE: the suite's test database
    failOn: critical
    onSkippedImage: warn
    exceptions:
      - id: GHSA-pggo-4m5n-0001
        package: pkg:golang/golang.org/x/text
        expires: {expires.isoformat()}
        reason: "the vulnerable function is never called by the exporter"
"""
    )
    res = run_cli(
        "gate",
        REPO / "testdata" / "vuln-bundles" / "vulnerable",
        "--mode",
        "warn",
        "--policy",
        policy,
        # NOTE: attestations are signed only under a pinned (or signed) policy.
        "--policy-digest",
        "sha256:" + hashlib.sha256(policy.read_bytes()).hexdigest(),
        "--attest-key",
        key,
        "--out",
        tmp_path / "out",
        "--format",
        "json",
        env={"PLUGINGATE_PASSWORD": "right"},
    )
    assert res.code == 0, res.stderr + res.stdout
    report = json.loads(res.stdout)
    end = datetime.combine(expires + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert report["validUntil"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")
    envelope = json.loads((tmp_path / "out" / "attestation-gate.dsse.json").read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["predicate"]["validUntil"] == report["validUntil"]
