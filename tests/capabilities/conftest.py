"""Builders for declarations and policies in the capability tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from plugingate.declaration import Declaration, parse_declaration
from plugingate.findings import Finding

DIGEST = "sha256:" + "ab" * 32

BASE: dict[str, Any] = {
    "apiVersion": "plugingate.dev/v1",
    "kind": "Plugin",
    "metadata": {"name": "demo", "version": "1.0.0", "publisher": "demo.example"},
    "spec": {
        "images": [{"name": "app", "ref": f"registry.example.com/demo/app@{DIGEST}"}],
        "manifests": "deploy/",
        "capabilities": {
            "network": {"egress": [{"host": "api.demo.example", "ports": [443], "reason": "push data"}]},
            "resources": {"cpu": "500m", "memory": "256Mi"},
        },
    },
}


def declaration(capabilities: dict[str, Any] | None = None, **spec: Any) -> Declaration:
    """A declaration: BASE with ``capabilities`` merged in section by section, and spec keys replaced."""
    data = copy.deepcopy(BASE)
    if capabilities is not None:
        data["spec"]["capabilities"].update(capabilities)
    data["spec"].update(spec)
    return parse_declaration(yaml.safe_dump(data, sort_keys=False).encode())


def rule_ids(findings: list[Finding]) -> list[str]:
    """Sorted rule ids of the findings."""
    return sorted(f.rule_id for f in findings)


@pytest.fixture
def declare() -> Callable[..., Declaration]:
    """The ``declaration`` builder."""
    return declaration
