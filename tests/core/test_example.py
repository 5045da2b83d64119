"""The bundled example plugin: its signed archive is current, and it passes the default policy.

The README's first command gates ``examples/acme-exporter.tgz`` with ``policies/default.yaml``; this
is that gate, with the real syft and grype, and a check that the archive is still the reproducible
pack of ``examples/acme-exporter/`` (if not: run ``scripts/sign-example``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from plugingate.bundle import pack_directory, sha256_file
from tests.conftest import run_cli


def test_example_archive_is_the_pack_of_its_folder(repo_dir: Path, tmp_path: Path) -> None:
    digest = pack_directory(repo_dir / "examples" / "acme-exporter", tmp_path / "x.tgz")
    assert digest == sha256_file(repo_dir / "examples" / "acme-exporter.tgz"), (
        "examples/acme-exporter/ changed: run scripts/sign-example"
    )


# NOTE: the default policy's twin that accepts the test database the suite scans with.
TEST_DB_POLICY = Path(__file__).resolve().parents[2] / "testdata" / "policies" / "default-test-db.yaml"


def built_database() -> str:
    """The real database scripts/test built from golang.org/x/vulndb (the quick start builds the same)."""
    built = os.environ.get("PLUGINGATE_TEST_BUILT_DB", "")
    if not built or not Path(built, "6", "vulnerability.db").is_file():
        pytest.skip("PLUGINGATE_TEST_BUILT_DB is not set: scripts/test builds it (PLUGINGATE_DB_SOURCE=build)")
    return built


@pytest.mark.integration
def test_example_passes_the_default_policy(repo_dir: Path, tmp_path: Path) -> None:
    """The README's first command: the default policy, with real advisories (it refuses the test database)."""
    out = tmp_path / "out"
    res = run_cli(
        "gate",
        repo_dir / "examples" / "acme-exporter.tgz",
        "--policy",
        repo_dir / "policies" / "default.yaml",
        "--out",
        out,
        "--format",
        "json",
        env={"GRYPE_DB_CACHE_DIR": built_database()},
    )
    assert res.code == 0, res.stderr + res.stdout
    vulns = json.loads((out / "vulns.json").read_text())
    assert vulns["scanner"]["db"]["kind"] == "build"
    assert [p["name"] for p in vulns["scanner"]["db"]["providers"]] == ["go-vulndb"]
    assert vulns["scanner"]["db"]["advisories"] > 4000
    report = json.loads(res.stdout)
    assert report["verdict"] == "passed" and report["counts"]["error"] == 0
    steps = {s["step"]: s["status"] for s in report["steps"]}
    assert steps["signature"] == "passed" and steps["sbom"] == "passed" and steps["vulnerabilities"] == "passed"
    assert json.loads((out / "report.json").read_text())["bundle"]["sha256"] == report["bundle"]["sha256"]


@pytest.mark.integration
def test_a_changed_example_is_denied(repo_dir: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "acme-exporter.tgz"
    tampered.write_bytes((repo_dir / "examples" / "acme-exporter.tgz").read_bytes() + b"\0")
    for suffix in (".sig", ".sigstore.json"):
        (tmp_path / f"acme-exporter.tgz{suffix}").write_bytes(
            (repo_dir / "examples" / f"acme-exporter.tgz{suffix}").read_bytes()
        )
    res = run_cli("gate", tampered, "--policy", TEST_DB_POLICY, "--out", tmp_path / "out", "--format", "json")
    assert res.code == 1, res.stderr
    rules = {f["ruleId"] for s in json.loads(res.stdout)["steps"] for f in s["findings"] if f["severity"] == "error"}
    assert "PG-SIG-002" in rules


@pytest.mark.integration
def test_relative_out_folder_and_no_cache(repo_dir: Path, tmp_path: Path) -> None:
    res = run_cli(
        "gate",
        repo_dir / "examples" / "acme-exporter.tgz",
        "--policy",
        TEST_DB_POLICY,
        "--out",
        "rel-out",
        "--no-cache",
        "-q",
        cwd=tmp_path,
    )
    assert res.code == 0, res.stderr + res.stdout
    assert {"report.json", "sbom.cdx.json", "vulns.json"} <= {p.name for p in (tmp_path / "rel-out").iterdir()}


@pytest.mark.integration
def test_mode_option_overrides_the_policy(repo_dir: Path, tmp_path: Path) -> None:
    denied = repo_dir / "testdata" / "bundles" / "deny" / "privileged-host-declared"
    policy = repo_dir / "testdata" / "policies" / "cases.yaml"
    enforce = run_cli("gate", denied, "--policy", policy, "--out", tmp_path / "a", "--format", "json")
    assert enforce.code == 1, enforce.stderr
    warn = run_cli("gate", denied, "--policy", policy, "--out", tmp_path / "b", "--format", "json", "--mode", "warn")
    assert warn.code == 0, warn.stderr
    report = json.loads(warn.stdout)
    assert report["mode"] == "warn" and report["verdict"] == "passed" and report["counts"]["error"] > 0
    bad = run_cli("gate", denied, "--policy", policy, "--out", tmp_path / "c", env={"PLUGINGATE_MODE": "yolo"})
    assert bad.code == 2 and "yolo" in bad.stderr


@pytest.mark.integration
def test_the_default_policy_refuses_the_test_database(repo_dir: Path, tmp_path: Path) -> None:
    """A scan against testdata/vulndb would pass nearly anything: the shipped policy will not decide with it."""
    res = run_cli(
        "gate",
        repo_dir / "examples" / "acme-exporter.tgz",
        "--policy",
        repo_dir / "policies" / "default.yaml",
        "--out",
        tmp_path / "out",
    )
    assert res.code == 3, res.stderr + res.stdout
    assert "is the test database" in res.stderr + res.stdout
