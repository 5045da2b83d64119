"""No import circle in ``plugingate/``, and the pipeline's contract imports no step package.

The graph is read from the source (``tests/support/imports.py`` says which imports count: all of them,
module level, ``TYPE_CHECKING`` blocks and inside functions). The tests of the walker itself run it on
small packages written into ``tmp_path``, so that a walker that sees nothing cannot pass for a clean
package.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.imports import describe, find_cycle, import_graph, module_names

PACKAGE = REPO / "plugingate"
CONTRACT = "plugingate.pipeline"


def step_packages() -> list[str]:
    """The packages that hold a step: each has a ``step.py`` adapter."""
    return sorted(f"plugingate.{p.parent.name}" for p in PACKAGE.glob("*/step.py"))


def test_no_import_circle_in_the_package() -> None:
    cycle = find_cycle(import_graph(PACKAGE))
    assert cycle is None, f"import circle in plugingate/: {describe(cycle)}"


def test_the_contract_imports_no_step_package() -> None:
    steps = step_packages()
    assert {"plugingate.signature", "plugingate.provenance", "plugingate.sbom", "plugingate.attestation"} <= set(steps)
    edges = import_graph(PACKAGE)[CONTRACT]
    into_steps = [e for e in edges if any(e.target == s or e.target.startswith(s + ".") for s in steps)]
    assert not into_steps, f"{CONTRACT} imports step packages: {[(e.target, e.line) for e in into_steps]}"


def test_every_step_adapter_takes_its_contract_from_the_pipeline() -> None:
    graph = import_graph(PACKAGE)
    for package in step_packages():
        targets = {e.target for e in graph[f"{package}.step"]}
        assert "plugingate.steps" not in targets, f"{package}.step imports plugingate.steps back"
        assert "plugingate.gate" not in targets, f"{package}.step imports plugingate.gate back"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


@pytest.mark.parametrize(
    ("how", "a_text"),
    [
        ("module level", "from pkg.b import x\n"),
        ("plain import", "import pkg.b\n"),
        ("relative", "from .b import x\n"),
        ("relative module", "from . import b\n"),
        ("TYPE_CHECKING", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import x\n"),
        ("inside a function", "def f():\n    from pkg.b import x\n    return x\n"),
    ],
)
def test_a_circle_is_found_however_the_import_is_written(tmp_path: Path, how: str, a_text: str) -> None:
    pkg = _write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": a_text, "pkg/b.py": "def f():\n    import pkg.a\n"})
    cycle = find_cycle(import_graph(pkg))
    assert cycle is not None, how
    assert {e.source for e in cycle} == {"pkg.a", "pkg.b"}, how
    assert "pkg.b (line 2)" in describe(cycle)


def test_a_circle_through_a_subpackage_names_every_module(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/steps.py": "from pkg.sig.gate import run\n",
            "pkg/sig/__init__.py": "",
            "pkg/sig/gate.py": "from pkg.contract import Ctx\n",
            "pkg/contract.py": "from pkg import steps\n",
        },
    )
    cycle = find_cycle(import_graph(pkg))
    assert cycle is not None
    assert {e.source for e in cycle} == {"pkg.steps", "pkg.sig.gate", "pkg.contract"}


def test_a_package_re_exporting_its_modules_is_no_circle(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "from pkg.sub.a import A\nfrom pkg.sub.b import B\n",
            "pkg/sub/a.py": "from pkg.sub.b import B\nA = B\n",
            "pkg/sub/b.py": "B = 1\n",
        },
    )
    assert set(module_names(pkg)) == {"pkg", "pkg.sub", "pkg.sub.a", "pkg.sub.b"}
    assert find_cycle(import_graph(pkg)) is None


def test_the_walker_sees_the_real_package() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 100
    assert {e.target for e in graph["plugingate.gate"]} >= {"plugingate.pipeline", "plugingate.steps"}
    assert any(e.target == "plugingate.pipeline" for e in graph["plugingate.signature.step"])
