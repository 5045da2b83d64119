"""The rendered set's digest in the gate attestation (``runtimeControls``), as the schema describes it."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from plugingate.capabilities.step import _runtime_controls
from plugingate.declaration import load_declaration
from plugingate.policy.model import GatePolicy
from plugingate.schemas import load_schema
from tests.attestation.conftest import make_predicate

from .conftest import EXAMPLE, example_data, render_data


def test_the_predicate_carries_the_rendered_digest(policy: GatePolicy) -> None:
    summary = render_data(example_data(), policy).summary()
    predicate = make_predicate(runtime_controls=summary).to_dict()
    assert predicate["runtimeControls"]["digest"] == summary["digest"]
    assert "Namespace/acme-exporter" in predicate["runtimeControls"]["objects"]
    jsonschema.validate(predicate, load_schema("gate-attestation-predicate.schema.json"))
    # NOTE: optional: a predicate without it (the declaration was denied) is still valid.
    jsonschema.validate(make_predicate().to_dict(), load_schema("gate-attestation-predicate.schema.json"))


def test_the_schema_refuses_a_malformed_digest(policy: GatePolicy) -> None:
    summary = dict(render_data(example_data(), policy).summary())
    summary["digest"] = "sha256:XYZ"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            make_predicate(runtime_controls=summary).to_dict(), load_schema("gate-attestation-predicate.schema.json")
        )


class _Request:
    def __init__(self, policy: GatePolicy) -> None:
        self.policy = policy


class _Context:
    def __init__(self, policy: GatePolicy) -> None:
        self.declaration = load_declaration(EXAMPLE)
        self.request = _Request(policy)


def test_the_gate_renders_under_the_policys_runtime_settings(policy: GatePolicy) -> None:
    import dataclasses

    ctx: Any = _Context(policy)
    # NOTE: the default policy names no API server and the example declares API rules: nothing to attest.
    assert _runtime_controls(ctx) is None
    with_api = dataclasses.replace(
        policy, runtime=dataclasses.replace(policy.runtime, api_server_cidrs=("10.0.0.1/32",))
    )
    controls = _runtime_controls(_Context(with_api))  # type: ignore[arg-type]
    assert controls is not None
    assert controls["digest"] == render_data(example_data(), with_api).digest
