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


def documented_rules(text: str) -> dict[str, tuple[str, str]]:
    """``{id: (severity, title)}`` of the rules tables; a rule listed twice is an error."""
    rows = re.findall(r"^\| `(PG-(?:CAP|MAN)-\d{3})` \| (\w+) \| ([^|]+?) \|", text, flags=re.M)
    ids = [row[0] for row in rows]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    return {rule_id: (severity, title) for rule_id, severity, title in rows}


def registry() -> dict[str, tuple[str, str]]:
    return {r.id: (str(r.severity), r.title) for r in (*CAP_RULES, *MAN_RULES)}


def test_rules_table_matches_the_registry() -> None:
    """docs/capabilities.md lists exactly the rules of the code, each once, with its severity and title."""
    assert documented_rules(DOCS.read_text(encoding="utf-8")) == registry()


def test_rules_table_check_sees_a_drift() -> None:
    """A severity, a missing row or a row too many in the table would not pass unseen."""
    text = DOCS.read_text(encoding="utf-8")
    assert documented_rules(text.replace("| `PG-MAN-087` | error |", "| `PG-MAN-087` | warning |")) != registry()
    row = next(line for line in text.splitlines() if line.startswith("| `PG-CAP-036`"))
    assert documented_rules(text.replace(row + "\n", "")) != registry()
    extra = "| `PG-MAN-099` | error | Made up | x | y | z |\n"
    assert documented_rules(text.replace(row + "\n", row + "\n" + extra)) != registry()
