"""Finding act and gitlab-ci-local for the CI tests: scripts/setup-ci-tools builds them once, cached."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "testdata" / "schemas"
EXAMPLE_BUNDLE = "examples/acme-exporter.tgz"
# NOTE: the default policy refuses the test database these runs scan with: its test-database twin.
EXAMPLE_POLICY = "testdata/policies/default-test-db.yaml"
# NOTE: keep in step with .github/workflows/self-test.yml.
DENIED_BUNDLE = "testdata/bundles/deny/privileged-host-declared"


@dataclass(frozen=True)
class CiTools:
    act: Path
    gitlab_ci_local: Path


@cache
def ci_tools() -> CiTools:
    """The pinned act and gitlab-ci-local; setup-ci-tools builds them when missing (about a minute)."""
    env_act, env_gcl = os.environ.get("PLUGINGATE_ACT"), os.environ.get("PLUGINGATE_GITLAB_CI_LOCAL")
    if env_act and env_gcl:
        return CiTools(Path(env_act), Path(env_gcl))
    proc = subprocess.run(
        [str(REPO / "scripts" / "setup-ci-tools"), "--print-env", "--quiet"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        pytest.skip(f"scripts/setup-ci-tools could not provide act and gitlab-ci-local: {reason}")
    found: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        found[name] = shlex.split(value)[0]
    return CiTools(Path(found["PLUGINGATE_ACT"]), Path(found["PLUGINGATE_GITLAB_CI_LOCAL"]))


def require_inputs() -> None:
    """The example's signed archive and the denied case come from other parts of the project."""
    missing = [rel for rel in (EXAMPLE_BUNDLE, EXAMPLE_POLICY, DENIED_BUNDLE) if not (REPO / rel).exists()]
    if not any((REPO / (EXAMPLE_BUNDLE + suffix)).exists() for suffix in (".sigstore.json", ".sig")):
        missing.append(f"{EXAMPLE_BUNDLE}.sigstore.json or .sig")
    if missing:
        pytest.fail(f"missing inputs of the CI tests: {', '.join(missing)}")


def validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def assert_reports_valid(out: Path) -> dict[str, object]:
    """The CI reports in ``out`` validate (SARIF, GitLab dependency scanning) or parse (JUnit, code quality)."""
    import xml.etree.ElementTree as ET

    sarif = json.loads((out / "results.sarif").read_text())
    errors = list(validator("sarif-schema-2.1.0.json").iter_errors(sarif))
    assert not errors, errors[0]
    ds = json.loads((out / "gl-dependency-scanning-report.json").read_text())
    errors = list(validator("gitlab-dependency-scanning-report-format.json").iter_errors(ds))
    assert not errors, errors[0]
    assert isinstance(json.loads((out / "gl-code-quality-report.json").read_text()), list)
    assert ET.parse(out / "junit.xml").getroot().tag == "testsuites"
    report: dict[str, object] = json.loads((out / "report.json").read_text())
    return report


def snapshot_repo(dest: Path) -> Path:
    """A git repository at ``dest`` holding the checkout's current files (tracked and new, not ignored).

    The CI runs need the project as it is now, uncommitted work included, and must not write into the
    shared checkout.
    """
    import shutil

    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        rel = raw.decode()
        source = REPO / rel
        if not (source.is_file() or source.is_symlink()):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    git = ["git", "-c", "user.name=plugingate-tests", "-c", "user.email=tests@plugingate.invalid"]
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "--no-verify", "-m", "snapshot for the CI tests"],
        ["remote", "add", "origin", "https://github.com/plugingate-tests/plugingate.git"],
    ):
        subprocess.run([*git, *args], cwd=dest, check=True, capture_output=True, timeout=120)
    return dest
