"""Fast checks of the chart parts that need no Helm: the rules table, the Source split, Helm's lock hash."""

from __future__ import annotations

import re

import yaml

from plugingate.packaging.chart_rules import RULES
from plugingate.packaging.chart_scan import hash_req
from plugingate.packaging.helm import split_sources
from plugingate.rules import all_rules
from tests.conftest import REPO

DOCS = REPO / "docs" / "packaging.md"


def test_rules_table_lists_exactly_the_chart_rules() -> None:
    rows = re.findall(r"^\| `(PG-CHART-\d{3})` \| (\w+) \| ([^|]+?) \|", DOCS.read_text(encoding="utf-8"), flags=re.M)
    assert {i: (s, t) for i, s, t in rows} == {r.id: (str(r.severity), r.title) for r in RULES}
    assert len(rows) == len(RULES)
    known = all_rules()
    assert all(known[r.id] is r for r in RULES)


def test_split_keeps_every_document_under_its_source() -> None:
    output = (
        "---\n# Source: app/templates/a.yaml\nkind: A\n---\n# Source: app/templates/b.yaml\nkind: B1\n"
        "---\nkind: B2\n---\n# Source: app/templates/a.yaml\nkind: A2\n"
    )
    parts = split_sources(output)
    assert [p.source for p in parts] == ["app/templates/a.yaml", "app/templates/b.yaml"]
    assert [d["kind"] for d in yaml.safe_load_all(parts[0].text) if d] == ["A", "A2"]
    assert [d["kind"] for d in yaml.safe_load_all(parts[1].text) if d] == ["B1", "B2"]
    # NOTE: every document of the output is in exactly one part, in its order within the part.
    every = [d["kind"] for d in yaml.safe_load_all(output) if d]
    assert sorted(every) == sorted(d["kind"] for p in parts for d in yaml.safe_load_all(p.text) if d)


def test_split_does_not_cut_on_an_indented_separator() -> None:
    output = "---\n# Source: app/templates/c.yaml\nkind: C\ndata:\n  x: |\n    ---\n    y\n"
    [part] = split_sources(output)
    assert yaml.safe_load(part.text)["data"]["x"] == "---\ny\n"


def test_lock_hash_is_helms() -> None:
    """The digests `helm dependency update` wrote into the chart cases' Chart.lock files."""
    for case in ("deny/chart-lookup", "deny/chart-dependency-not-vendored"):
        chart = REPO / "testdata" / "bundles" / case / "chart"
        deps = yaml.safe_load((chart / "Chart.yaml").read_text())["dependencies"]
        lock = yaml.safe_load((chart / "Chart.lock").read_text())
        assert hash_req(deps, lock["dependencies"]) == lock["digest"]
        assert hash_req([{**deps[0], "version": "9.9.9"}], lock["dependencies"]) != lock["digest"]
