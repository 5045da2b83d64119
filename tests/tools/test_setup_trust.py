"""scripts/setup-tools runs nothing from a checkout and nothing unpinned, cached or not.

The attack of issue 12: a merge request commits ``.plugingate/cache/tools/grype-v0.121.2/grype``
with its stamp file, and the template's setup found a "cached" grype and handed it to the gate. Here
a planted grype with a valid stamp is refused (exit 3, naming grype) whether the cache is inside a
checkout (refused as a whole) or outside (the digest is not pinned), also with the trust-on-first-build
opt-in (which trusts only what the script itself built), and a PATH entry into a checkout is refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from plugingate.errors import ToolError
from plugingate.tools import Tool, ToolRunner
from plugingate.tools.pins import PINNED_VERSIONS

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "setup-tools"
GRYPE_STAMP = (
    f"github.com/anchore/grype/cmd/grype@v{PINNED_VERSIONS['grype']} -s -w -X main.version={PINNED_VERSIONS['grype']}"
)
SYFT_STAMP = (
    f"github.com/anchore/syft/cmd/syft@v{PINNED_VERSIONS['syft']} -s -w -X main.version={PINNED_VERSIONS['syft']}"
)
PLANTED = '#!/bin/sh\necho \'{"version": "0.121.2", "matches": []}\'\n'


def _setup(env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("GITHUB_WORKSPACE", "CI_PROJECT_DIR")}
    return subprocess.run(
        [str(SCRIPT), "--print-env"],
        capture_output=True,
        text=True,
        env={**full, **env},
        cwd=cwd,
        timeout=300,
        check=False,
    )


def _plant(cache: Path) -> Path:
    """A grype with a valid stamp in ``cache``, as the merge request of the issue committed it."""
    folder = cache / "tools" / f"grype-v{PINNED_VERSIONS['grype']}"
    folder.mkdir(parents=True)
    (folder / "grype").write_text(PLANTED)
    (folder / "grype").chmod(0o755)
    (folder / ".stamp").write_text(GRYPE_STAMP + "\n")
    return folder / "grype"


def _real_syft_into(cache: Path) -> None:
    """The real, pinned syft cached in ``cache`` (setup builds syft first; this spares the build)."""
    try:
        syft = ToolRunner().info(Tool.SYFT).path
    except ToolError as exc:
        pytest.skip(f"{exc.message}: run scripts/setup-tools")
    folder = cache / "tools" / f"syft-v{PINNED_VERSIONS['syft']}"
    folder.mkdir(parents=True)
    shutil.copy2(syft.resolve(), folder / "syft")
    (folder / ".stamp").write_text(SYFT_STAMP + "\n")


@pytest.mark.parametrize("where", ["git", "workspace-variable"])
def test_a_cache_inside_a_checkout_is_refused(tmp_path: Path, where: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    if where == "git":
        subprocess.run(["git", "init", "-q", str(project)], check=True)
        env = {}
    else:
        env = {"CI_PROJECT_DIR": str(project)}
    cache = project / ".plugingate" / "cache"
    _plant(cache)
    done = _setup({**env, "PLUGINGATE_CACHE": str(cache)}, cwd=project)
    assert done.returncode == 3, done.stderr
    assert f"the tools cache {cache} is inside the checkout {project}" in done.stderr
    assert done.stdout == ""


@pytest.mark.integration
@pytest.mark.parametrize("trust_first_build", ["", "1"])
def test_a_planted_grype_with_its_stamp_is_refused(tmp_path: Path, trust_first_build: str) -> None:
    cache = tmp_path / "cache"
    _real_syft_into(cache)
    planted = _plant(cache)
    done = _setup({"PLUGINGATE_CACHE": str(cache), "PLUGINGATE_TRUST_FIRST_BUILD": trust_first_build})
    assert done.returncode == 3, done.stderr
    assert f"grype v{PINNED_VERSIONS['grype']} at {planted}" in done.stderr and "not pinned" in done.stderr
    assert done.stdout == ""
    assert not (cache / "tool-pins.local.txt").exists()


@pytest.mark.integration
def test_tools_from_path_inside_a_checkout_are_refused(tmp_path: Path) -> None:
    try:
        syft = ToolRunner().info(Tool.SYFT).path
    except ToolError as exc:
        pytest.skip(f"{exc.message}: run scripts/setup-tools")
    project = tmp_path / "project"
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    bin_dir = project / "bin"
    bin_dir.mkdir()
    # NOTE: the real, pinned syft, linked from inside the checkout: the link itself is the checkout's.
    (bin_dir / "syft").symlink_to(syft.resolve())
    done = _setup(
        {
            "PLUGINGATE_CACHE": str(tmp_path / "cache"),
            "PLUGINGATE_TOOLS_FROM": "path",
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
        }
    )
    assert done.returncode == 3, done.stderr
    assert f"syft at {bin_dir / 'syft'} is inside the checkout {project}" in done.stderr
