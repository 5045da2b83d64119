"""A gate that signs nothing reports the statements' types without reading a large SBOM whole."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from plugingate.attestation import step as attestation_gate
from plugingate.attestation.step import attest_step, build_statements
from plugingate.errors import InputError
from plugingate.findings import Step
from plugingate.result import GateResult, StepResult
from plugingate.sbom.generate import SbomResult

from .test_gate_step import context, gate_result

CYCLONEDX = "https://cyclonedx.org/bom"

SBOMS = {
    "syft-compact": b'{"$schema":"http://cyclonedx.org/schema/bom-1.6.schema.json","bomFormat":"CycloneDX","x":1}',
    "syft-indented": b'{\n "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",\n "bomFormat": "CycloneDX"\n}',
    "bomformat-later": b'{"specVersion":"1.6","bomFormat":"CycloneDX"}',
    "spdx": b'{"spdxVersion":"SPDX-2.3","bomFormat":"CycloneDX-ish"}',
    "not-cyclonedx": b'{"bomFormat":"CycloneDXX"}',
    "array": b'[{"bomFormat":"CycloneDX"}]',
}


def with_recorded_sbom(result: GateResult, sha256: str) -> GateResult:
    steps = tuple(
        replace(s, details={**s.details, "sha256": sha256}, outcome=replace(s.outcome, sha256=sha256))
        if s.step is Step.SBOM and isinstance(s.outcome, SbomResult)
        else s
        for s in result.steps
    )
    return replace(result, steps=steps)


def plan(tmp_path: Path, sbom: bytes, *, record: bool, embed: bool) -> tuple[list[str | None], list[str]]:
    ctx = context(tmp_path)
    (ctx.out_dir / "sbom.cdx.json").write_bytes(sbom)
    (ctx.out_dir / "vulns.json").write_text(json.dumps({"matches": []}))
    result = gate_result()
    if record:
        result = with_recorded_sbom(result, hashlib.sha256(sbom).hexdigest())
    statements, _, notes = build_statements(result, ctx, ctx.out_dir, embed=embed)
    return [s["predicateType"] for s in statements], [f.message for f in notes]


@pytest.mark.parametrize("name", sorted(SBOMS))
@pytest.mark.parametrize("record", [True, False])
def test_unsigned_plan_names_the_same_statements_as_the_signed_one(tmp_path: Path, name: str, record: bool) -> None:
    assert plan(tmp_path, SBOMS[name], record=record, embed=False) == plan(
        tmp_path, SBOMS[name], record=record, embed=True
    )


def test_the_recorded_sbom_is_not_read_whole_when_nothing_is_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    real = attestation_gate._read_json

    def spy(path: Path) -> object:
        read.append(path.name)
        return real(path)

    monkeypatch.setattr(attestation_gate, "_read_json", spy)
    ctx = context(tmp_path)
    sbom = SBOMS["syft-compact"]
    (ctx.out_dir / "sbom.cdx.json").write_bytes(sbom)
    (ctx.out_dir / "vulns.json").write_text(json.dumps({"matches": []}))
    step, outputs = attest_step(ctx, with_recorded_sbom(gate_result(), hashlib.sha256(sbom).hexdigest()))
    assert outputs == {} and [f.rule_id for f in step.findings] == ["PG-ATT-020"]
    assert step.details["predicateTypes"][1] == CYCLONEDX
    assert read == ["vulns.json"]


def test_a_changed_sbom_is_read_whole_and_still_fails_as_before(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    (ctx.out_dir / "sbom.cdx.json").write_bytes(b'{"bomFormat":"CycloneDX", broken')
    recorded = with_recorded_sbom(gate_result(), hashlib.sha256(SBOMS["syft-compact"]).hexdigest())
    with pytest.raises(InputError, match="not JSON"):
        attest_step(ctx, recorded)


def test_a_missing_sbom_is_noted_when_nothing_is_signed(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    step, _ = attest_step(ctx, with_recorded_sbom(gate_result(), "e" * 64))
    assert [f.rule_id for f in step.findings] == ["PG-ATT-020", "PG-ATT-021", "PG-ATT-021"]
    assert isinstance(step, StepResult) and step.details["predicateTypes"] == [
        "https://plugingate.dev/attestation/gate/v2",
        "https://slsa.dev/verification_summary/v1",
    ]
