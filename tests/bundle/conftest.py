"""Fixtures of the bundle tests: a sandbox whose every change is visible, and the big hostile archives."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .archives import write_many_files, write_tar_bomb, write_zero_bomb
from .measure import snapshot


@dataclass(frozen=True)
class Sandbox:
    """A test's private world: archives are built in ``archives``, the code under test gets ``tmp`` as
    TMPDIR, and ``outside`` is what hostile archives try to reach."""

    base: Path
    archives: Path
    tmp: Path
    outside: Path
    out: Path

    def env(self) -> dict[str, str]:
        """The environment for a subprocess: this TMPDIR, and no colour or pager."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGINGATE_")}
        env.update(TMPDIR=str(self.tmp), NO_COLOR="1", TERM="dumb")
        return env

    def changes(self, before: set[str]) -> set[str]:
        """Paths added or removed since ``before``, outside ``out``."""
        now = snapshot(str(self.base))
        return {p for p in now ^ before if not p.startswith("out" + os.sep) and p != "out"}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path, tmp_path / "archives", tmp_path / "tmp", tmp_path / "outside", tmp_path / "out")
    for path in (box.archives, box.tmp, box.outside):
        path.mkdir()
    yield box


@pytest.fixture(scope="session")
def big_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("big-archives")


@pytest.fixture(scope="session")
def zero_bomb(big_dir: Path) -> Path:
    """A gzip of 2 GiB of zeros (about 2 MB on disk)."""
    return write_zero_bomb(big_dir / "zeros-2g.tgz")


@pytest.fixture(scope="session")
def tar_bomb(big_dir: Path) -> Path:
    """A valid .tgz: plugin.yaml and two 1 GiB files of zeros, each within the per-file limit."""
    return write_tar_bomb(big_dir / "tar-bomb.tgz")


@pytest.fixture(scope="session")
def many_files(big_dir: Path) -> Path:
    """A .tgz of plugin.yaml and 200,000 one-byte files."""
    return write_many_files(big_dir / "many-files.tgz")
