"""Real Go binaries, gated against the database built from the Go vulnerability database.

scripts/setup-test-binaries builds the programs under testdata/gobinaries (main packages pinned to
old golang.org/x/net, x/text, x/crypto, gopkg.in/yaml.v2/v3, gorilla/websocket, gin, jwt-go) and
govulncheck. Two ship in the bundle as files, the third inside an OCI image archive the bundle pins
by digest. The gate scans them with the database ``plugingate db build`` made from the pinned
``golang.org/x/vulndb`` (PLUGINGATE_TEST_BUILT_DB), and the Go project's own scanner,
``govulncheck -mode binary -scan module`` over the same vulndb version, must find the same advisories
for each binary. Every difference is explained from the advisory's own record, never tolerated.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from plugingate.vulnerabilities.sources import download_module, pinned_vulndb_version
from tests.sbom.imagefiles import layout_members, oci_image, write_tar

from .conftest import Completed, run_cli
from .govulndb_index import write_govulncheck_db

pytestmark = pytest.mark.integration

PROGRAMS = ("netproxy", "yamltool", "ginserver")
IN_IMAGE = "ginserver"
IMAGE_PATH = "usr/local/bin/ginserver"
DISGUISED = "share/doc/README.dat"
SETUP = "scripts/setup-test-binaries provides it (scripts/test runs it)"

POLICY = """apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {{name: go-binaries}}
spec:
  signature: {{required: false, trustedSigners: []}}
  vulnerabilities:
    failOn: high
    database:
      requireProviders: [{providers}]
      minAdvisories: 1000
"""


@dataclass(frozen=True, slots=True)
class Gated:
    """One gate run over the Go bundle: its exit, its outputs and the image's pinned digest."""

    result: Completed
    out: Path
    image_ref: str


def _env_path(name: str) -> Path:
    value = os.environ.get(name, "")
    if not value or not Path(value).exists():
        pytest.skip(f"{name} is not set: {SETUP}")
    return Path(value)


@pytest.fixture(scope="module")
def binaries() -> Path:
    folder = _env_path("PLUGINGATE_TEST_GO_BINARIES")
    for name in PROGRAMS:
        assert (folder / name).is_file(), f"{folder / name} missing: rerun scripts/setup-test-binaries"
    return folder


@pytest.fixture(scope="module")
def built_db() -> Path:
    built = os.environ.get("PLUGINGATE_TEST_BUILT_DB", "")
    if not built:
        pytest.skip("PLUGINGATE_TEST_BUILT_DB is not set: scripts/test builds it (PLUGINGATE_DB_SOURCE=build)")
    return Path(built)


def _bundle(binaries: Path, root: Path) -> str:
    """The bundle: two binaries as files, the third in an OCI archive pinned by digest; the image ref."""
    for name in PROGRAMS:
        if name != IN_IMAGE:
            (root / "bin").mkdir(parents=True, exist_ok=True)
            shutil.copy2(binaries / name, root / "bin" / name)
    # NOTE: a publisher could ship a binary under a name and mode that do not look like a program: a
    # copy of yamltool as a non-executable "data" file must be scanned all the same.
    (root / DISGUISED).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(binaries / "yamltool", root / DISGUISED)
    (root / DISGUISED).chmod(0o644)
    image = oci_image({IMAGE_PATH: (binaries / IN_IMAGE).read_bytes()})
    write_tar(root / "images" / "ginserver.oci.tar", layout_members(image))
    ref = f"registry.example.com/acme/ginserver@{image.digest}"
    (root / "plugin.yaml").write_text(
        "apiVersion: plugingate.dev/v1\nkind: Plugin\n"
        "metadata: {name: go-binaries, version: 0.1.0, publisher: acme.example}\n"
        "spec:\n  capabilities: {}\n"
        f"  images:\n    - {{name: ginserver, ref: '{ref}', archive: images/ginserver.oci.tar}}\n"
    )
    return ref


def _gate(binaries: Path, built_db: Path, tmp: Path, providers: str) -> Gated:
    ref = _bundle(binaries, tmp / "bundle")
    (tmp / "policy.yaml").write_text(POLICY.format(providers=providers))
    env = {"GRYPE_DB_CACHE_DIR": str(built_db), "PLUGINGATE_CACHE": str(tmp / "pg-cache")}
    result = run_cli(
        "gate", tmp / "bundle", "--policy", tmp / "policy.yaml", "--out", tmp / "out", env=env, timeout=900
    )
    return Gated(result, tmp / "out", ref)


