"""The grype database plugingate scans with: where it is, where it came from, what it holds.

The database's metadata is read directly (SQLite, read-only) rather than through ``grype db
status``: the result cache needs the build time before deciding whether grype must run at all, and
the policy needs the providers and their advisory counts to decide whether the data is real.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from plugingate.errors import UndecidedError
from plugingate.result import rfc3339
from plugingate.tools.locate import default_cache_dir

DB_FILE = Path("6") / "vulnerability.db"
IMPORT_FILE = Path("6") / "import.json"
SOURCE_FILE = "plugingate-source.json"
# NOTE: the processor name testdata/vulndb's workspaces carry; it is in the database itself, so a
# test database is recognised even without (or against) its source marker.
TEST_PROCESSOR = "plugingate-testdata"
_SETUP_HINT = (
    "provision one: `plugingate db update` (grype's own database; GRYPE_DB_UPDATE_URL for a mirror), "
    "`plugingate db build` (the Go vulnerability database, offline) or `plugingate db import FILE --sha256 HEX`; "
    "scripts/setup-tools does the same with PLUGINGATE_DB_SOURCE; or set GRYPE_DB_CACHE_DIR"
)


class DatabaseSource(StrEnum):
    """Where a database came from; each is chosen explicitly and none falls back to another."""

    UPSTREAM = "upstream"  # grype db update (grype's listing, or GRYPE_DB_UPDATE_URL's)
    IMPORT = "import"  # a mirrored archive, checksum verified, grype db import
    BUILD = "build"  # built here from golang.org/x/vulndb (and any provider workspaces given)
    TEST = "test"  # testdata/vulndb: a dozen fictional advisories, for the test suite only
    UNKNOWN = "unknown"  # put there by hand: grype's own files only


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """One advisory provider in the database: its data's date and how many advisories it gave."""

    name: str
    captured: datetime
    processor: str
    input_digest: str
    advisories: int

    def to_dict(self) -> dict[str, object]:
        """As recorded in ``vulns.json``, the report and ``plugingate db status``."""
        return {
            "name": self.name,
            "captured": rfc3339(self.captured),
            "processor": self.processor,
            "inputDigest": self.input_digest,
            "advisories": self.advisories,
        }


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """The database a scan used: its folder, schema, build time, where it came from and what it holds."""

    cache_dir: Path
    schema: str
    built: datetime
    source: str
    digest: str
    kind: DatabaseSource = DatabaseSource.UNKNOWN
    providers: tuple[ProviderInfo, ...] = ()

    def age(self, now: datetime) -> timedelta:
        """How old the database is at ``now``."""
        return now - self.built

    @property
    def advisories(self) -> int:
        """Advisories over all providers."""
        return sum(p.advisories for p in self.providers)

    def to_dict(self) -> dict[str, object]:
        """As recorded in ``vulns.json`` and the report."""
        return {
            "path": str(self.cache_dir / DB_FILE),
            "schema": self.schema,
            "built": rfc3339(self.built),
            "source": self.source,
            "kind": str(self.kind),
            "digest": self.digest,
            "advisories": self.advisories,
            "providers": [p.to_dict() for p in self.providers],
        }


def database_dir(env: Mapping[str, str] | None = None) -> Path:
    """The grype database cache folder: ``GRYPE_DB_CACHE_DIR``, else the one setup-tools imports into."""
    env = os.environ if env is None else env
    if env.get("GRYPE_DB_CACHE_DIR"):
        return Path(env["GRYPE_DB_CACHE_DIR"])
    return default_cache_dir(env) / "grype-db" / "current"


# NOTE: per process, keyed by what identifies the files read: the gate reads the metadata while syft
# runs (``prepare_scan``) and again in the scan step, which then costs nothing. A database replaced in
# between (a new inode, size or time) is read afresh.
_READ: dict[tuple[object, ...], DatabaseInfo] = {}


def _identity(cache_dir: Path) -> tuple[object, ...] | None:
    try:
        stats = [(cache_dir / name).stat() for name in (DB_FILE, IMPORT_FILE)]
    except OSError:
        return None
    try:
        marker = (cache_dir / SOURCE_FILE).stat().st_mtime_ns
    except OSError:
        marker = None
    return (str(cache_dir.resolve()), marker, *((s.st_ino, s.st_size, s.st_mtime_ns) for s in stats))


