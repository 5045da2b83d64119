"""The sigstore private API is used in one adapter, and the library still has what it relies on.

``check_internals`` runs against the installed library: an upgrade that renames or reshapes any
private method, attribute or module the adapter uses fails here, naming it and the adapter. A source
scan keeps every other module off the library's private names.
"""

from __future__ import annotations

import ast
from importlib.metadata import version
from pathlib import Path

import pytest

from plugingate.signature import sigstore_adapter
from plugingate.signature.sigstore_adapter import INTERNALS, Internal, check_internals
from tests.conftest import REPO

ADAPTER = "plugingate/signature/sigstore_adapter.py"


def test_the_installed_sigstore_has_every_internal_the_adapter_relies_on() -> None:
    problems = check_internals()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("internal", "expected"),
    [
        (Internal("sigstore.verify", "Verifier._verify_signed_tstamp", ("self",)), "is gone"),
        (
            Internal("sigstore.verify", "Verifier._establish_time", ("self", "bundle", "now")),
            "takes ('self', 'bundle'), not ('self', 'bundle', 'now')",
        ),
        (Internal("sigstore.models", "Bundle", None, ("self._log_entries",)), "no longer mentions self._log_entries"),
        (Internal("sigstore._internal.nothing", "X"), "is gone"),
    ],
)
def test_a_changed_internal_is_named_with_the_adapter_to_revisit(
    monkeypatch: pytest.MonkeyPatch, internal: Internal, expected: str
) -> None:
    monkeypatch.setattr(sigstore_adapter, "INTERNALS", (*INTERNALS, internal))
    problems = check_internals()
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"sigstore {version('sigstore')} changed {internal.describe()}")
    assert expected in problems[0]
    assert problems[0].endswith(f"the adapter in {ADAPTER} must be revisited")


def _private_names() -> set[str]:
    """The private names the adapter relies on: ``_verify``, ``_inner``, ``_trusted_root`` and the like."""
    names: set[str] = set()
    for internal in INTERNALS:
        names.update(p for p in internal.name.split(".") if p.startswith("_") and not p.startswith("__"))
        names.update(m.removeprefix("self.") for m in internal.source_mentions)
    return names


def _uses(path: Path, private: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] in {"sigstore", "sigstore_models"}
        ):
            if any(part.startswith("_") for part in node.module.split(".")) or any(
                a.name.startswith("_") for a in node.names
            ):
                found.append(f"line {node.lineno}: from {node.module} import …")
        elif isinstance(node, ast.Attribute) and node.attr in private:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("sigstore._"):
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def _imports_sigstore(path: Path) -> bool:
    """Whether a module imports the library at all (only then can ``._verify`` be the library's)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(n.split(".")[0] in {"sigstore", "sigstore_models"} for n in names):
            return True
    return False


def test_no_module_but_the_adapter_uses_sigstore_internals() -> None:
    private = _private_names()
    assert {"_verify", "_inner", "_trusted_root", "_dsse_envelope"} <= private
    # NOTE: a module of ours may have a ``_verify`` of its own; the library's names count where it is used.
    found = {
        str(p.relative_to(REPO)): uses
        for p in sorted((REPO / "plugingate").rglob("*.py"))
        if str(p.relative_to(REPO)) != ADAPTER and _imports_sigstore(p) and (uses := _uses(p, private))
    }
    assert found == {}


def test_the_scan_sees_private_use(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "from sigstore._internal.trust import KeyringPurpose\n"
        "def f(bundle, entry):\n"
        "    entry._verify(None)\n"
        "    return bundle._inner, 'sigstore._store'\n"
    )
    assert len(_uses(path, _private_names())) == 4 and _imports_sigstore(path)
    assert _uses(REPO / ADAPTER, _private_names())