@pytest.fixture(scope="module")
def gated(binaries: Path, built_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Gated:
    return _gate(binaries, built_db, tmp_path_factory.mktemp("go-gate"), "go-vulndb")


@pytest.fixture(scope="module")
def vulndb_module() -> Path:
    folder, _ = download_module(f"golang.org/x/vulndb@{pinned_vulndb_version()}", os.environ)
    return folder


def gate_findings(vulns: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The gate's matches per program (by the binary's file name): GO- id -> the module it was found in.

    A match named by an alias (CVE/GHSA) is counted under the GO- id among its aliases.
    """
    found: dict[str, dict[str, str]] = {name: {} for name in (*PROGRAMS, Path(DISGUISED).name)}
    for match in vulns["matches"]:
        ids = [match["id"], *match.get("aliases", [])]
        go_id = next((i for i in ids if i.startswith("GO-")), match["id"])
        for location in match["package"]["locations"]:
            name = location.rsplit("/", 1)[-1]
            if name in found:
                found[name][go_id] = match["package"]["name"]
    return found


def govulncheck_findings(govulncheck: Path, db: Path, binary: Path) -> dict[str, str]:
    """``govulncheck -mode binary -scan module -format json``: GO- id -> module (``stdlib`` for Go's own)."""
    proc = subprocess.run(
        [str(govulncheck), "-mode", "binary", "-scan", "module", "-db", db.as_uri(), "-format", "json", str(binary)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    found: dict[str, str] = {}
    decoder = json.JSONDecoder()
    text, pos = proc.stdout, 0
    while (pos := _skip_space(text, pos)) < len(text):
        message, pos = decoder.raw_decode(text, pos)
        if "finding" in message:
            finding = message["finding"]
            found[finding["osv"]] = finding["trace"][0]["module"]
    return found


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def windows_only(record: dict[str, Any], module: str) -> bool:
    """Whether every affected package of ``module`` in the record is restricted to Windows builds.

    govulncheck drops such an advisory for a linux binary (it matches the binary's GOOS, even in
    ``-scan module``); grype matches by module and version only and has no GOOS to compare.
    """
    imports = [
        imp
        for affected in record["affected"]
        if affected["package"]["name"] == module
        for imp in affected.get("ecosystem_specific", {}).get("imports", [])
    ]
    return bool(imports) and all(imp.get("goos") and "linux" not in imp["goos"] for imp in imports)


def explain(only_gate: dict[str, str], only_govulncheck: dict[str, str], osv: Path) -> dict[str, str]:
    """Why each advisory found by one scanner alone is right to differ; raises for an unexplained one."""
    reasons: dict[str, str] = {}
    for go_id, module in sorted(only_gate.items()):
        record = json.loads((osv / f"{go_id}.json").read_text())
        if not windows_only(record, module):
            raise AssertionError(f"{go_id} ({module}): found by the gate alone, and not a Windows-only advisory")
        reasons[go_id] = f"{module}: Windows-only advisory (goos), govulncheck filters by the binary's GOOS"
    for go_id, module in sorted(only_govulncheck.items()):
        raise AssertionError(f"{go_id} ({module}): found by govulncheck alone (the gate missed it)")
    return reasons


def test_the_gate_denies_the_go_binaries_with_the_built_database(gated: Gated) -> None:
    assert gated.result.code == 1, gated.result.stdout + gated.result.stderr
    report = json.loads((gated.out / "report.json").read_text())
    step = next(s for s in report["steps"] if s["step"] == "vulnerabilities")
    database = step["details"]["database"]
    assert "golang.org/x/vulndb@" + pinned_vulndb_version() in database["source"]
    assert [p["name"] for p in database["providers"]] == ["go-vulndb"]
    sbom = next(s for s in report["steps"] if s["step"] == "sbom")
    assert [(i["ref"], i["origin"]) for i in sbom["details"]["images"]] == [
        (gated.image_ref, "bundle:images/ginserver.oci.tar")
    ]
    found = gate_findings(json.loads((gated.out / "vulns.json").read_text()))
    # NOTE: every program, including the one only inside the image, has its own advisories.
    assert all(found[name] for name in PROGRAMS), {name: len(ids) for name, ids in found.items()}
    assert len({go_id for ids in found.values() for go_id in ids}) >= 20
    # The module versions the programs pin, as compiled into them.
    assert found["netproxy"]["GO-2020-0015"] == "golang.org/x/text"  # UTF-16 decoder loop, x/text v0.3.0
    assert found["yamltool"]["GO-2022-0603"] == "gopkg.in/yaml.v3"  # panic on malformed input
    assert found[IN_IMAGE]["GO-2020-0017"] == "github.com/dgrijalva/jwt-go"
    assert found[Path(DISGUISED).name] == found["yamltool"]


def test_the_built_database_does_not_satisfy_a_policy_that_requires_other_providers(
    binaries: Path, built_db: Path, tmp_path: Path
) -> None:
    """A policy naming grype's upstream providers refuses the Go-only database: exit 3, never a pass."""
    gated = _gate(binaries, built_db, tmp_path, "github, nvd")
    assert gated.result.code == 3, gated.result.stdout + gated.result.stderr
    assert "github" in gated.result.stdout + gated.result.stderr


def test_the_gate_and_govulncheck_find_the_same_advisories(
    gated: Gated, binaries: Path, vulndb_module: Path, tmp_path: Path
) -> None:
    govulncheck = _env_path("PLUGINGATE_GOVULNCHECK")
    db = tmp_path / "govulncheck-db"
    assert write_govulncheck_db(vulndb_module, db) > 4000
    gate = gate_findings(json.loads((gated.out / "vulns.json").read_text()))
    explained: dict[str, dict[str, str]] = {}
    agreed: set[str] = set()
    for name in PROGRAMS:
        theirs = govulncheck_findings(govulncheck, db, binaries / name)
        ours = gate[name]
        assert theirs and ours, name
        only_gate = {i: m for i, m in ours.items() if i not in theirs}
        only_govulncheck = {i: m for i, m in theirs.items() if i not in ours}
        explained[name] = explain(only_gate, only_govulncheck, vulndb_module / "data" / "osv")
        # NOTE: where both found an advisory, they blame the same module (stdlib by toolchain version).
        for go_id in ours.keys() & theirs.keys():
            assert ours[go_id] == theirs[go_id], (name, go_id)
        agreed |= {f"{name}:{go_id}" for go_id in ours.keys() & theirs.keys()}
    assert len(agreed) >= 20
    # NOTE: the differences measured on the pinned vulndb: Windows-only advisories for x/crypto's
    # acme/autocert, x/sys/windows and the os package on Windows. Listed so that a new difference (or
    # a vanished one) shows up here rather than hiding in the explanation rule.
    assert {name: sorted(ids) for name, ids in explained.items()} == {
        "netproxy": ["GO-2026-6604"],
        "yamltool": ["GO-2024-2961", "GO-2026-6604"],
        "ginserver": ["GO-2026-5024", "GO-2026-6604"],
    }


def test_the_explanation_rule_does_not_excuse_a_linux_advisory(vulndb_module: Path) -> None:
    """The only excuse is a Windows-only record: a cross-platform one, or a govulncheck-only one, fails."""
    osv = vulndb_module / "data" / "osv"
    assert explain({"GO-2024-2961": "golang.org/x/crypto"}, {}, osv)
    with pytest.raises(AssertionError, match="not a Windows-only advisory"):
        explain({"GO-2020-0015": "golang.org/x/text"}, {}, osv)
    with pytest.raises(AssertionError, match="govulncheck alone"):
        explain({}, {"GO-2020-0015": "golang.org/x/text"}, osv)
    # Another module of a record restricted for one package only does not borrow its restriction.
    record = {
        "affected": [
            {"package": {"name": "m"}, "ecosystem_specific": {"imports": [{"path": "m/w", "goos": ["windows"]}]}},
            {"package": {"name": "m"}, "ecosystem_specific": {"imports": [{"path": "m/x"}]}},
        ]
    }
    assert not windows_only(record, "m")
    assert not windows_only({"affected": [{"package": {"name": "m"}}]}, "m")
