"""One definition per concept: the names that were defined twice (issue 10) are defined once.

Read from the source with ``ast``: a class, or a module-level alias (``GateMode = Mode``), of the
same name in two modules is a second definition, whatever it is made of.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import REPO

ONCE = ("TrustedSigner", "SignerKind", "SignatureResult", "ProvenanceResult", "Mode")
GONE = ("GateMode", "KeylessSigner", "KeySigner", "Signer", "AppliedException")


def definitions(package: Path) -> dict[str, list[str]]:
    """Where each class or module-level alias is defined (module paths, relative to the package's parent)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(package.parent))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                found[node.name].append(where)
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id].append(where)
    return found


@pytest.fixture(scope="module")
def package() -> dict[str, list[str]]:
    return definitions(REPO / "plugingate")


@pytest.mark.parametrize("name", ONCE)
def test_defined_once(name: str, package: dict[str, list[str]]) -> None:
    assert len(package[name]) == 1, package[name]


@pytest.mark.parametrize("name", GONE)
def test_the_second_definition_is_gone(name: str, package: dict[str, list[str]]) -> None:
    assert package[name] == []


def test_an_alias_counts_as_a_second_definition(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("class Mode:\n    pass\n")
    (package / "b.py").write_text("from pkg.a import Mode\nGateMode = Mode\nclass Mode2(Mode):\n    pass\n")
    found = definitions(package)
    assert found["Mode"] == ["pkg/a.py"] and found["GateMode"] == ["pkg/b.py"]
