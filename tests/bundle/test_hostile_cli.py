"""Hostile bundles through the real CLI: ``python -m plugingate gate BUNDLE --out OUTDIR``.

The same archives as ``test_hostile.py``, plus hostile plugin.yaml files inside well-formed bundles.
Each run must end with exit 1 or 2 and a message naming the problem on stderr, within 60 s and
500 MB, with its TMPDIR empty afterwards and nothing written anywhere but OUTDIR.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

from .archives import HOSTILE_CASES, HostileCase, Member, write_tgz
from .conftest import Sandbox
from .measure import run_measured, snapshot

MAX_SECONDS = 60
MAX_MB = 500


def _gate(sandbox: Sandbox, bundle: Path, expect: str, codes: tuple[int, ...] = (1, 2)) -> str:
    before = snapshot(str(sandbox.base))
    cmd = [sys.executable, "-m", "plugingate", "gate", str(bundle), "--out", str(sandbox.out)]
    run = run_measured(cmd, env=sandbox.env(), cwd=str(sandbox.base), timeout=MAX_SECONDS * 2)
    assert run.rc in codes, f"exit {run.rc}\nstdout: {run.stdout}\nstderr: {run.stderr}"
    assert expect in run.stderr, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert run.seconds < MAX_SECONDS, f"took {run.seconds:.1f} s"
    assert run.max_rss_mb < MAX_MB, f"used {run.max_rss_mb:.0f} MB"
    assert list(sandbox.tmp.iterdir()) == [], "the temporary folder was removed"
    assert sandbox.changes(before) == set(), "nothing was written outside --out and the temporary folder"
    return run.stderr


@pytest.mark.parametrize("case", HOSTILE_CASES, ids=lambda c: c.id)
def test_hostile_archive_through_gate(case: HostileCase, sandbox: Sandbox) -> None:
    archive = case.build(sandbox.archives, sandbox.outside)
    stderr = _gate(sandbox, archive, case.expect)
    assert str(archive) in stderr


@pytest.mark.slow
def test_gzip_bomb_through_gate(zero_bomb: Path, sandbox: Sandbox) -> None:
    _gate(sandbox, zero_bomb, "inflates more than 200 times")


@pytest.mark.slow
def test_tar_of_zero_files_through_gate(tar_bomb: Path, sandbox: Sandbox) -> None:
    _gate(sandbox, tar_bomb, "inflates more than 200 times")


@pytest.mark.slow
def test_200000_tiny_files_through_gate(many_files: Path, sandbox: Sandbox) -> None:
    _gate(sandbox, many_files, "more than 20000 entries")


# -- hostile plugin.yaml in a well-formed bundle -------------------------------------------------------


def _billion_laughs() -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghij"
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


YAML_CASES = {
    "billion-laughs": lambda outside: _billion_laughs(),
    "python-object-tag": lambda outside: (
        f'apiVersion: !!python/object/apply:os.system ["touch {outside}/pwned"]\nkind: Plugin\n'.encode()
    ),
    "deep-nesting": lambda outside: b"spec: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "non-utf8": lambda outside: b"apiVersion: plugingate.dev/v1\nkind: Plugin\nmetadata:\n  name: \xff\xfe\x80acme\n",
}


@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_hostile_plugin_yaml_through_gate(case: str, sandbox: Sandbox) -> None:
    content = YAML_CASES[case](sandbox.outside)
    bundle = write_tgz(sandbox.archives / f"{case}.tgz", [Member("plugin.yaml", content)])
    _gate(sandbox, bundle, "plugin.yaml", codes=(2,))
    assert not (sandbox.outside / "pwned").exists()
