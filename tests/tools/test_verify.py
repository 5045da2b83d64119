"""Nothing from the checkout runs as a tool, and nothing unpinned runs at all.

Unit tests use stand-in tools pinned in the session's pins file (tests/support/toolpins.py); the
real twins at the end run the real CLI with the real, packaged-pinned grype and syft: a grype
planted in a checkout is refused with exit 3 by ``scan`` and by ``gate``, whichever way it is named
(the variable, the tools folder, PATH, a symlink from outside).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import plugingate.tools.verify as verify_module
from plugingate.errors import ToolError
from plugingate.tools import Tool, ToolRunner
from plugingate.tools.verify import (
    packaged_pins,
    parse_pins,
    sha256_of,
    this_platform,
    verify_tool,
)
from tests.support.toolpins import pin_fake

REPO = Path(__file__).resolve().parents[2]
FAKE = '#!/bin/sh\nif [ "$1" = version ]; then echo \'{"version": "0.121.2"}\'; exit 0; fi\necho "{}"\n'


def _fake(folder: Path, name: str = "grype", *, pinned: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    # NOTE: each stand-in differs (its own path in a comment), so that pinning one pins no other.
    path.write_text(FAKE + f"# {path}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return pin_fake(path, name) if pinned else path


def _checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "HOME": str(tmp_path / "home"),
        "PLUGINGATE_CACHE": str(tmp_path / "cache"),
        "PATH": "/usr/bin:/bin",
        "PLUGINGATE_TOOL_PINS": os.environ["PLUGINGATE_TOOL_PINS"],
        **extra,
    }


def test_packaged_pins_cover_every_tool_the_gate_runs_on_this_platform() -> None:
    here = {p.tool for p in packaged_pins() if p.platform == this_platform()}
    assert {"syft", "grype", "cosign"} <= here


def test_a_malformed_pin_line_is_refused() -> None:
    with pytest.raises(ToolError, match="not a pin line"):
        parse_pins("grype v1 linux/amd64 go1.26 nothex\n", "pins.txt")
    assert parse_pins("# c\n\ngrype v1 linux/amd64 go1 " + "A" * 64 + "  # x\n", "p")[0].sha256 == "a" * 64


def test_a_pinned_tool_outside_the_checkout_runs(tmp_path: Path) -> None:
    fake = _fake(tmp_path / "tools")
    run = ToolRunner(env=_env(tmp_path, PLUGINGATE_GRYPE=str(fake))).run(Tool.GRYPE, ["x"])
    assert run.returncode == 0


def test_an_unpinned_tool_is_refused_naming_it(tmp_path: Path) -> None:
    fake = _fake(tmp_path / "tools", pinned=False)
    with pytest.raises(ToolError) as caught:
        ToolRunner(env=_env(tmp_path, PLUGINGATE_GRYPE=str(fake))).info(Tool.GRYPE)
    assert caught.value.tool == "grype" and sha256_of(fake) in caught.value.message
    assert "not a pinned grype" in caught.value.message


def test_a_tool_swapped_after_its_first_run_is_refused(tmp_path: Path) -> None:
    fake = _fake(tmp_path / "tools")
    runner = ToolRunner(env=_env(tmp_path, PLUGINGATE_GRYPE=str(fake)))
    assert runner.run(Tool.GRYPE, ["x"]).returncode == 0
    # NOTE: same path, same size: only the content (and so the stat's times) changes.
    fake.write_text(FAKE.replace("{}", "[]"))
    with pytest.raises(ToolError, match="not a pinned grype"):
        runner.run(Tool.GRYPE, ["x"])


@pytest.mark.parametrize("how", ["variable", "tools-folder", "path", "symlink-from-outside"])
def test_a_pinned_tool_inside_the_checkout_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    checkout = _checkout(tmp_path)
    planted = _fake(checkout / ".plugingate" / "bin")
    monkeypatch.chdir(checkout / ".plugingate")
    env = {
        "variable": _env(tmp_path, PLUGINGATE_GRYPE=str(planted)),
        "tools-folder": _env(tmp_path, PLUGINGATE_TOOLS_DIR=str(planted.parent)),
        "path": _env(tmp_path, PATH=f"{planted.parent}:/usr/bin:/bin"),
    }.get(how)
    if env is None:
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "grype").symlink_to(planted)
        env = _env(tmp_path, PLUGINGATE_GRYPE=str(outside / "grype"))
    with pytest.raises(ToolError) as caught:
        ToolRunner(env=env).info(Tool.GRYPE)
    assert "inside the checkout" in caught.value.message and caught.value.tool == "grype"


def test_a_tool_inside_the_bundle_is_refused_outside_any_git_tree(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    planted = _fake(bundle / "bin")
    with pytest.raises(ToolError, match="inside the checkout"):
        ToolRunner(env=_env(tmp_path, PLUGINGATE_GRYPE=str(planted)), forbidden=(bundle,)).info(Tool.GRYPE)


def test_a_pins_file_inside_the_checkout_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkout = _checkout(tmp_path)
    fake = _fake(tmp_path / "tools", pinned=False)
    pins = checkout / "pins.txt"
    pins.write_text(f"grype x {this_platform()} none {sha256_of(fake)}\n")
    monkeypatch.chdir(checkout)
    with pytest.raises(ToolError, match=r"PLUGINGATE_TOOL_PINS=.* is inside the checkout"):
        verify_tool("grype", fake, {"PLUGINGATE_TOOL_PINS": str(pins)}, (checkout.resolve(),))


def test_hashing_is_done_once_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake(tmp_path / "tools")
    sha256_of(fake)
    opened: list[Path] = []
    real_open = Path.open

    def counting_open(self: Path, *args: object, **kwargs: object) -> object:
        opened.append(self)
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", counting_open)
    for _ in range(100):
        sha256_of(fake)
    assert opened == []


def _real(tool: Tool) -> Path:
    try:
        return ToolRunner().info(tool).path
    except ToolError as exc:
        pytest.skip(f"{exc.message}: run scripts/setup-tools")


@pytest.mark.integration
def test_cli_refuses_a_real_grype_planted_in_the_checkout(tmp_path: Path) -> None:
    """The real, pinned grype copied into a checkout is still refused: where it lies matters, not only what."""
    grype = _real(Tool.GRYPE)
    checkout = _checkout(tmp_path)
    planted = checkout / ".cache" / "grype"
    planted.parent.mkdir()
    shutil.copy2(grype.resolve(), planted)
    sbom = checkout / "sbom.cdx.json"
    sbom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []}))
    env = {**os.environ, "PLUGINGATE_GRYPE": str(planted)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "plugingate",
            "scan",
            str(sbom),
            # NOTE: the test database is allowed, so the check that is reached is the tool's.
            "--policy",
            str(REPO / "testdata" / "policies" / "default-test-db.yaml"),
            "--out",
            str(tmp_path / "out"),
            "--no-cache",
        ],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(REPO)},
        cwd=checkout,
        timeout=300,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "grype at" in done.stderr and "inside the checkout" in done.stderr


@pytest.mark.integration
def test_gate_refuses_a_planted_grype_and_an_unpinned_one(tmp_path: Path) -> None:
    _real(Tool.SYFT)
    checkout = _checkout(tmp_path)
    shutil.copytree(REPO / "testdata" / "vuln-bundles" / "vulnerable", checkout / "plugin")
    planted = _fake(checkout / "tools")
    unpinned = _fake(tmp_path / "elsewhere", pinned=False)
    policy = REPO / "testdata" / "policies" / "cases.yaml"
    for grype, why in ((planted, "inside the checkout"), (unpinned, "not a pinned grype")):
        out = tmp_path / f"out-{grype.parent.name}"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "plugingate",
                "gate",
                "plugin",
                "--policy",
                str(policy),
                "--out",
                str(out),
                "--no-cache",
            ],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "PYTHONPATH": str(REPO),
                "PLUGINGATE_GRYPE": str(grype),
            },
            cwd=checkout,
            timeout=600,
            check=False,
        )
        assert done.returncode == 3, done.stdout + done.stderr
        report = json.loads((out / "report.json").read_text())
        vulns = next(s for s in report["steps"] if s["step"] == "vulnerabilities")
        assert vulns["status"] == "error" and why in vulns["summary"], vulns


def test_the_digest_memo_spares_the_hash_in_the_next_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake(tmp_path / "tools")
    memo = tmp_path / "cache" / "tool-digests.json"
    env = _env(tmp_path, PLUGINGATE_CACHE_KEY_FILE=str(tmp_path / "config" / "cache.key"))
    verify_tool("grype", fake, env, (), memo_file=memo)
    assert memo.is_file()
    monkeypatch.setattr(verify_module, "_MEMO", {})  # NOTE: a new process: the in-memory memo is empty
    opened: list[Path] = []
    real_open = Path.open

    def counting_open(self: Path, *args: object, **kwargs: object) -> object:
        opened.append(self)
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", counting_open)
    verify_tool("grype", fake, env, (), memo_file=memo)
    assert fake.resolve() not in opened


def test_a_forged_digest_memo_entry_does_not_vouch_for_a_planted_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever writes the cache folder writes the memo too: an entry for the planted binary's stat
    claiming a pinned digest, with a MAC under another key (or none), is hashed again and refused."""
    planted = _fake(tmp_path / "tools", pinned=False)
    memo = tmp_path / "cache" / "tool-digests.json"
    env = _env(tmp_path, PLUGINGATE_CACHE_KEY_FILE=str(tmp_path / "config" / "cache.key"))
    real_pin = next(p for p in packaged_pins() if p.tool == "grype" and p.platform == this_platform())
    info = planted.resolve().stat()
    key = "|".join(
        map(str, (planted.resolve(), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
    )
    for mac in ("0" * 64, None):
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(json.dumps({key: {"sha256": real_pin.sha256, "mac": mac}}))
        monkeypatch.setattr(verify_module, "_MEMO", {})
        with pytest.raises(ToolError, match="not a pinned grype"):
            verify_tool("grype", planted, env, (), memo_file=memo)
