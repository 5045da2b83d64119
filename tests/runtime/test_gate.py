"""The gate attests the digest of exactly what ``plugingate render`` writes (the real gate, syft and grype)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

from .conftest import EXAMPLE

pytestmark = pytest.mark.integration

POLICY = """apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: runtime-test}
spec:
  signature: {required: false}
  vulnerabilities:
    database: {allowTestDatabase: true}  # NOTE: the suite's test database
    onSkippedImage: warn
  capabilities:
    network: {egressAllow: ["*.example"]}
  runtime: {cni: cilium, maxPods: 2}
"""


def test_the_gate_attestation_names_the_rendered_digest(tmp_path: Path) -> None:
    key_prefix = tmp_path / "k"
    env = {"PLUGINGATE_PASSWORD": "right"}
    assert run_cli("keygen", "--output-prefix", key_prefix, env=env).code == 0
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    gate = run_cli(
        "gate",
        EXAMPLE,
        "--policy",
        policy,
        "--policy-digest",
        "sha256:" + hashlib.sha256(policy.read_bytes()).hexdigest(),
        "--attest-key",
        f"{key_prefix}.key",
        "--out",
        tmp_path / "out",
        "--format",
        "json",
        env=env,
    )
    assert gate.code == 0, gate.stderr + gate.stdout
    envelope = json.loads((tmp_path / "out" / "attestation-gate.dsse.json").read_text())
    predicate = json.loads(base64.b64decode(envelope["payload"]))["predicate"]
    controls = predicate["runtimeControls"]
    render = run_cli("render", EXAMPLE, "--policy", policy, "--out", tmp_path / "runtime", "--format", "json")
    assert render.code == 0, render.stderr
    rendered = json.loads(render.stdout)
    assert controls["digest"] == rendered["digest"]
    assert (
        controls["digest"]
        == "sha256:" + hashlib.sha256((tmp_path / "runtime" / "runtime.yaml").read_bytes()).hexdigest()
    )
    assert controls["cni"] == "cilium" and "CiliumNetworkPolicy/acme-exporter-egress-names" in controls["objects"]
