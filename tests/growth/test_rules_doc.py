"""The growth rules are each documented in docs/runtime.md (Approvals), with the severity the code gives them."""

from __future__ import annotations

import re

from plugingate.findings import Step
from plugingate.growth.rules import RULES
from plugingate.rules import all_rules
from tests.conftest import REPO


def test_every_growth_rule_has_a_row_with_its_severity() -> None:
    text = (REPO / "docs" / "runtime.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(PG-GRW-\d{3})` \| (\w+)", text, re.MULTILINE))
    assert rows == {rule.id: str(rule.severity) for rule in RULES}


def test_growth_rules_are_registered() -> None:
    known = all_rules()
    assert all(known[rule.id] is rule and rule.step is Step.GROWTH for rule in RULES)


def test_the_policy_kinds_are_the_kinds_compared() -> None:
    from plugingate.growth import footprint
    from plugingate.policy import model

    assert footprint.GrowthKind is model.GrowthKind
    schema = (REPO / "plugingate" / "schemas" / "policy.schema.json").read_text(encoding="utf-8")
    assert all(f'"{k}"' in schema for k in model.GrowthKind)
