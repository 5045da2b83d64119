"""Attacks on the reading of the archive, through the real CLI: ``plugingate gate BUNDLE``.

Each archive is a real plugin (the ``minimal-deployment`` pass case) whose ``deploy/`` folder GNU
tar and Python's tarfile read differently: GNU tar extracts a privileged pod (host PID, host
network, ``/`` mounted) where Python's tarfile sees the harmless Deployment. The test first shows
with the real tools that the two readings differ, then that the gate refuses the bundle (exit 2)
with the rule id and the entry, before any other step runs.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Sandbox
from .measure import run_measured, snapshot
from .tarcraft import END, file, gz, header, long_name, pax

pytestmark = pytest.mark.integration

CASE = Path(__file__).resolve().parents[2] / "testdata" / "bundles" / "pass" / "minimal-deployment"
APP = "deploy/app.yaml"
PRIVILEGED = b"""apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  hostPID: true
  hostNetwork: true
  containers:
  - name: app
    image: registry.example.com/cases/app@sha256:3f1c9a4e0b7d52c8e6a1f09b84d3c7e25a6f1b0c9d8e7f6a5b4c3d2e1f0a9b8c
    securityContext: {privileged: true}
    volumeMounts: [{name: root, mountPath: /host}]
  volumes: [{name: root, hostPath: {path: /}}]
"""


def _start() -> bytes:
    return file("plugin.yaml", (CASE / "plugin.yaml").read_bytes()) + header("deploy/", b"5", mode=0o755)


def _harmless() -> bytes:
    return (CASE / APP).read_bytes()


def two_pax_headers() -> bytes:
    """Python's tarfile applies an entry's first pax header, GNU tar its last."""
    return (
        _start()
        + pax(("path", APP))
        + pax(("path", "notes/a.txt"))
        + file("a", _harmless())
        + pax(("path", "notes/b.txt"))
        + pax(("path", APP))
        + file("b", PRIVILEGED)
        + END
    )


def gnu_long_name_and_pax_path() -> bytes:
    """Python's tarfile lets the GNU long name win, GNU tar the pax path."""
    return (
        _start()
        + long_name(b"L", APP)
        + pax(("path", "notes/a.txt"))
        + file("a", _harmless())
        + long_name(b"L", "notes/b.txt")
        + pax(("path", APP))
        + file("b", PRIVILEGED)
        + END
    )


def two_gnu_long_names() -> bytes:
    """Python's tarfile keeps the first GNU long name, GNU tar the last."""
    return (
        _start()
        + long_name(b"L", APP)
        + long_name(b"L", "notes/a.txt")
        + file("a", _harmless())
        + long_name(b"L", "notes/b.txt")
        + long_name(b"L", APP)
        + file("b", PRIVILEGED)
        + END
    )


def bad_checksum_hides_the_rest() -> bytes:
    """Python's tarfile stops quietly at a header with a wrong checksum; GNU tar skips it and goes on."""
    bad = bytearray(header("junk", size=0))
    bad[148:154] = b"000001"
    return _start() + file(APP, _harmless()) + bytes(bad) + file("deploy/pod.yaml", PRIVILEGED) + END


def past_a_lone_zero_block() -> bytes:
    """Every reader stops at a zero block by default; `tar --ignore-zeros` goes on to the pod."""
    return _start() + file(APP, _harmless()) + bytes(512) + file("deploy/pod.yaml", PRIVILEGED) + END


ATTACKS: dict[str, tuple[Callable[[], bytes], str, list[str]]] = {
    "two-pax-headers": (two_pax_headers, "PG-BUN-004", []),
    "gnu-long-name-and-pax-path": (gnu_long_name_and_pax_path, "PG-BUN-004", []),
    "two-gnu-long-names": (two_gnu_long_names, "PG-BUN-004", []),
    "bad-checksum-hides-the-rest": (bad_checksum_hides_the_rest, "PG-BUN-004", []),
    "past-a-lone-zero-block": (past_a_lone_zero_block, "PG-BUN-002", ["--ignore-zeros"]),
}


def _deploy(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((root / "deploy").glob("*")) if p.is_file())


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_bundle_gnu_tar_and_tarfile_read_apart_is_refused(attack: str, sandbox: Sandbox) -> None:
    build, expect, gnu_options = ATTACKS[attack]
    archive = sandbox.archives / f"{attack}.tgz"
    archive.write_bytes(gz(build()))

    gnu = sandbox.base / "gnu"
    gnu.mkdir()
    subprocess.run(["tar", *gnu_options, "-xf", str(archive), "-C", str(gnu)], capture_output=True, check=False)
    python = sandbox.base / "python"
    with tarfile.open(archive) as tar:
        tar.extractall(python, filter="data")
    assert b"privileged: true" in _deploy(gnu), "GNU tar extracts the privileged pod under deploy/"
    assert b"privileged" not in _deploy(python) and _deploy(python) == _harmless(), "tarfile sees the harmless app"

    before = snapshot(str(sandbox.base))
    cmd = [sys.executable, "-m", "plugingate", "gate", str(archive), "--out", str(sandbox.out)]
    run = run_measured(cmd, env=sandbox.env(), cwd=str(sandbox.base), timeout=120)
    assert run.rc == 2, f"exit {run.rc}\nstdout: {run.stdout}\nstderr: {run.stderr}"
    assert expect in run.stderr and str(archive) in run.stderr, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert list(sandbox.tmp.iterdir()) == [], "the temporary folder was removed"
    assert sandbox.changes(before) == set(), "nothing was written outside --out"
    assert not (sandbox.out / "attestations.intoto.jsonl").exists()
