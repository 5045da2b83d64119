"""The granted set for the attestation, and the rule table."""

from __future__ import annotations

import json
import re
from pathlib import Path

from plugingate.capabilities import granted_capabilities
from plugingate.capabilities.rules import RULES as CAP_RULES
from plugingate.findings import Step
from plugingate.manifests.rules import RULES as MAN_RULES
from plugingate.rules import all_rules

from .conftest import declaration

DOCS = Path(__file__).resolve().parents[2] / "docs" / "capabilities.md"


def test_granted_is_json_and_exact() -> None:
    decl = declaration(
        {
            "secrets": [{"name": "acme-token", "keys": ["token"], "as": "env"}],
            "kubernetes": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
        }
    )
    granted = granted_capabilities(decl)
    assert json.loads(json.dumps(granted)) == granted
    assert granted["network"] == {
        "egress": [{"host": "api.demo.example", "ports": [443], "protocol": "TCP"}],
        "ingress": [],
    }
    assert granted["secrets"] == [{"name": "acme-token", "keys": ["token"], "as": "env"}]
    assert granted["kubernetes"] == {
        "clusterScope": False,
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    }
    assert granted["resources"] == {"cpu": "500m", "memory": "256Mi"}
    assert granted["privileges"]["runAsNonRoot"] is True  # type: ignore[index]


def test_rule_ids_are_unique_well_formed_and_registered() -> None:
    known = all_rules()
    for rule in (*CAP_RULES, *MAN_RULES):
        assert known[rule.id] is rule
    assert all(re.fullmatch(r"PG-CAP-0\d\d", r.id) and r.step is Step.CAPABILITIES for r in CAP_RULES)
    assert all(re.fullmatch(r"PG-MAN-0\d\d", r.id) and r.step is Step.MANIFESTS for r in MAN_RULES)


def test_every_rule_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for rule in (*CAP_RULES, *MAN_RULES):
        assert f"`{rule.id}`" in text, rule.id
