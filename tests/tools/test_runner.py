"""The tool runner: how tools are found, and the isolation every run gets."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from plugingate.errors import ToolError
from plugingate.tools import Tool, ToolRunner, locate
from plugingate.tools.buildinfo import main_module_version
from plugingate.tools.locate import tools_dir
from plugingate.tools.pins import PINNED_VERSIONS
from plugingate.tools.verify import this_platform
from tests.support.toolpins import pin_fake

REPO = Path(__file__).resolve().parents[2]

# A stand-in for a tool (this is a test of the runner, not of syft): it reports a version, and
# otherwise prints what it sees: its environment, its folder, and any config file there.
PROBE = """#!/bin/sh
if [ "$1" = version ]; then echo '{"version": "9.9.9"}'; exit 0; fi
if [ "$1" = sleep ]; then sleep "$2"; exit 0; fi
if [ "$1" = fail ]; then echo "first line" >&2; echo "the real reason" >&2; exit 7; fi
if [ "$1" = nice ]; then echo "$$ $(nice)"; exit 0; fi
echo "{"
echo "\\"cwd\\": \\"$(pwd)\\","
echo "\\"configs\\": \\"$(ls -A | tr "\\n" " ")\\","
echo "\\"args\\": \\"$*\\","
env | sort | sed 's/"/_/g; s/^\\([^=]*\\)=\\(.*\\)$/"env:\\1": "\\2",/'
echo "\\"end\\": 1}"
"""


def _probe(folder: Path, name: str = "grype") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(PROBE)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return pin_fake(path, "grype" if name not in ("syft", "cosign") else name)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "HOME": str(tmp_path / "home"),
        "PLUGINGATE_CACHE": str(tmp_path / "cache"),
        "PATH": "/usr/bin:/bin",
        "PLUGINGATE_TOOL_PINS": os.environ["PLUGINGATE_TOOL_PINS"],
        **extra,
    }


def test_explicit_variable_wins_then_tools_folder_then_path(tmp_path: Path) -> None:
    explicit = _probe(tmp_path / "explicit")
    folder = _probe(tmp_path / "cache" / "bin")
    on_path = _probe(tmp_path / "path")
    env = _env(tmp_path, PLUGINGATE_GRYPE=str(explicit), PATH=f"{tmp_path / 'path'}:/usr/bin:/bin")
    assert locate(Tool.GRYPE, env) == (explicit, "PLUGINGATE_GRYPE")
    del env["PLUGINGATE_GRYPE"]
    assert tools_dir(env) == tmp_path / "cache" / "bin"
    assert locate(Tool.GRYPE, env) == (folder, "tools folder")
    folder.unlink()
    assert locate(Tool.GRYPE, env) == (on_path, "PATH")


def test_the_current_folder_is_never_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "bundle"
    _probe(bundle)
    monkeypatch.chdir(bundle)
    with pytest.raises(ToolError, match="grype was not found") as caught:
        locate(Tool.GRYPE, _env(tmp_path, PATH=".:"))
    assert caught.value.exit_code == 3


def test_a_run_is_isolated_from_the_caller_and_the_bundle(tmp_path: Path) -> None:
    probe = _probe(tmp_path / "bin")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / ".grype.yaml").write_text("ignore: [{fix-state: fixed}]\n")
    env = _env(tmp_path, PLUGINGATE_GRYPE=str(probe), SECRET_TOKEN="s3cr3t", GRYPE_DB_AUTO_UPDATE="true")
    runner = ToolRunner(env=env, work_root=tmp_path / "work")
    run = runner.run(
        Tool.GRYPE,
        ["sbom:" + str(bundle / "sbom.json"), "-c", "{work}/grype.yaml", "$(touch /tmp/pwned)", ";", "|"],
        files={"grype.yaml": "db: {}\n"},
        env={"GRYPE_DB_CACHE_DIR": "/db"},
    )
    seen = json.loads(run.stdout)
    work = Path(seen["cwd"])
    assert work.parent == tmp_path / "work" and work != bundle
    assert seen["configs"].split() == ["grype.yaml", "home", "stderr", "stdout", "tmp", "xdg"]
    assert seen["env:HOME"] == str(work / "home") and seen["env:TMPDIR"] == str(work / "tmp")
    assert seen["env:XDG_CONFIG_DIRS"] == str(work / "xdg")
    assert "env:SECRET_TOKEN" not in seen and "env:PLUGINGATE_CACHE" not in seen
    # What the caller set for grype is overridden by plugingate's fixed settings; its own pass.
    assert seen["env:GRYPE_DB_AUTO_UPDATE"] == "false" and seen["env:GRYPE_DB_CACHE_DIR"] == "/db"
    assert f"-c {work}/grype.yaml" in seen["args"]
    # Arguments go to the tool as they are: no shell ever sees them.
    assert "$(touch /tmp/pwned) ; |" in seen["args"]
    assert not work.exists()
    assert run.version == "9.9.9" and run.returncode == 0 and run.max_rss_kib > 0


def test_a_timeout_stops_the_tool_and_fails_closed(tmp_path: Path) -> None:
    probe = _probe(tmp_path / "bin")
    runner = ToolRunner(env=_env(tmp_path, PLUGINGATE_GRYPE=str(probe)))
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"did not finish within 0.5 s") as caught:
        runner.run(Tool.GRYPE, ["sleep", "30"], timeout=0.5)
    assert time.monotonic() - started < 10
    assert caught.value.exit_code == 3


def test_a_background_run_yields_the_cpu_and_is_still_the_tool_itself(tmp_path: Path) -> None:
    probe = _probe(tmp_path / "bin")
    runner = ToolRunner(env=_env(tmp_path, PLUGINGATE_GRYPE=str(probe)))
    ours = os.nice(0)
    normal = runner.run(Tool.GRYPE, ["nice"]).check("testing")
    background = runner.run(Tool.GRYPE, ["nice"], background=True, timeout=10).check("testing")
    assert int(normal.stdout.split()[1]) == ours
    assert int(background.stdout.split()[1]) == min(ours + 10, 19)
    # NOTE: nice execs the tool (one process: its timeout and memory are the tool's); the record names the tool.
    assert background.argv == normal.argv and background.max_rss_kib > 0


def test_a_tool_started_while_the_tools_are_stopped_is_killed_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The gate's SIGTERM can land after a worker thread started a tool and before it registered it:
    # stop_running_tools() then cannot see it, and the gate would wait for a long scan to end.
    import plugingate.tools.runner as runner_module

    real_popen = subprocess.Popen

    def popen_then_stop(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = real_popen(*args, **kwargs)
        runner_module.stop_running_tools()  # the signal, in that window
        return proc

    probe = _probe(tmp_path / "bin")
    runner = ToolRunner(env=_env(tmp_path, PLUGINGATE_GRYPE=str(probe)))
    runner.info(Tool.GRYPE)
    monkeypatch.setattr(subprocess, "Popen", popen_then_stop)
    started = time.monotonic()
    run = runner.run(Tool.GRYPE, ["sleep", "30"], timeout=60)
    assert time.monotonic() - started < 10
    assert run.returncode == -signal.SIGKILL
    # A tool started after the stop runs as usual.
    monkeypatch.setattr(subprocess, "Popen", real_popen)
    assert runner.run(Tool.GRYPE, ["sleep", "0"], timeout=60).returncode == 0


def test_a_failing_run_is_reported_with_the_end_of_its_stderr(tmp_path: Path) -> None:
    probe = _probe(tmp_path / "bin")
    run = ToolRunner(env=_env(tmp_path, PLUGINGATE_GRYPE=str(probe))).run(Tool.GRYPE, ["fail"])
    assert run.returncode == 7
    with pytest.raises(ToolError, match=r"failed while testing \(exit 7\): first line \| the real reason"):
        run.check("testing")


def test_versions_are_remembered_per_binary(tmp_path: Path) -> None:
    probe = _probe(tmp_path / "bin")
    env = _env(tmp_path, PLUGINGATE_GRYPE=str(probe))
    assert ToolRunner(env=env).info(Tool.GRYPE).version == "9.9.9"
    memo = json.loads((tmp_path / "cache" / "tool-versions.json").read_text())
    assert list(memo.values()) == ["9.9.9"]
    probe.write_text(PROBE.replace("9.9.9", "9.9.10"))
    os.utime(probe, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    pin_fake(probe, "grype")
    assert ToolRunner(env=env).info(Tool.GRYPE).version == "9.9.10"


def test_pins_agree_with_versions_env() -> None:
    pinned = dict(
        line.split("=", 1)
        for line in (REPO / "tools" / "versions.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert {tool: pinned[f"{tool.upper()}_VERSION"].removeprefix("v") for tool in PINNED_VERSIONS} == dict(
        PINNED_VERSIONS
    )


@pytest.mark.integration
def test_real_tools_report_their_pinned_versions() -> None:
    runner = ToolRunner()
    for tool in Tool:
        try:
            info = runner.info(tool)
        except ToolError as exc:
            pytest.skip(f"{exc.message}: run scripts/setup-tools")
        assert info.version == PINNED_VERSIONS[str(tool)], info
        if tool is not Tool.COSIGN:
            assert main_module_version(info.path) == "v" + PINNED_VERSIONS[str(tool)]


@pytest.mark.integration
def test_setup_tools_is_idempotent_and_fast_when_cached() -> None:
    script = REPO / "scripts" / "setup-tools"
    first = subprocess.run([str(script), "--print-env"], capture_output=True, text=True, timeout=1800, check=True)
    started = time.monotonic()
    again = subprocess.run([str(script), "--print-env"], capture_output=True, text=True, timeout=120, check=True)
    elapsed = time.monotonic() - started
    assert again.stdout == first.stdout
    assert elapsed < 5, f"a cached setup took {elapsed:.1f} s"
    exports = dict(line.removeprefix("export ").split("=", 1) for line in again.stdout.splitlines())
    assert set(exports) == {
        "PLUGINGATE_SYFT",
        "PLUGINGATE_GRYPE",
        "PLUGINGATE_COSIGN",
        "PLUGINGATE_KUSTOMIZE",
        "PLUGINGATE_GRYPEDB_BUILD",
        "PLUGINGATE_TARLIST",
        "PLUGINGATE_K8SDECODE",
        "PLUGINGATE_OLMVALIDATE",
        "GRYPE_DB_CACHE_DIR",
        "PLUGINGATE_CACHE",
    }
    for name in ("PLUGINGATE_SYFT", "PLUGINGATE_GRYPE", "PLUGINGATE_COSIGN", "PLUGINGATE_KUSTOMIZE"):
        assert os.access(exports[name], os.X_OK)
    assert (Path(exports["GRYPE_DB_CACHE_DIR"]) / "6" / "import.json").is_file()
    # NOTE: no links into the checkout: the gate runs no tool from a work tree.
    for tool in ("syft", "grype", "cosign", "kustomize", "grypedb-build", "tarlist", "k8sdecode", "olmvalidate"):
        assert not (REPO / ".tools" / "bin" / tool).is_symlink()
    dotenv = subprocess.run([str(script), "--github-env"], capture_output=True, text=True, timeout=120, check=True)
    assert dotenv.stdout.replace("export ", "").count("=") == 10 and "export" not in dotenv.stdout


def test_release_downloads_are_refused_with_directions(tmp_path: Path) -> None:
    script = REPO / "scripts" / "setup-tools"
    env = {**os.environ, "PLUGINGATE_TOOLS_FROM": "release", "PLUGINGATE_CACHE": str(tmp_path)}
    done = subprocess.run([str(script)], capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 3
    assert "downloads nothing" in done.stderr and "PLUGINGATE_TOOLS_FROM=path" in done.stderr


@pytest.mark.parametrize("value", ["latest", "1.57", "v1.57.1; rm -rf /", "../v1.2.3"])
def test_a_tool_version_override_must_be_a_release_version(tmp_path: Path, value: str) -> None:
    env = {**os.environ, "PLUGINGATE_SYFT_VERSION": value, "PLUGINGATE_CACHE": str(tmp_path)}
    done = subprocess.run(
        [str(REPO / "scripts" / "setup-tools")], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "PLUGINGATE_SYFT_VERSION" in done.stderr and "not a release version" in done.stderr
    assert not list((tmp_path / "tools").glob("syft-*")), "nothing may be built for a bad version"


@pytest.mark.integration
def test_a_tool_version_override_selects_that_build(tmp_path: Path) -> None:
    script = REPO / "scripts" / "setup-tools"
    pinned = subprocess.run([str(script), "--print-env"], capture_output=True, text=True, timeout=1800, check=True)
    env = {**os.environ, "PLUGINGATE_GRYPE_VERSION": PINNED_VERSIONS["grype"]}  # without the v: normalised
    override = subprocess.run(
        [str(script), "--print-env"], capture_output=True, text=True, timeout=1800, env=env, check=True
    )
    assert override.stdout == pinned.stdout
    assert f"using grype v{PINNED_VERSIONS['grype']} instead of the pinned version" in override.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_setup_tools_with_tools_on_path_builds_the_database_into_a_fresh_cache(tmp_path: Path) -> None:
    runner = ToolRunner()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in Tool:
        try:
            (bin_dir / str(tool)).symlink_to(runner.info(tool).path)
        except ToolError as exc:
            pytest.skip(f"{exc.message}: run scripts/setup-tools")
    if not shutil.which("go"):
        pytest.skip("Go is not installed: the database builder is built with go build")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PLUGINGATE_TOOLS_FROM": "path",
        "PLUGINGATE_CACHE": str(tmp_path / "cache"),
    }
    script = REPO / "scripts" / "setup-tools"
    done = subprocess.run(
        [str(script), "--print-env"], capture_output=True, text=True, env=env, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr
    exports = dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    assert exports["PLUGINGATE_GRYPE"] == str(bin_dir / "grype")
    db_dir = Path(exports["GRYPE_DB_CACHE_DIR"])
    # NOTE: the folder itself (stable for the caller), and the cache's default points at it too.
    assert db_dir.parent == tmp_path / "cache" / "grype-db"
    assert (tmp_path / "cache" / "grype-db" / "current").resolve() == db_dir.resolve()
    marker = json.loads((db_dir / "plugingate-source.json").read_text())
    assert marker["source"] == "plugingate test database (testdata/vulndb)"
    from plugingate.vulnerabilities import read_database_info

    info = read_database_info(db_dir)
    assert info.schema.startswith("v6.") and info.source.startswith("plugingate test database")
    # A tool whose digest is not pinned is refused before it runs, even to say its version.
    (bin_dir / "grype").unlink()
    (bin_dir / "grype").write_text("#!/bin/sh\necho 'Version: 0.99.0'\n")
    (bin_dir / "grype").chmod(0o755)
    wrong = subprocess.run([str(script)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert wrong.returncode == 3 and "grype v0.121.2 at" in wrong.stderr and "not pinned" in wrong.stderr
    # An operator's pin for it (PLUGINGATE_TOOL_PINS) gets it as far as the version check.
    pins = tmp_path / "operator-pins.txt"
    digest = hashlib.sha256((bin_dir / "grype").read_bytes()).hexdigest()
    pins.write_text(f"grype v0.99.0 {this_platform()} release {digest}\n")
    env["PLUGINGATE_TOOL_PINS"] = str(pins)
    wrong = subprocess.run([str(script)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert wrong.returncode == 3 and "reports version '0.99.0', pinned is v0.121.2" in wrong.stderr
