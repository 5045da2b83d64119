"""``plugingate diff`` on every pair of versions under testdata/growth: exactly the expected growth items.

The in-process test reads each version as the gate does (safe open, the declaration loader, the
manifests loader with Kubernetes' reading beside); the CLI test runs ``plugingate diff`` itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plugingate.growth.compare import compare
from plugingate.growth.read import ReadVersion
from plugingate.policy.model import GrowthKind
from tests.conftest import run_cli
from tests.growth.conftest import CASES, GROWTH, expected
from tests.manifests.kube import require_helper


def test_the_committed_cases_are_what_the_generator_writes(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_cases", GROWTH / "make_cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_all(tmp_path)
    written = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(GROWTH): p.read_bytes()
        for p in GROWTH.rglob("*")
        if p.is_file() and p.parent != GROWTH and "__pycache__" not in p.parts
    }
    assert written == committed


def test_every_kind_of_growth_and_each_attack_has_a_case() -> None:
    kinds = {item.split(":", 1)[0] for case in CASES for item in expected(case)["items"]}
    assert kinds == {str(k) for k in GrowthKind}
    names = {c.name for c in CASES}
    assert {"reordered", "narrowed", "new-digest", "rbac-merged-same"} <= names  # no growth
    assert {"host-spelling", "port-as-string", "rbac-merged", "rbac-star-verb"} <= names  # hidden growth
    assert {"manifest-only-rbac", "manifest-only-secret", "manifest-only-privilege"} <= names
    assert [c.name for c in CASES if not expected(c)["items"]] == sorted(
        ["narrowed", "new-digest", "rbac-merged-same", "reordered"]
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_in_process(case: Path, versions: dict[str, tuple[ReadVersion, ReadVersion]]) -> None:
    require_helper()
    old, new = versions[case.name]
    growth = compare(old.footprint, new.footprint)
    data = expected(case)
    assert [i.id for i in growth.items] == data["items"]
    assert [u.repository for u in growth.updates] == data["updates"]
    for item in growth.items:
        assert item.sources or item.detail, item  # every item says where it comes from
    # NOTE: nothing is growth of a version over itself, and the reverse of growth is no growth of the same items.
    assert compare(new.footprint, new.footprint).items == ()


@pytest.mark.integration
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_through_cli(case: Path) -> None:
    require_helper()
    run = run_cli("diff", case / "old", case / "new", "--format", "json")
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    data = expected(case)
    assert [i["id"] for i in report["growth"]] == data["items"]
    assert [u["repository"] for u in report["imageUpdates"]] == data["updates"]
    assert report["old"]["version"] == "1.0.0" and report["new"]["version"] == "1.1.0"
    assert len(report["new"]["sha256"]) == 64


@pytest.mark.integration
def test_text_and_markdown_list_the_same_items() -> None:
    require_helper()
    case = GROWTH / "resources"
    text = run_cli("diff", case / "old", case / "new")
    markdown = run_cli("diff", case / "old", case / "new", "--format", "markdown")
    assert text.code == markdown.code == 0
    for item in expected(case)["items"]:
        assert f"+ {item}" in text.stdout and f"`{item}`" in markdown.stdout
    assert "256Mi" not in text.stdout and "268435456 -> 536870912" in text.stdout
    same = run_cli("diff", case / "old", case / "old")
    assert "no growth" in same.stdout


@pytest.mark.integration
def test_an_archive_and_its_folder_compare_alike(tmp_path: Path) -> None:
    require_helper()
    case = GROWTH / "egress-host"
    packed = tmp_path / "new.tgz"
    assert run_cli("pack", case / "new", "-o", packed).code == 0
    run = run_cli("diff", case / "old", packed, "--format", "json")
    assert run.code == 0, run.stderr
    assert [i["id"] for i in json.loads(run.stdout)["growth"]] == expected(case)["items"]


def test_bad_input_exits_2(tmp_path: Path) -> None:
    not_a_bundle = tmp_path / "x.tgz"
    not_a_bundle.write_bytes(b"not an archive")
    run = run_cli("diff", GROWTH / "egress-host" / "old", not_a_bundle)
    assert run.code == 2 and "x.tgz" in run.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "plugin.yaml").write_text("apiVersion: plugingate.dev/v1\nkind: Plugin\nmetadata: {}\n")
    run = run_cli("diff", broken, GROWTH / "egress-host" / "new")
    assert run.code == 2 and "plugin.yaml" in run.stderr


@pytest.mark.integration
def test_a_manifest_kubernetes_reads_otherwise_is_refused(tmp_path: Path) -> None:
    """Growth hidden from one reader: a merge key kubectl lets override the rule's resources (it would apply
    ``secrets``, the Python reading sees ``pods``). diff reads as the gate does, so it refuses the bundle (exit 2)."""
    require_helper()
    import shutil

    new = tmp_path / "new"
    shutil.copytree(GROWTH / "rbac-verb" / "new", new)
    rbac = new / "deploy" / "rbac.yaml"
    text = rbac.read_text()
    rbac.write_text(
        text.replace("  - delete\n---", "  - delete\n  <<: [{verbs: [escalate]}, {resources: [secrets]}]\n---", 1)
    )
    assert rbac.read_text() != text
    run = run_cli("diff", GROWTH / "rbac-verb" / "old", new)
    assert run.code == 2, (run.stdout, run.stderr)
    assert "kubectl reads string 'secrets'" in run.stderr and "ambiguous" in run.stderr


@pytest.mark.integration
def test_without_kubernetes_reading_diff_cannot_decide(tmp_path: Path) -> None:
    """diff never compares manifests read only one way: no working helper is exit 3, not a quiet comparison."""
    require_helper()
    case = GROWTH / "egress-host"
    env = {"PLUGINGATE_K8SDECODE": str(tmp_path / "no-such-k8sdecode"), "PLUGINGATE_CACHE": str(tmp_path / "cache")}
    run = run_cli("diff", case / "old", case / "new", env=env)
    assert run.code == 3, run.stdout + run.stderr
    assert "PLUGINGATE_K8SDECODE=" in run.stderr and "Traceback" not in run.stderr
