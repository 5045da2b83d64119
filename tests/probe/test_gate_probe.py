"""``gate --probe``: the shadow run as a step of the real gate, in its report and its signed attestation."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from plugingate.schemas import load_schema
from tests.conftest import REPO, run_cli

from .images import write_bundle

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POLICY = REPO / "testdata" / "policies" / "cases.yaml"


def _gate(tmp_path: Path, program: Any, tools: dict[str, str], name: str) -> tuple[int, Path, str]:
    env = {**tools, "PLUGINGATE_PASSWORD": ""}
    keys = tmp_path / "keys"
    keys.mkdir(exist_ok=True)
    if not (keys / "k.key").exists():
        assert run_cli("keygen", "--output-prefix", keys / "k", env=env).code == 0
    bundle = write_bundle(tmp_path / name, program(name))
    out = tmp_path / f"out-{name}"
    digest = "sha256:" + hashlib.sha256(POLICY.read_bytes()).hexdigest()
    done = run_cli(
        "gate", bundle, "--policy", POLICY, "--policy-digest", digest, "--out", out,
        "--attest-key", keys / "k.key", "--probe", "--probe-duration", "3",
        env=env, timeout=600,
    )  # fmt: skip
    return done.code, out, done.stdout + done.stderr


def _predicate(out: Path) -> dict[str, Any]:
    for line in (out / "attestations.intoto.jsonl").read_text().splitlines():
        statement = json.loads(base64.b64decode(json.loads(line)["payload"]))
        if statement["predicateType"] == "https://plugingate.dev/attestation/gate/v2":
            predicate: dict[str, Any] = statement["predicate"]
            jsonschema.validate(predicate, load_schema("gate-attestation-predicate.schema.json"))
            return predicate
    raise AssertionError("no gate attestation")


def _report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, load_schema("report.schema.json"))
    jsonschema.validate(json.loads((out / "probe.json").read_text()), load_schema("probe.schema.json"))
    return report


def test_gate_probe_passes_a_plugin_that_does_what_it_declares(
    tmp_path: Path, program: Any, probe_tools: dict[str, str]
) -> None:
    code, out, output = _gate(tmp_path, program, probe_tools, "declared")
    assert code == 0, output
    step = next(s for s in _report(out)["steps"] if s["step"] == "probe")
    assert step["status"] == "passed" and step["details"]["images"] == ["plugin"]
    probe = _predicate(out)["probe"]
    assert probe["status"] == "passed" and probe["findings"] == [] and probe["memoryPeakBytes"] > 0


def test_gate_probe_denies_what_the_shadow_run_saw_and_attests_it(
    tmp_path: Path, program: Any, probe_tools: dict[str, str]
) -> None:
    code, out, output = _gate(tmp_path, program, probe_tools, "kubeapi")
    assert code == 1, output
    report = _report(out)
    step = next(s for s in report["steps"] if s["step"] == "probe")
    assert step["status"] == "failed" and {f["ruleId"] for f in step["findings"]} == {"PG-PRB-005"}
    predicate = _predicate(out)
    assert predicate["passed"] is False and "PG-PRB-005" in predicate["violations"]
    assert predicate["probe"]["findings"] == ["PG-PRB-005"]
    summary = (out / "summary.md").read_text()
    assert "PG-PRB-005" in summary and "**Shadow run** in gVisor" in summary
    assert report["tools"]["runsc"]
