"""Every hostile archive is refused by ``open_bundle``, in a subprocess, measured.

Each case must end with exit 2 and a message naming the problem, within 60 s and 500 MB, leave its
TMPDIR empty and change nothing else in the sandbox.
"""

from __future__ import annotations

import sys

import pytest

from .archives import HOSTILE_CASES, HostileCase
from .conftest import Sandbox
from .measure import run_measured, snapshot

OPEN = """
import sys
from pathlib import Path
from plugingate.bundle import open_bundle
from plugingate.errors import Error
try:
    with open_bundle(Path(sys.argv[1])) as bundle:
        print(bundle.sha256, bundle.files)
except Error as exc:
    print(exc.diagnostics(), file=sys.stderr)
    sys.exit(int(exc.exit_code))
"""

MAX_SECONDS = 60
MAX_MB = 500


def _refused(sandbox: Sandbox, archive: str, expect: str) -> None:
    before = snapshot(str(sandbox.base))
    run = run_measured([sys.executable, "-c", OPEN, archive], env=sandbox.env(), timeout=MAX_SECONDS * 2)
    assert run.rc == 2, f"exit {run.rc}\nstdout: {run.stdout}\nstderr: {run.stderr}"
    assert expect in run.stderr, run.stderr
    assert archive in run.stderr, "the message names the archive"
    assert "hint:" in run.stderr, "the message says what to do"
    assert run.seconds < MAX_SECONDS, f"took {run.seconds:.1f} s"
    assert run.max_rss_mb < MAX_MB, f"used {run.max_rss_mb:.0f} MB"
    assert list(sandbox.tmp.iterdir()) == [], "the temporary folder was removed"
    assert sandbox.changes(before) == set(), "nothing was written outside the temporary folder"


@pytest.mark.parametrize("case", HOSTILE_CASES, ids=lambda c: c.id)
def test_hostile_archive_is_refused(case: HostileCase, sandbox: Sandbox) -> None:
    archive = case.build(sandbox.archives, sandbox.outside)
    _refused(sandbox, str(archive), case.expect)


@pytest.mark.slow
def test_gzip_bomb_of_zeros_stops_early(zero_bomb: object, sandbox: Sandbox) -> None:
    _refused(sandbox, str(zero_bomb), "inflates more than 200 times")


@pytest.mark.slow
def test_tar_of_zero_files_within_size_limits_stops_on_ratio(tar_bomb: object, sandbox: Sandbox) -> None:
    _refused(sandbox, str(tar_bomb), "inflates more than 200 times")


@pytest.mark.slow
def test_200000_tiny_files_stop_at_the_file_limit(many_files: object, sandbox: Sandbox) -> None:
    _refused(sandbox, str(many_files), "more than 20000 entries")
