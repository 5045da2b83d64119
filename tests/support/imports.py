"""The package's import graph, read from the source with ``ast`` (nothing is imported to draw it).

What counts as an edge ``A -> B``: every ``import`` / ``from … import`` statement in module ``A`` that
names a ``plugingate`` module ``B``, wherever it stands: at module level, under ``if TYPE_CHECKING:``
and inside functions. NOTE: the lazy imports inside functions count too. They do not fail at import
time, but they are how the step packages and the pipeline depended on each other in a circle before;
a circle that only a lazy import closes is still a circle a reader has to untangle.

``from plugingate.x import y`` points at ``plugingate.x.y`` when that is a module, else at
``plugingate.x``. Parent packages that Python executes on the way (``plugingate/x/__init__.py``) are
not edges of their own: a package's ``__init__`` re-exporting its modules would otherwise close a
circle with every module of it that imports a sibling.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Edge:
    """One import: where it stands (module and line) and which module it names."""

    source: str
    target: str
    line: int


def module_names(package_dir: Path) -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its own name)."""
    root = package_dir.parent
    names: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, path: Path, known: dict[str, Path]) -> Iterator[Edge]:
    """The package modules ``module`` imports, anywhere in its text."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    top = next(iter(known)).split(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == top:
                    yield Edge(module, _deepest(alias.name, known), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node)
            if base.split(".")[0] != top:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield Edge(module, sub if sub in known else _deepest(base, known), node.lineno)


def _deepest(name: str, known: dict[str, Path]) -> str:
    parts = name.split(".")
    while parts and ".".join(parts) not in known:
        parts.pop()
    return ".".join(parts)


def import_graph(package_dir: Path) -> dict[str, list[Edge]]:
    """Each module's imports of other modules of the package (self-imports dropped)."""
    known = module_names(package_dir)
    return {
        name: [e for e in imports_of(name, path, known) if e.target and e.target != name]
        for name, path in known.items()
    }


def find_cycle(graph: dict[str, list[Edge]]) -> list[Edge] | None:
    """One import circle as the edges that close it, or ``None`` when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[Edge] = []

    def visit(node: str) -> list[Edge] | None:
        state[node] = 1
        for edge in graph.get(node, []):
            if state.get(edge.target) == 1:
                start = next((i for i, e in enumerate(path) if e.source == edge.target), len(path))
                return [*path[start:], edge]
            if edge.target not in state:
                path.append(edge)
                found = visit(edge.target)
                if found is not None:
                    return found
                path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found is not None:
                return found
    return None


def describe(cycle: list[Edge]) -> str:
    """``a (line 3) -> b (line 9) -> a``: the circle as a reader would walk it."""
    steps = [f"{e.source} (line {e.line})" for e in cycle]
    return " -> ".join([*steps, cycle[0].source])