def read_database_info(cache_dir: Path) -> DatabaseInfo:
    """The metadata of the schema-v6 database under ``cache_dir``; ``UndecidedError`` if unusable."""
    key = _identity(cache_dir)
    known = _READ.get(key) if key is not None else None
    if known is not None:
        return known
    info = _read_database_info(cache_dir)
    if key is not None:
        _READ[key] = info
    return info


def _read_database_info(cache_dir: Path) -> DatabaseInfo:
    db_path = cache_dir / DB_FILE
    if not db_path.is_file():
        raise UndecidedError(f"no vulnerability database at {db_path}", hint=_SETUP_HINT)
    try:
        imported = json.loads((cache_dir / IMPORT_FILE).read_text(encoding="utf-8"))
        if not isinstance(imported, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        raise UndecidedError(
            f"the vulnerability database at {db_path} has no readable import.json ({exc}): "
            "grype only uses a database that `grype db import` installed",
            hint=_SETUP_HINT,
        ) from exc
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            row = conn.execute("SELECT build_timestamp, model, revision, addition FROM db_metadata").fetchone()
            counts = dict(
                conn.execute("SELECT provider_id, count(*) FROM vulnerability_handles GROUP BY provider_id").fetchall()
            )
            provider_rows = conn.execute(
                "SELECT id, processor, date_captured, input_digest FROM providers ORDER BY id"
            ).fetchall()
        finally:
            conn.close()
        if row is None:
            raise ValueError("its db_metadata table is empty")
        built = _parse_time(str(row[0]))
        schema = f"v{int(row[1])}.{int(row[2])}.{int(row[3])}"
        providers = tuple(
            ProviderInfo(
                name=str(name),
                processor=str(processor or ""),
                captured=_parse_time(str(captured)),
                input_digest=str(digest or ""),
                advisories=int(counts.get(name, 0)),
            )
            for name, processor, captured, digest in provider_rows
        )
    except (sqlite3.Error, ValueError, TypeError) as exc:
        raise UndecidedError(
            f"the vulnerability database at {db_path} is unreadable: {exc}",
            hint="rebuild it: remove the folder and run scripts/setup-tools",
        ) from exc
    source = str(imported.get("source", "unknown"))
    kind = DatabaseSource.UNKNOWN
    try:
        # NOTE: plugingate marks every database it provisions (scripts/setup-tools, `plugingate db`)
        # with where it came from, so reports can say so.
        marker = json.loads((cache_dir / SOURCE_FILE).read_text(encoding="utf-8"))
        if isinstance(marker, dict) and isinstance(marker.get("source"), str):
            source = f"{marker['source']} {marker.get('key', '')}".strip()
            if marker.get("kind") in set(DatabaseSource):
                kind = DatabaseSource(marker["kind"])
    except (OSError, ValueError):
        pass
    if any(p.processor == TEST_PROCESSOR for p in providers):
        # NOTE: the data decides, not the marker: a test database is one whatever it is labelled.
        kind = DatabaseSource.TEST
    return DatabaseInfo(
        cache_dir=cache_dir,
        schema=schema,
        built=built,
        source=source,
        digest=str(imported.get("digest", "")),
        kind=kind,
        providers=providers,
    )


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace(" ", "T").replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def require_trusted_data(
    database: DatabaseInfo, *, require_providers: tuple[str, ...], min_advisories: int, allow_test: bool
) -> None:
    """``UndecidedError`` (exit 3) unless ``database`` holds data the policy trusts.

    A scan against the test database, a database without a provider the policy requires, or one
    with fewer advisories than it asks for would pass plugins for want of data: the gate refuses to
    decide instead, and says which data it found.
    """
    found = ", ".join(f"{p.name} ({p.advisories})" for p in database.providers) or "no provider"
    where = f"the vulnerability database at {database.cache_dir / DB_FILE}"
    if database.kind is DatabaseSource.TEST and not allow_test:
        raise UndecidedError(
            f"{where} is the test database (testdata/vulndb: {found}); its few fictional advisories "
            "would pass almost any plugin",
            hint=_SETUP_HINT.replace("provision one", "provision real data"),
        )
    names = {p.name for p in database.providers}
    missing = [name for name in require_providers if name not in names]
    if missing:
        raise UndecidedError(
            f"{where} has no advisories from {', '.join(missing)} (vulnerabilities.database.requireProviders); "
            f"it holds {found}",
            hint=_SETUP_HINT,
        )
    if database.advisories < min_advisories:
        raise UndecidedError(
            f"{where} holds {database.advisories} advisories, fewer than the policy's minimum of {min_advisories} "
            f"(vulnerabilities.database.minAdvisories): {found}",
            hint=_SETUP_HINT,
        )
