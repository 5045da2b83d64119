"""The bundle step's rules are each documented in docs/bundle.md, with the severity the code gives them."""

from __future__ import annotations

import re
from pathlib import Path

from plugingate.bundle.rules import RULES
from plugingate.findings import Step
from plugingate.rules import all_rules

DOCS = Path(__file__).resolve().parents[2] / "docs" / "bundle.md"


def test_every_bundle_rule_has_a_row_with_its_severity() -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(PG-BUN-\d{3})` \| (\w+)", text, re.MULTILINE))
    assert rows == {rule.id: str(rule.severity) for rule in RULES}


def test_bundle_rules_are_registered() -> None:
    known = all_rules()
    assert all(known[rule.id] is rule and rule.step is Step.BUNDLE for rule in RULES)
