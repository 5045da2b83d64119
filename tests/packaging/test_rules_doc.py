"""docs/packaging.md lists exactly the packaging rules, each with its severity and title, and a deny case each."""

from __future__ import annotations

import re

from plugingate.packaging.rules import RULES
from plugingate.rules import all_rules
from tests.conftest import REPO

DOC = REPO / "docs" / "packaging.md"


def documented(text: str) -> dict[str, tuple[str, str]]:
    rows = re.findall(r"^\| `(PG-(?:KUS|OLM)-\d{3})` \| (\w+) \| ([^|]+?) \|", text, flags=re.M)
    ids = [row[0] for row in rows]
    assert len(ids) == len(set(ids))
    return {rule_id: (severity, title) for rule_id, severity, title in rows}


def test_the_rules_table_matches_the_registry() -> None:
    assert documented(DOC.read_text(encoding="utf-8")) == {r.id: (str(r.severity), r.title) for r in RULES}


def test_the_rules_are_registered_and_well_formed() -> None:
    known = all_rules()
    for rule in RULES:
        assert known[rule.id] is rule and re.fullmatch(r"PG-(KUS|OLM)-0\d\d", rule.id)


def test_the_table_check_sees_a_drift() -> None:
    text = DOC.read_text(encoding="utf-8")
    registry = {r.id: (str(r.severity), r.title) for r in RULES}
    assert documented(text.replace("| `PG-KUS-002` | error |", "| `PG-KUS-002` | warning |")) != registry
    assert documented(re.sub(r"^\| `PG-OLM-004`.*\n", "", text, flags=re.M)) != registry


def test_the_doc_has_a_heading_per_form() -> None:
    headings = re.findall(r"^## (.+)$", DOC.read_text(encoding="utf-8"), flags=re.M)
    assert {"Helm charts", "Kustomize", "Operator (OLM) bundles"} <= set(headings)
