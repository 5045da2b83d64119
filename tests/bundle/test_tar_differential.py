"""The tar differential suite: the gate refuses an archive, or unpacks exactly what every extractor does.

Over a hundred archives built by the project (``tarcases``): every extended-header combination
(several pax headers, GNU long names with pax paths, global headers, sparse files, odd numbers and
checksums, data after the end) and ordinary ones, some written by GNU tar, bsdtar, Python's tarfile
and ``plugingate pack`` themselves. For each, GNU tar, bsdtar, Python's tarfile (data filter) and Go's
archive/tar (``tools/tarlist``) say what they extract; where the gate unpacks the archive, its tree
must equal each of theirs, file for file (type, content hash, link target, executable bit).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from plugingate.tools.locate import tools_dir

from .extractors import Refused, Tree, bsdtar, gate, gnu_tar, go_archive_tar, python_tarfile
from .tarcases import AMBIGUOUS_CASES, CASES, TarCase

pytestmark = pytest.mark.integration

# NOTE: archives on which the extractors themselves really disagree (two of them unpack different
# trees, or one unpacks what another refuses): the suite checks that the disagreement is real, so
# that the refusal is not only a matter of taste.
KNOWN_DISAGREEMENTS = {
    "two-pax-paths",
    "two-gnu-long-names",
    "pax-path-then-gnu-long-name",
    "gnu-long-name-then-pax-path",
    "gnu-long-link-and-pax-linkpath",
    "pax-global-path",
    "pax-size-with-plus",
    "checksum-wrong-then-pod",
    "checksum-leading-nul",
    "size-leading-nul",
    "v7-devmajor-garbage",
    "size-text-after-terminator",
    "regular-file-with-trailing-slash",
    "directory-with-data",
    "hardlink-with-another-mode",
    "gnu-tar-sparse-gnu",
}


@pytest.fixture(scope="module")
def tarlist() -> Path:
    path = Path(os.environ.get("PLUGINGATE_TARLIST") or tools_dir() / "tarlist")
    if not path.is_file():
        pytest.skip(f"tarlist not found at {path}: run scripts/setup-tools")
    if shutil.which("bsdtar") is None:
        pytest.skip("bsdtar not found: apt-get install libarchive-tools (scripts/test does)")
    return path


def _archive(case: TarCase, tmp_path: Path) -> Path:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    archive = tmp_path / f"{case.id}.archive"
    archive.write_bytes(case.make(scratch))
    return archive


def _views(archive: Path, tarlist: Path, tmp_path: Path) -> dict[str, Tree | Refused]:
    views: dict[str, Tree | Refused] = {}
    for reader, extract in (("GNU tar", gnu_tar), ("bsdtar", bsdtar), ("Python tarfile", python_tarfile)):
        dest = tmp_path / reader.replace(" ", "-")
        dest.mkdir()
        views[reader] = extract(archive, dest)
    views["Go archive/tar"] = go_archive_tar(tarlist, archive)
    return views


def test_the_suite_covers_enough_archives() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    assert len(AMBIGUOUS_CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gate_refuses_or_unpacks_what_every_extractor_unpacks(case: TarCase, tarlist: Path, tmp_path: Path) -> None:
    archive = _archive(case, tmp_path)
    seen = gate(archive)
    if case.expect is None:
        assert not isinstance(seen, Refused), f"the gate refused an ordinary archive: {seen}"
    else:
        assert isinstance(seen, Refused), f"the gate unpacked it: {seen}"
        assert re.search(case.expect, seen.why), seen.why
    if isinstance(seen, Refused):
        return
    for reader, view in _views(archive, tarlist, tmp_path).items():
        assert view == seen, f"{reader} extracts {view}\nthe gate checked {seen}"


@pytest.mark.parametrize("case_id", sorted(KNOWN_DISAGREEMENTS))
def test_the_extractors_really_disagree_on_what_is_refused(case_id: str, tarlist: Path, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == case_id)
    views = _views(_archive(case, tmp_path), tarlist, tmp_path)
    distinct = {repr(sorted(v.items())) if isinstance(v, dict) else "refused" for v in views.values()}
    unpacked = [v for v in views.values() if isinstance(v, dict)]
    assert len(distinct) > 1 and unpacked, views
