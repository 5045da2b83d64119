"""Fail closed: a missing or crashing grype, an unreadable or stale database each exit 3, naming the cause."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from plugingate.tools.locate import tools_dir
from tests.support.toolpins import pin_fake

from .conftest import run_cli

pytestmark = pytest.mark.integration


# NOTE: these scans use the project's test database on purpose: the default policy's twin that allows it.
TEST_DB_POLICY = Path(__file__).resolve().parents[2] / "testdata" / "policies" / "default-test-db.yaml"


def _scan(sbom: Path, env: dict[str, str], tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    policy = () if "--policy" in extra else ("--policy", str(TEST_DB_POLICY))
    done = run_cli("scan", sbom, "--out", tmp_path / "out", *policy, *extra, env=env)
    return done.code, done.stdout, done.stderr


def _fake_tool(path: Path, script: str) -> Path:
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return pin_fake(path, "grype")


def test_a_fresh_database_scans_and_denies(vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path) -> None:
    code, out, err = _scan(vulnerable_sbom, scanner_env, tmp_path)
    assert code == 1, err
    assert out.strip().splitlines()[-1].startswith("denied: 9 match(es)")
    assert "plugingate test database" in out


def test_missing_grype_exits_3_naming_it(vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    env = {**scanner_env, "PLUGINGATE_GRYPE": "", "PLUGINGATE_TOOLS_DIR": str(empty), "PATH": "/usr/bin:/bin"}
    code, _, err = _scan(vulnerable_sbom, env, tmp_path)
    assert code == 3
    assert "grype was not found" in err and "PLUGINGATE_GRYPE" in err and "setup-tools" in err


def test_grype_named_but_absent_exits_3(vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path) -> None:
    env = {**scanner_env, "PLUGINGATE_GRYPE": str(tmp_path / "nowhere" / "grype")}
    code, _, err = _scan(vulnerable_sbom, env, tmp_path)
    assert code == 3
    assert "PLUGINGATE_GRYPE=" in err and "is not an executable file" in err


def test_crashing_grype_exits_3_with_its_message(
    vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path
) -> None:
    fake = _fake_tool(
        tmp_path / "grype",
        'if [ "$1" = version ]; then echo \'{"version": "0.121.2"}\'; exit 0; fi\n'
        'echo "panic: runtime error: index out of range (fake grype)" >&2\nexit 1\n',
    )
    code, _, err = _scan(vulnerable_sbom, {**scanner_env, "PLUGINGATE_GRYPE": str(fake)}, tmp_path)
    assert code == 3
    assert "grype 0.121.2 failed while scanning" in err and "(exit 1)" in err
    assert "index out of range (fake grype)" in err
    assert not (tmp_path / "out" / "vulns.json").exists()


def test_grype_that_cannot_even_report_its_version_exits_3(
    vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path
) -> None:
    fake = _fake_tool(tmp_path / "grype", 'echo "exec format error" >&2\nexit 126\n')
    code, _, err = _scan(vulnerable_sbom, {**scanner_env, "PLUGINGATE_GRYPE": str(fake)}, tmp_path)
    assert code == 3
    assert "does not run" in err and "exec format error" in err


def test_grype_writing_garbage_exits_3(vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path) -> None:
    fake = _fake_tool(
        tmp_path / "grype",
        'if [ "$1" = version ]; then echo \'{"version": "0.121.2"}\'; exit 0; fi\n'
        'while [ $# -gt 0 ]; do if [ "$1" = --file ]; then echo \'{"matches": [{"vulnerability": 7}]}\' > "$2"; fi; '
        "shift; done\nexit 0\n",
    )
    code, _, err = _scan(vulnerable_sbom, {**scanner_env, "PLUGINGATE_GRYPE": str(fake)}, tmp_path)
    assert code == 3
    assert "grype's JSON output is not what plugingate expects" in err and "matches[0].vulnerability" in err


def test_missing_database_exits_3(vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path) -> None:
    env = {**scanner_env, "GRYPE_DB_CACHE_DIR": str(tmp_path / "empty-db")}
    code, _, err = _scan(vulnerable_sbom, env, tmp_path)
    assert code == 3
    assert "no vulnerability database at" in err and "setup-tools" in err


def test_unreadable_database_exits_3(vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken-db"
    shutil.copytree(scanner_env["GRYPE_DB_CACHE_DIR"], broken)
    db = broken / "6" / "vulnerability.db"
    db.write_bytes(b"this is not an SQLite database\n" * 100)
    code, _, err = _scan(vulnerable_sbom, {**scanner_env, "GRYPE_DB_CACHE_DIR": str(broken)}, tmp_path)
    assert code == 3
    assert "is unreadable" in err and str(db) in err


def test_database_without_import_metadata_exits_3(
    vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path
) -> None:
    raw = tmp_path / "raw-db"
    shutil.copytree(scanner_env["GRYPE_DB_CACHE_DIR"], raw)
    (raw / "6" / "import.json").unlink()
    code, _, err = _scan(vulnerable_sbom, {**scanner_env, "GRYPE_DB_CACHE_DIR": str(raw)}, tmp_path)
    assert code == 3
    assert "no readable import.json" in err


def _grypedb_build() -> Path:
    path = Path(os.environ.get("PLUGINGATE_GRYPEDB_BUILD") or tools_dir() / "grypedb-build")
    if not path.is_file():
        pytest.skip(f"grypedb-build not found at {path}: run scripts/setup-tools")
    return path


@pytest.fixture(scope="session")
def stale_db(scanners: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's advisories built into a database stamped 2020-01-01, imported with grype."""
    root = tmp_path_factory.mktemp("stale-db")
    vulndb = Path(__file__).resolve().parents[2] / "testdata" / "vulndb"
    subprocess.run(
        [
            str(_grypedb_build()),
            "-providers",
            str(vulndb),
            "-out",
            str(root / "raw"),
            "-build-time",
            "2020-01-01T00:00:00Z",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(root),
        "GRYPE_DB_CACHE_DIR": str(root / "cache"),
        "GRYPE_CHECK_FOR_APP_UPDATE": "false",
    }
    subprocess.run(
        [scanners["PLUGINGATE_GRYPE"], "db", "import", str(root / "raw" / "vulnerability.db")],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    return root / "cache"


def test_stale_database_exits_3(
    vulnerable_sbom: Path, scanner_env: dict[str, str], stale_db: Path, tmp_path: Path
) -> None:
    code, _, err = _scan(vulnerable_sbom, {**scanner_env, "GRYPE_DB_CACHE_DIR": str(stale_db)}, tmp_path)
    assert code == 3
    assert "stale vulnerability database" in err and "2020-01-01T00:00:00+00:00" in err
    assert "maxDatabaseAge" in err


def test_a_fresh_database_is_stale_at_a_later_clock(
    vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path
) -> None:
    code, _, err = _scan(vulnerable_sbom, scanner_env, tmp_path, "--now", "2099-01-01T00:00:00Z")
    assert code == 3 and "stale vulnerability database" in err


def test_stale_database_only_warns_when_the_policy_says_so(
    vulnerable_sbom: Path, scanner_env: dict[str, str], stale_db: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "warn.yaml"
    policy.write_text(
        "apiVersion: plugingate.dev/v1\nkind: GatePolicy\nmetadata: {name: stale-warn}\n"
        "spec:\n  vulnerabilities:\n    onStaleDatabase: warn\n    database: {allowTestDatabase: true}\n"
    )
    env = {**scanner_env, "GRYPE_DB_CACHE_DIR": str(stale_db)}
    code, out, err = _scan(vulnerable_sbom, env, tmp_path, "--policy", policy, "--format", "json")
    assert code == 1, err
    report = json.loads(out)
    assert report["database"]["stale"] is True and report["database"]["built"] == "2020-01-01T00:00:00Z"
    assert any(f["ruleId"] == "PG-VUL-020" and f["severity"] == "warning" for f in report["findings"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"hello": "world"}', "is not a CycloneDX, SPDX or syft JSON SBOM"),
        ("[]", "is not a CycloneDX, SPDX or syft JSON SBOM"),
    ],
)
def test_a_file_that_is_not_an_sbom_is_bad_input(
    scanner_env: dict[str, str], tmp_path: Path, content: str, message: str
) -> None:
    sbom = tmp_path / "x.json"
    sbom.write_text(content)
    code, _, err = _scan(sbom, scanner_env, tmp_path)
    assert code == 2
    assert str(sbom) in err and message in err


def test_an_spdx_sbom_is_scanned_too(vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path) -> None:
    spdx = vulnerable_sbom.with_name("sbom.spdx.json")
    code, out, err = _scan(spdx, scanner_env, tmp_path, "--format", "json")
    assert code == 1, err
    denying = sorted(f["properties"]["vulnerability"] for f in json.loads(out)["findings"] if f["severity"] == "error")
    assert len(denying) == 5


def test_the_metadata_read_while_syft_runs_is_not_served_for_a_replaced_database(
    scanner_env: dict[str, str], tmp_path: Path
) -> None:
    # NOTE: the gate reads the database's metadata ahead (prepare_scan) and remembers it; a database
    # swapped afterwards must be read again, and a broken one must fail, not reuse the old answer.
    from plugingate.errors import UndecidedError
    from plugingate.vulnerabilities import read_database_info

    db = tmp_path / "db"
    shutil.copytree(scanner_env["GRYPE_DB_CACHE_DIR"], db)
    first = read_database_info(db)
    assert read_database_info(db) is first
    replacement = tmp_path / "replacement.db"
    replacement.write_bytes(b"not a database" * 100)
    os.replace(replacement, db / "6" / "vulnerability.db")
    with pytest.raises(UndecidedError, match="unreadable"):
        read_database_info(db)
