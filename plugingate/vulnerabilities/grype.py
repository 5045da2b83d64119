"""Running grype on an SBOM with an explicit configuration, and reading its JSON safely."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugingate.errors import ToolError
from plugingate.files import FileTooLargeError, UnreadableFileError, read_bounded
from plugingate.tools import Tool, ToolRun, ToolRunner

MAX_OUTPUT_BYTES = 256 * 1024 * 1024
MAX_MATCHES = 200_000


def grype_config(db_dir: Path) -> str:
    """The whole configuration grype gets (named with -c, so no .grype.yaml is ever read).

    Ignore rules, only-fixed and VEX stay empty here: plugingate applies the policy itself (with
    expiry dates, which grype's ignore rules lack), on the complete list of matches.
    """
    return (
        "check-for-app-update: false\n"
        "only-fixed: false\n"
        "only-notfixed: false\n"
        "ignore: []\n"
        "exclude: []\n"
        "db:\n"
        f"  cache-dir: {json.dumps(str(db_dir))}\n"
        "  auto-update: false\n"
        "  validate-age: false\n"
        "  require-update-check: false\n"
    )


def run_grype(runner: ToolRunner, sbom: Path, out: Path, db_dir: Path, *, timeout: float | None = None) -> ToolRun:
    """``grype sbom:SBOM -o json`` into ``out``; ``ToolError`` when grype fails."""
    run = runner.run(
        Tool.GRYPE,
        ["sbom:" + str(sbom.resolve()), "-c", "{work}/grype.yaml", "-q", "-o", "json", "--file", str(out)],
        env={"GRYPE_DB_CACHE_DIR": str(db_dir)},
        files={"grype.yaml": grype_config(db_dir)},
        timeout=timeout,
    )
    return run.check(f"scanning {sbom.name}")


@dataclass(frozen=True, slots=True)
class Match:
    """One vulnerability grype matched to one package."""

    id: str
    severity: str
    aliases: tuple[str, ...]
    namespace: str
    description: str
    package_name: str
    package_version: str
    package_type: str
    purl: str
    locations: tuple[str, ...]
    fix_state: str
    fix_versions: tuple[str, ...]

    @property
    def ids(self) -> frozenset[str]:
        """The vulnerability id and its aliases (a GHSA id and its CVEs)."""
        return frozenset({self.id, *self.aliases})

    def to_dict(self) -> dict[str, object]:
        """As in ``vulns.json``."""
        return {
            "id": self.id,
            "severity": self.severity,
            "aliases": list(self.aliases),
            "namespace": self.namespace,
            "description": self.description,
            "package": {
                "name": self.package_name,
                "version": self.package_version,
                "type": self.package_type,
                "purl": self.purl,
                "locations": list(self.locations),
            },
            "fix": {"state": self.fix_state, "versions": list(self.fix_versions)},
        }


def _bad(message: str) -> ToolError:
    return ToolError(
        f"grype's JSON output is not what plugingate expects: {message}",
        tool="grype",
        hint="check that grype is the pinned version (plugingate doctor)",
    )


def _str(obj: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = obj.get(key, None if required else "")
    if not isinstance(value, str):
        raise _bad(f"{where}.{key} is {type(value).__name__}, expected a string")
    return value[:4096]


def _dict(obj: object, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise _bad(f"{where} is {type(obj).__name__}, expected an object")
    return obj


def parse_grype_json(path: Path) -> list[Match]:
    """The matches of a grype JSON report, validated field by field and bounded in size."""
    try:
        doc = json.loads(read_bounded(path, MAX_OUTPUT_BYTES, "grype's report"))
    except FileTooLargeError as exc:
        raise _bad(f"over the {MAX_OUTPUT_BYTES} bytes allowed") from exc
    except UnreadableFileError as exc:
        raise _bad(str(exc.reason)) from exc
    except ValueError as exc:
        raise _bad(str(exc)) from exc
    matches_raw = _dict(doc, "document").get("matches")
    if not isinstance(matches_raw, list):
        raise _bad("no matches list")
    if len(matches_raw) > MAX_MATCHES:
        raise _bad(f"{len(matches_raw)} matches, over the {MAX_MATCHES} allowed")
    matches: list[Match] = []
    for number, raw in enumerate(matches_raw):
        where = f"matches[{number}]"
        item = _dict(raw, where)
        vuln = _dict(item.get("vulnerability"), f"{where}.vulnerability")
        artifact = _dict(item.get("artifact"), f"{where}.artifact")
        fix = _dict(vuln.get("fix") or {}, f"{where}.vulnerability.fix")
        related = item.get("relatedVulnerabilities") or []
        aliases = tuple(sorted({r["id"] for r in related if isinstance(r, dict) and isinstance(r.get("id"), str)}))
        locations = tuple(
            loc["path"]
            for loc in artifact.get("locations") or []
            if isinstance(loc, dict) and isinstance(loc.get("path"), str)
        )
        versions = tuple(v for v in fix.get("versions") or [] if isinstance(v, str))
        matches.append(
            Match(
                id=_str(vuln, "id", f"{where}.vulnerability"),
                severity=_str(vuln, "severity", f"{where}.vulnerability", required=False).lower() or "unknown",
                aliases=aliases,
                namespace=_str(vuln, "namespace", f"{where}.vulnerability", required=False),
                description=_str(vuln, "description", f"{where}.vulnerability", required=False),
                package_name=_str(artifact, "name", f"{where}.artifact"),
                package_version=_str(artifact, "version", f"{where}.artifact"),
                package_type=_str(artifact, "type", f"{where}.artifact", required=False),
                purl=_str(artifact, "purl", f"{where}.artifact", required=False),
                locations=locations,
                fix_state=str(fix.get("state") or "unknown"),
                fix_versions=versions,
            )
        )
    return _dedupe(matches)


def _dedupe(matches: list[Match]) -> list[Match]:
    """One match per (vulnerability, package, version), locations merged: grype repeats per location."""
    merged: dict[tuple[str, str, str, str], Match] = {}
    for m in matches:
        key = (m.id, m.purl or m.package_name, m.package_version, m.package_type)
        if key in merged:
            old = merged[key]
            locations = tuple(sorted({*old.locations, *m.locations}))
            merged[key] = Match(**{**_fields(old), "locations": locations})
        else:
            merged[key] = m
    return sorted(merged.values(), key=lambda m: (m.id, m.package_name, m.package_version))


def _fields(m: Match) -> dict[str, Any]:
    return {name: getattr(m, name) for name in Match.__slots__}
