"""govulncheck's local database, written from the ``data/osv`` records of a ``golang.org/x/vulndb`` module.

The differential test runs ``govulncheck -db file://DIR`` over the *same* pinned vulndb version that
``plugingate db build`` turned into the gate's database, so a difference between the two scanners
is a difference of matching, never of data. govulncheck's v1 database schema
(golang.org/x/vuln/internal/client) is ``index/db.json``, ``index/modules.json``, ``index/vulns.json``
and ``ID/<GO-id>.json``; vulndb ships only the OSV records, so the index is written here.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any


def _modified(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(record["modified"]).replace("Z", "+00:00"))


def write_govulncheck_db(module_dir: Path, out: Path) -> int:
    """Write govulncheck's database for ``module_dir``'s ``data/osv`` into ``out``; the number of records."""
    osv_dir = module_dir / "data" / "osv"
    records = sorted(osv_dir.glob("GO-*.json"))
    if not records:
        raise FileNotFoundError(f"no GO-*.json record in {osv_dir}: is {module_dir} a golang.org/x/vulndb module?")
    (out / "ID").mkdir(parents=True, exist_ok=True)
    (out / "index").mkdir(parents=True, exist_ok=True)
    modules: dict[str, list[dict[str, str]]] = {}
    vulns: list[dict[str, Any]] = []
    newest: datetime | None = None
    for path in records:
        record: dict[str, Any] = json.loads(path.read_text())
        modified = _modified(record)
        newest = modified if newest is None or modified > newest else newest
        stamp = record["modified"]
        vulns.append({"id": record["id"], "modified": stamp, "aliases": record.get("aliases", [])})
        for affected in record.get("affected", []):
            name = affected.get("package", {}).get("name", "")
            entry = {"id": record["id"], "modified": stamp}
            # NOTE: no "fixed": govulncheck uses it only to skip fetching a record it would then rule
            # out itself; leaving it out makes govulncheck read every record of a module it found and
            # decide from the record's own ranges, so this index cannot hide an advisory.
            if name and entry not in modules.setdefault(name, []):
                modules[name].append(entry)
        shutil.copyfile(path, out / "ID" / path.name)
    assert newest is not None
    (out / "index" / "db.json").write_text(json.dumps({"modified": newest.strftime("%Y-%m-%dT%H:%M:%SZ")}))
    (out / "index" / "modules.json").write_text(
        json.dumps([{"path": name, "vulns": sorted(v, key=lambda e: e["id"])} for name, v in sorted(modules.items())])
    )
    (out / "index" / "vulns.json").write_text(json.dumps(vulns))
    return len(records)
