"""What the CI tests need: act and gitlab-ci-local (scripts/setup-ci-tools), and a database mirror on loopback."""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest

from plugingate.vulnerabilities.sources import download_module, pinned_vulndb_version

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "testdata" / "schemas"
EXAMPLE_BUNDLE = "examples/acme-exporter.tgz"
# NOTE: the shipped default policy, unmodified: the runs scan with real advisories (the Go vulnerability
# database at the pinned version, served as grype's upstream by a mirror on loopback), never the test data.
EXAMPLE_POLICY = "policies/default.yaml"
# NOTE: keep in step with .github/workflows/self-test.yml.
DENIED_BUNDLE = "testdata/bundles/deny/privileged-host-declared"
# NOTE: the example as a Helm chart, signed with the example's key: both CI runs gate it too.
CHART_BUNDLE = "examples/acme-exporter-chart.tgz"


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


def go_vulndb_mirror(dest: Path) -> Path:
    """A mirror folder as grype's distribution serves it: ``latest.json`` and the database archive.

    The database is the Go vulnerability database at the version tools/versions.env pins (the data
    ``plugingate db build`` and scripts/test's built database hold, about 4,800 advisories), packaged
    by the project's builder (``grypedb-build -archive``): real advisories, so the shipped default
    policy (which refuses the test database) can be used as it is.
    """
    builder = os.environ.get("PLUGINGATE_GRYPEDB_BUILD", "")
    if not builder or not Path(builder).is_file():
        pytest.fail('PLUGINGATE_GRYPEDB_BUILD is not set: eval "$(scripts/setup-tools --print-env)" first')
    # NOTE: the same download `plugingate db build` makes (module proxy, checked by the checksum database).
    folder, when = download_module(f"golang.org/x/vulndb@{pinned_vulndb_version()}", os.environ)
    built = subprocess.run(
        [builder, "-govulndb", str(folder), "-govulndb-time", when, "-out", str(dest), "-archive"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    # NOTE: only the listing and the archive are served, as a real mirror would.
    (dest / "vulnerability.db").unlink()
    assert (dest / "latest.json").is_file() and len(list(dest.glob("*.tar.gz"))) == 1, sorted(dest.iterdir())
    return dest


@contextmanager
def serve_mirror(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) while the block runs; yields its ``latest.json`` URL."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/latest.json"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on (a port bound, then released): the unreachable mirror."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/latest.json"


def assert_upstream_database(out: Path, url: str) -> dict[str, object]:
    """vulns.json and report.json name the database: grype's upstream source, fetched from ``url``."""
    vulns = json.loads((out / "vulns.json").read_text())
    db = vulns["scanner"]["db"]
    assert db["kind"] == "upstream" and db["source"] == f"grype db update {url}", db
    assert [p["name"] for p in db["providers"]] == ["go-vulndb"] and db["advisories"] > 4000, db
    report = json.loads((out / "report.json").read_text())
    (step,) = [s for s in report["steps"] if s["step"] == "vulnerabilities"]
    named = step["details"]["database"]
    assert named["kind"] == "upstream" and named["source"] == db["source"] and named["stale"] is False, named
    summary = (out / "summary.md").read_text()
    assert url in summary, "summary.md does not name the mirror"
    return dict(db)
