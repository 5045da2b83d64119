"""Every tool the suite needs is provided by the setup scripts that scripts/test runs.

A fresh machine once ran the suite with every Kyverno and policy-controller test skipped:
``setup-admission-tools`` took ``--print-env`` for the name of a tool, built nothing and printed
nothing. Under ``CI=true`` a skip fails the run, so such a gap turns CI red on every fresh machine and
stays invisible on a developer's machine that had the tools built by hand. These tests tie the three
together: the tool variables the tests read, the variables the setup scripts print, and the scripts
that ``scripts/test`` evaluates.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPTS = REPO / "scripts"
# NOTE: variables that name a *tool binary* the suite runs; the others (PLUGINGATE_CACHE, _PASSWORD,
# _MODE, …) are settings. dockerd and docker-registry come from Debian packages scripts/test installs.
TOOL_VARIABLE = re.compile(
    r"\"(PLUGINGATE_(?:SYFT|GRYPE|COSIGN|GRYPEDB_BUILD|TARLIST|K8SDECODE|KUBECTL|KYVERNO|POLICY_TESTER|ACT|GITLAB_CI_LOCAL"
    r"|HELM|FULCIO|TSA|TESSERACT|REKOR|TRILLIAN_LOG_SERVER|TRILLIAN_LOG_SIGNER|TRILLIAN_SCHEMA|MARIADBD|GOVULNCHECK"
    r"|RUNSC|DNSMASQ))\""
)
SETUP_SCRIPTS = (
    "setup-tools",
    "setup-admission-tools",
    "setup-ci-tools",
    "setup-kubectl",
    "setup-sigstore-tools",
    "setup-test-binaries",
    "setup-helm",
    "setup-probe-tools",
)


def tool_variables_read_by_tests() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "tests").rglob("*.py"):
        if path.name == Path(__file__).name:
            continue
        found.update(TOOL_VARIABLE.findall(path.read_text()))
    return found


def variables_printed_by(script: str) -> set[str]:
    """The names a setup script's ``--print-env`` mode prints (read from its source)."""
    text = (SCRIPTS / script).read_text()
    names = set(re.findall(r"export (PLUGINGATE_[A-Z0-9_]+)=", text))
    names.update(re.findall(r"emit (PLUGINGATE_[A-Z0-9_]+) ", text))
    return names


def test_the_tests_read_tool_variables() -> None:
    # NOTE: guards the scan itself: an empty set would make the next test pass vacuously.
    assert {
        "PLUGINGATE_SYFT",
        "PLUGINGATE_GRYPE",
        "PLUGINGATE_KYVERNO",
        "PLUGINGATE_ACT",
    } <= tool_variables_read_by_tests()


def test_every_tool_the_tests_need_is_printed_by_a_setup_script() -> None:
    printed: set[str] = set()
    for script in SETUP_SCRIPTS:
        printed |= variables_printed_by(script)
    missing = tool_variables_read_by_tests() - printed
    assert not missing, f"tests read {sorted(missing)} but no setup script's --print-env provides them"


def test_scripts_test_evaluates_every_setup_script() -> None:
    text = (SCRIPTS / "test").read_text()
    for script in SETUP_SCRIPTS:
        assert re.search(rf"scripts/{script}\b", text), f"scripts/test does not run scripts/{script}"
    assert "--print-env" in text


@pytest.mark.parametrize("script", SETUP_SCRIPTS)
def test_setup_scripts_understand_print_env_and_refuse_unknown_arguments(script: str) -> None:
    """``--help`` documents ``--print-env``; a stray argument is refused, never taken for a tool's name."""
    helped = subprocess.run([SCRIPTS / script, "--help"], capture_output=True, text=True, timeout=30, check=False)
    assert helped.returncode == 0, helped.stderr
    assert "--print-env" in helped.stdout
    wrong = subprocess.run(
        [SCRIPTS / script, "--no-such-option"], capture_output=True, text=True, timeout=30, check=False
    )
    assert wrong.returncode == 2
    assert "--no-such-option" in wrong.stderr


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="only CI guarantees scripts/test exported the tools")
def test_in_ci_every_tool_variable_points_at_a_binary() -> None:
    for name in sorted(tool_variables_read_by_tests()):
        value = os.environ.get(name)
        assert value, f"{name} is not set: scripts/test should have exported it from a setup script"
        if name.endswith("_SCHEMA"):
            # NOTE: a data file the tools read (Trillian's SQL schema), not a binary.
            assert Path(value).is_file(), f"{name}={value} is not a file"
        else:
            assert os.access(value, os.X_OK), f"{name}={value} is not an executable file"
