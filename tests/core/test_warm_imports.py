"""A cached re-gate loads only what its checks need: no network client, no schema library, no terminal UI.

The gate runs in a fresh interpreter with the real steps, except syft and grype, whose cached answers
are stood in for (their import hygiene belongs to tests/sbom and tests/vulnerabilities); the modules it
adds to ``sys.modules`` are compared with the heavy ones a warm gate must not pay for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNSIGNED_POLICY = """apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: unsigned}
spec:
  signature: {required: false, trustedSigners: []}
"""
SCRIPT = """
import json, sys
from dataclasses import replace
from pathlib import Path
before = set(sys.modules)
from plugingate.findings import Step
from plugingate.gate import GateRequest, run_gate
from plugingate.policy import load_policy
from plugingate.result import StepResult, StepStatus
from plugingate.steps import default_steps

def sbom(ctx):
    import hashlib
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    data = b'{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}'
    (ctx.out_dir / "sbom.cdx.json").write_bytes(data)
    return StepResult(Step.SBOM, StepStatus.PASSED, "(cached)", details={"sha256": hashlib.sha256(data).hexdigest()})

def vulnerabilities(ctx):
    (ctx.out_dir / "vulns.json").write_text('{"matches": []}')
    return StepResult(Step.VULNERABILITIES, StepStatus.PASSED, "(cached)")

steps = replace(default_steps(), sbom=sbom, vulnerabilities=vulnerabilities)
request = GateRequest(bundle=Path(sys.argv[1]), policy=load_policy(Path(sys.argv[2])), out_dir=Path(sys.argv[3]))
result = run_gate(request, steps)
print(json.dumps({"verdict": str(result.verdict), "error": result.error, "modules": sorted(set(sys.modules) - before)}))
"""
NEVER = ("jsonschema", "referencing", "pydantic", "sigstore", "sigstore_models", "rich", "requests", "certifi")


def gate(tmp_path: Path, bundle: Path, policy: Path) -> tuple[str, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(bundle), str(policy), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    answer = json.loads(out.stdout)
    assert answer["error"] is None
    return answer["verdict"], answer["modules"]


def heavy(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in prefixes or m.startswith("cryptography.x509")]


@pytest.mark.parametrize("kind", ["folder", "archive"])
def test_an_unsigned_gate_loads_no_verifier(tmp_path: Path, kind: str) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(UNSIGNED_POLICY)
    bundle = ROOT / "examples" / ("acme-exporter" if kind == "folder" else "acme-exporter.tgz")
    if kind == "archive":
        # NOTE: away from its signature, so that there is nothing to verify
        bundle = Path(tmp_path / "acme-exporter.tgz")
        bundle.write_bytes((ROOT / "examples" / "acme-exporter.tgz").read_bytes())
    verdict, modules = gate(tmp_path, bundle, policy)
    assert verdict == "denied"  # NOTE: the example's egress is not in this policy; decided all the same
    assert heavy(modules, (*NEVER, "cryptography")) == []


def test_a_key_signed_gate_loads_only_the_key_verifier(tmp_path: Path) -> None:
    verdict, modules = gate(
        tmp_path, ROOT / "examples" / "acme-exporter.tgz", ROOT / "testdata" / "policies" / "default-test-db.yaml"
    )
    assert verdict == "passed"
    assert "cryptography.hazmat.primitives.asymmetric.ec" in modules
    assert heavy(modules, NEVER) == []
