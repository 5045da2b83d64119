"""The grype database plugingate scans with: where it is, when it was built, whether it is too old.

The database's metadata is read directly (SQLite, read-only) rather than through ``grype db
status``: the result cache needs the build time before deciding whether grype must run at all.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from plugingate.errors import UndecidedError
from plugingate.tools.locate import default_cache_dir

DB_FILE = Path("6") / "vulnerability.db"
IMPORT_FILE = Path("6") / "import.json"
_SETUP_HINT = "run scripts/setup-tools (it imports the project's own database offline), or set GRYPE_DB_CACHE_DIR"


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """The database a scan used: its folder, schema, build time and where it came from."""

    cache_dir: Path
    schema: str
    built: datetime
    source: str
    digest: str

    def age(self, now: datetime) -> timedelta:
        """How old the database is at ``now``."""
        return now - self.built

    def to_dict(self) -> dict[str, object]:
        """As recorded in ``vulns.json`` and the report."""
        return {
            "path": str(self.cache_dir / DB_FILE),
            "schema": self.schema,
            "built": self.built.isoformat().replace("+00:00", "Z"),
            "source": self.source,
            "digest": self.digest,
        }


def database_dir(env: Mapping[str, str] | None = None) -> Path:
    """The grype database cache folder: ``GRYPE_DB_CACHE_DIR``, else the one setup-tools imports into."""
    env = os.environ if env is None else env
    if env.get("GRYPE_DB_CACHE_DIR"):
        return Path(env["GRYPE_DB_CACHE_DIR"])
    return default_cache_dir(env) / "grype-db" / "current"


def read_database_info(cache_dir: Path) -> DatabaseInfo:
    """The metadata of the schema-v6 database under ``cache_dir``; ``UndecidedError`` if unusable."""
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
        finally:
            conn.close()
        if row is None:
            raise ValueError("its db_metadata table is empty")
        built = _parse_time(str(row[0]))
        schema = f"v{int(row[1])}.{int(row[2])}.{int(row[3])}"
    except (sqlite3.Error, ValueError, TypeError) as exc:
        raise UndecidedError(
            f"the vulnerability database at {db_path} is unreadable: {exc}",
            hint="rebuild it: remove the folder and run scripts/setup-tools",
        ) from exc
    source = str(imported.get("source", "unknown"))
    try:
        # NOTE: scripts/setup-tools marks the database it builds from testdata/vulndb, so reports can
        # say it was the project's own and not one grype downloaded.
        marker = json.loads((cache_dir / "plugingate-source.json").read_text(encoding="utf-8"))
        if isinstance(marker, dict) and isinstance(marker.get("source"), str):
            source = f"{marker['source']} {marker.get('key', '')}".strip()
    except (OSError, ValueError):
        pass
    return DatabaseInfo(
        cache_dir=cache_dir,
        schema=schema,
        built=built,
        source=source,
        digest=str(imported.get("digest", "")),
    )


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace(" ", "T").replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
