"""The probe's rules: registered, well formed, and each documented in docs/runtime.md with its severity and title."""

from __future__ import annotations

import re

from plugingate.findings import Step
from plugingate.probe.rules import RULES
from plugingate.rules import all_rules
from tests.conftest import REPO

DOCS = REPO / "docs" / "runtime.md"


def test_every_probe_rule_has_a_row_with_its_severity_and_title() -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = {
        rid: (sev, title.strip())
        for rid, sev, title in re.findall(r"^\| `(PG-PRB-\d{3})` \| (\w+) \| ([^|]+)\|", text, re.M)
    }
    assert rows == {rule.id: (str(rule.severity), rule.title) for rule in RULES}


def test_probe_rules_are_registered_and_well_formed() -> None:
    known = all_rules()
    for rule in RULES:
        assert known[rule.id] is rule and rule.step is Step.PROBE
        assert re.fullmatch(r"PG-PRB-0\d\d", rule.id)
