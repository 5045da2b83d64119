"""Fixtures of the probe's tests: the real runsc and dnsmasq (scripts/setup-probe-tools), and the test programs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from .images import go_build


def _tool(variable: str, name: str) -> str | None:
    return os.environ.get(variable) or shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


@pytest.fixture(scope="session")
def probe_tools() -> dict[str, str]:
    """The environment under which the CLI finds runsc and dnsmasq; skips (a failure in CI) without them."""
    runsc = _tool("PLUGINGATE_RUNSC", "runsc")
    dnsmasq = _tool("PLUGINGATE_DNSMASQ", "dnsmasq")
    if not runsc or not dnsmasq:
        pytest.skip("runsc or dnsmasq is missing: run scripts/setup-probe-tools")
    if os.geteuid() != 0:
        pytest.skip("the probe creates network namespaces, which needs root")
    return {"PLUGINGATE_RUNSC": runsc, "PLUGINGATE_DNSMASQ": dnsmasq}


@pytest.fixture(scope="session")
def program(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``program(name)``: testdata/probe/<name> built as a static binary (once per session)."""
    if not (shutil.which("go") or Path("/usr/local/go/bin/go").exists()):
        pytest.skip("Go is needed to build the probe's test programs")
    folder = tmp_path_factory.mktemp("probe-programs")
    built: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in built:
            built[name] = go_build(name, folder / name)
        return built[name]

    return build
