#!/usr/bin/env python3
"""Rewrite each provider's ``checksums`` listing and the listing digest in its ``metadata.json``.

The grype builder reads only the result files its workspace listing names, and checks each one's
xxh64; run this after adding or editing an advisory under ``<provider>/results/`` so the build sees
it (``scripts/setup-tools`` rebuilds the database when these files change).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import xxhash

VULNDB = Path(__file__).resolve().parent
STATE_SCHEMA = "https://raw.githubusercontent.com/anchore/vunnel/main/schema/provider-workspace-state/schema-1.0.3.json"
# NOTE: where each provider's real advisories come from (recorded in the database's provider table).
URLS = {
    "github": "https://github.com/advisories",
    "alpine": "https://secdb.alpinelinux.org",
    "debian": "https://security-tracker.debian.org/tracker/data/json",
}


def refresh(workspace: Path) -> None:
    """Rewrite the listing and metadata of one provider workspace."""
    results = sorted(p for p in (workspace / "results").rglob("*.json") if p.is_file())
    lines = [f"{xxhash.xxh64(p.read_bytes()).hexdigest()}  {p.relative_to(workspace).as_posix()}" for p in results]
    listing = "".join(line + "\n" for line in lines)
    (workspace / "checksums").write_text(listing)
    metadata = {
        "provider": workspace.name,
        "urls": [URLS.get(workspace.name, "https://example.invalid/" + workspace.name)],
        "store": "flat-file",
        # NOTE: a fixed timestamp keeps the tree (and so the database cache key) reproducible.
        "timestamp": "2026-02-01T00:00:00Z",
        "version": 2,
        "distribution_version": 1,
        "processor": "plugingate-testdata",
        "listing": {
            "digest": xxhash.xxh64(listing.encode()).hexdigest(),
            "path": "checksums",
            "algorithm": "xxh64",
        },
        "schema": {"version": "1.0.3", "url": STATE_SCHEMA},
        "stale": False,
    }
    (workspace / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"{workspace.name}: {len(results)} advisories")


def main() -> int:
    """Refresh every workspace under ``testdata/vulndb``."""
    workspaces = sorted(p for p in VULNDB.iterdir() if (p / "results").is_dir())
    if not workspaces:
        print("no provider workspace found", file=sys.stderr)
        return 1
    for workspace in workspaces:
        refresh(workspace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
