"""Where the vulnerability database comes from: each source explicit, none falling back, the test data refused.

The upstream source is tested for real on loopback: a local HTTP server serves a ``latest.json``
listing and a database archive that grype's own builder packaged (``grypedb-build -archive``), and
``plugingate db update`` has the real grype download, verify and import it. Every way that can go
wrong (a corrupted archive, a wrong checksum, no server, a stale database) ends in exit 3 and leaves
the previous default database in place.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from plugingate.errors import UndecidedError
from plugingate.vulnerabilities.database import (
    DatabaseInfo,
    DatabaseSource,
    ProviderInfo,
    read_database_info,
    require_trusted_data,
)
from tests.conftest import REPO, run_cli

VULNDB = REPO / "testdata" / "vulndb"
WHEN = datetime(2026, 11, 5, tzinfo=UTC)


def info(kind: DatabaseSource, **counts: int) -> DatabaseInfo:
    providers = tuple(ProviderInfo(name, WHEN, "p", "", n) for name, n in counts.items())
    return DatabaseInfo(Path("/db"), "v6.1.10", WHEN, "s", "d", kind=kind, providers=providers)


def test_the_test_database_is_refused_unless_a_test_policy_allows_it() -> None:
    db = info(DatabaseSource.TEST, github=11)
    with pytest.raises(UndecidedError, match="is the test database"):
        require_trusted_data(db, require_providers=(), min_advisories=0, allow_test=False)
    require_trusted_data(db, require_providers=(), min_advisories=0, allow_test=True)


def test_required_providers_and_the_advisory_floor() -> None:
    db = info(DatabaseSource.BUILD, **{"go-vulndb": 4789})
    require_trusted_data(db, require_providers=("go-vulndb",), min_advisories=1000, allow_test=False)
    with pytest.raises(UndecidedError, match=r"no advisories from github, nvd .*go-vulndb \(4789\)"):
        require_trusted_data(db, require_providers=("github", "nvd"), min_advisories=0, allow_test=False)
    with pytest.raises(UndecidedError, match="4789 advisories, fewer than the policy's minimum of 5000"):
        require_trusted_data(db, require_providers=(), min_advisories=5000, allow_test=False)
    # NOTE: a provider listed with no advisories counts as absent data, not as present.
    empty = replace(db, providers=(ProviderInfo("github", WHEN, "p", "", 0),))
    with pytest.raises(UndecidedError, match="0 advisories"):
        require_trusted_data(empty, require_providers=("github",), min_advisories=1, allow_test=False)


# --- real databases --------------------------------------------------------------------------------


def tool(name: str) -> str:
    value = os.environ.get(name, "")
    if not value or not Path(value).is_file():
        pytest.skip(f"{name} is not set: scripts/setup-tools provides it")
    return value


@pytest.mark.integration
def test_the_built_database_holds_the_go_vulnerability_database() -> None:
    built = os.environ.get("PLUGINGATE_TEST_BUILT_DB", "")
    if not built:
        pytest.skip("PLUGINGATE_TEST_BUILT_DB is not set: scripts/test builds it (PLUGINGATE_DB_SOURCE=build)")
    res = run_cli("db", "status", "--format", "json", env={"GRYPE_DB_CACHE_DIR": built})
    assert res.code == 0, res.stderr
    status = json.loads(res.stdout)
    assert status["kind"] == "build" and "golang.org/x/vulndb@" in status["source"]
    (provider,) = status["providers"]
    assert provider["name"] == "go-vulndb" and provider["advisories"] > 4000
    versions = (REPO / "tools" / "versions.env").read_text().splitlines()
    pinned = next(line for line in versions if line.startswith("VULNDB_VERSION=")).split("=")[1]
    assert f"golang.org/x/vulndb@{pinned}" in status["source"]


@pytest.mark.integration
def test_a_label_cannot_make_the_test_database_real(tmp_path: Path) -> None:
    """The marker file says where a database came from; the data (its providers' processor) decides."""
    test_db = Path(os.environ.get("GRYPE_DB_CACHE_DIR", ""))
    if not (test_db / "6" / "vulnerability.db").is_file():
        pytest.skip("GRYPE_DB_CACHE_DIR is not set: scripts/setup-tools provides the test database")
    forged = tmp_path / "db"
    shutil.copytree(test_db, forged)
    (forged / "plugingate-source.json").write_text('{"kind": "build", "source": "real data, honest"}')
    assert read_database_info(forged).kind is DatabaseSource.TEST
    res = run_cli(
        "gate",
        REPO / "examples" / "acme-exporter.tgz",
        "--policy",
        REPO / "policies" / "default.yaml",
        "--out",
        tmp_path / "out",
        env={"GRYPE_DB_CACHE_DIR": str(forged)},
    )
    assert res.code == 3 and "is the test database" in res.stdout + res.stderr


def package(out: Path, *extra: str) -> Path:
    """A database archive and latest.json, as grype's distribution serves them, from testdata/vulndb."""
    builder = tool("PLUGINGATE_GRYPEDB_BUILD")
    proc = subprocess.run(
        [builder, "-providers", str(VULNDB), "-out", str(out), "-archive", *extra],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture
def serve() -> Iterator[functools.partial[str]]:
    """``serve(folder)``: an HTTP server on 127.0.0.1 for that folder; its ``latest.json`` URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(folder: Path) -> str:
        handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/latest.json"

    yield functools.partial(start)
    for server in servers:
        server.shutdown()
        server.server_close()


def update(cache: Path, url: str) -> object:
    env = {"PLUGINGATE_CACHE": str(cache), "GRYPE_DB_UPDATE_URL": url, "PLUGINGATE_GRYPE": tool("PLUGINGATE_GRYPE")}
    return run_cli("db", "update", env=env)


@pytest.mark.integration
def test_upstream_downloads_verifies_and_imports_from_a_mirror(tmp_path: Path, serve: functools.partial[str]) -> None:
    url = serve(package(tmp_path / "mirror"))
    cache = tmp_path / "cache"
    res = update(cache, url)
    assert res.code == 0, res.stderr  # type: ignore[attr-defined]
    current = cache / "grype-db" / "current"
    assert current.resolve() == (cache / "grype-db" / "upstream").resolve()
    db = read_database_info(current)
    assert db.source == f"grype db update {url}" and db.advisories == 13


def corrupt(mirror: Path) -> None:
    (archive,) = mirror.glob("*.tar.gz")
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))


def wrong_checksum(mirror: Path) -> None:
    latest = json.loads((mirror / "latest.json").read_text())
    latest["checksum"] = "sha256:" + hashlib.sha256(b"another archive").hexdigest()
    (mirror / "latest.json").write_text(json.dumps(latest))


@pytest.mark.integration
@pytest.mark.parametrize("spoil", [corrupt, wrong_checksum], ids=["corrupted-archive", "wrong-checksum"])
def test_a_bad_mirror_is_exit_3_and_keeps_the_previous_database(
    tmp_path: Path, serve: functools.partial[str], spoil: object
) -> None:
    cache = tmp_path / "cache"
    good = serve(package(tmp_path / "good"))
    assert update(cache, good).code == 0  # type: ignore[attr-defined]
    before = read_database_info(cache / "grype-db" / "current")
    mirror = package(tmp_path / "bad")
    spoil(mirror)  # type: ignore[operator]
    res = update(cache, serve(mirror))
    assert res.code == 3, res.stdout + res.stderr  # type: ignore[attr-defined]
    assert "could not update its database" in res.stderr  # type: ignore[attr-defined]
    assert read_database_info(cache / "grype-db" / "current") == before


@pytest.mark.integration
def test_an_unreachable_or_empty_mirror_is_exit_3_and_no_database(
    tmp_path: Path, serve: functools.partial[str]
) -> None:
    cache = tmp_path / "cache"
    for url in ("http://127.0.0.1:9/latest.json", serve(tmp_path / "empty")):
        (tmp_path / "empty").mkdir(exist_ok=True)
        res = update(cache, url)
        assert res.code == 3 and "could not update its database" in res.stderr  # type: ignore[attr-defined]
        assert not (cache / "grype-db" / "current").exists()


@pytest.mark.integration
def test_a_stale_mirrored_database_is_not_decided_with(tmp_path: Path, serve: functools.partial[str]) -> None:
    cache = tmp_path / "cache"
    mirror = package(tmp_path / "stale", "-build-time", "2026-01-01T00:00:00Z")
    res = update(cache, serve(mirror))
    if res.code == 0:  # type: ignore[attr-defined]
        # NOTE: grype imports an old database; the gate then refuses to decide with it.
        gate = run_cli(
            "gate",
            REPO / "examples" / "acme-exporter.tgz",
            "--policy",
            REPO / "testdata" / "policies" / "default-test-db.yaml",
            "--out",
            tmp_path / "out",
            env={"GRYPE_DB_CACHE_DIR": str(cache / "grype-db" / "current")},
        )
        assert gate.code == 3 and "stale vulnerability database" in gate.stdout + gate.stderr
    else:
        assert res.code == 3  # type: ignore[attr-defined]


@pytest.mark.integration
def test_import_checks_the_archive_before_grype_sees_it(tmp_path: Path) -> None:
    mirror = package(tmp_path / "mirror")
    (archive,) = mirror.glob("*.tar.gz")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    env = {"PLUGINGATE_CACHE": str(tmp_path / "cache"), "PLUGINGATE_GRYPE": tool("PLUGINGATE_GRYPE")}
    wrong = run_cli("db", "import", archive, "--sha256", "0" * 64, env=env)
    assert wrong.code == 3 and "not the expected" in wrong.stderr
    assert not (tmp_path / "cache" / "grype-db" / "current").exists()
    malformed = run_cli("db", "import", archive, "--sha256", "abc", env=env)
    assert malformed.code == 2 and "64 hex digits" in malformed.stderr
    good = run_cli("db", "import", archive, "--sha256", f"sha256:{digest}", env=env)
    assert good.code == 0, good.stderr
    db = read_database_info(tmp_path / "cache" / "grype-db" / "current")
    assert db.kind is DatabaseSource.TEST  # NOTE: imported test data is still test data
    assert db.source == f"imported {archive.name} {digest[:16]}"
