"""The scan step: grype on the SBOM against a known database, then the policy; writes ``vulns.json``."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from plugingate.bundle.digest import sha256_file
from plugingate.cache import ResultCache, cache_key
from plugingate.errors import InputError, UndecidedError
from plugingate.files import FileTooLargeError, UnreadableFileError, read_bounded
from plugingate.findings import Finding, Severity
from plugingate.policy.model import VulnerabilityPolicy, VulnException
from plugingate.tools import Tool, ToolRunner
from plugingate.vulnerabilities import rules
from plugingate.vulnerabilities.database import DatabaseInfo, database_dir, read_database_info, require_trusted_data
from plugingate.vulnerabilities.evaluate import EvaluatedMatch, evaluate, exception_dict
from plugingate.vulnerabilities.grype import parse_grype_json, run_grype
from plugingate.vulnerabilities.vex import load_vex

VULNS_NAME = "vulns.json"
VULNS_SCHEMA_VERSION = "1.0"
_GRYPE_JSON = "grype.json"


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What the scan found and what the policy made of it.

    ``counts`` are by severity of the matches that remain after exceptions and VEX; ``database``
    says which database was used and when it was built; ``cached`` says grype did not run.
    """

    findings: tuple[Finding, ...]
    matches: tuple[EvaluatedMatch, ...]
    counts: Mapping[str, int]
    exceptions_applied: tuple[VulnException, ...]
    expired_exceptions: tuple[VulnException, ...]
    database: DatabaseInfo
    database_stale: bool
    tools: Mapping[str, str]
    vulns_path: Path
    sbom_sha256: str
    cached: bool
    seconds: float
    max_rss_kib: int

    @property
    def denied(self) -> bool:
        """Whether any finding denies (in enforce mode)."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def suppressed(self) -> int:
        """How many matches an exception or a VEX statement removed."""
        return sum(m.suppressed for m in self.matches)

    def summary(self) -> str:
        """One line for the report."""
        shown = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n) or "none"
        denying = sum(f.severity is Severity.ERROR for f in self.findings)
        return (
            f"{len(self.matches)} match(es): {shown}; {denying} deny, {self.suppressed} suppressed; "
            f"database built {self.database.built.isoformat()} ({self.database.source})"
        )

    def tool_versions(self) -> dict[str, str]:
        """grype's version and its database's build time and schema, for the gate's record of versions."""
        return {
            **self.tools,
            "grypeDbBuilt": self.database.built.isoformat().replace("+00:00", "Z"),
            "grypeDbSchema": self.database.schema,
        }

    def details(self) -> dict[str, object]:
        """The step's details for ``report.json``."""
        return {
            "tools": self.tool_versions(),
            "database": {**self.database.to_dict(), "stale": self.database_stale},
            "counts": dict(self.counts),
            "suppressed": self.suppressed,
            "exceptionsApplied": [exception_dict(e) for e in self.exceptions_applied],
            "expiredExceptions": [exception_dict(e) for e in self.expired_exceptions],
            "vulns": self.vulns_path.name,
            "cached": self.cached,
        }


def scan_sbom(
    sbom_path: Path,
    policy: VulnerabilityPolicy,
    *,
    runner: ToolRunner,
    now: datetime,
    out_dir: Path,
    cache: ResultCache | None = None,
    policy_digest: str = "",
    policy_source: str = "policy",
    db_dir: Path | None = None,
    timeout: float | None = None,
) -> ScanResult:
    """Scan ``sbom_path`` with grype and apply ``policy`` at ``now``; write ``out_dir/vulns.json``.

    Fails closed with ``UndecidedError``/``ToolError`` (exit 3) when the database is missing,
    unreadable or (``onStaleDatabase: fail``) older than ``maxDatabaseAge``, or grype is missing or
    fails. A bad VEX document is an ``InputError`` (exit 2).
    """
    # NOTE: grype runs in its own working folder: a relative path would name another place there.
    sbom_path, out_dir = sbom_path.absolute(), out_dir.absolute()
    started = time.monotonic()
    database = read_database_info(db_dir or database_dir(runner.env))
    require_trusted_data(
        database,
        require_providers=policy.require_providers,
        min_advisories=policy.min_advisories,
        allow_test=policy.allow_test_database,
    )
    age = database.age(now)
    stale = age > policy.max_database_age
    stale_findings: list[Finding] = []
    if stale:
        message = (
            f"the vulnerability database was built {database.built.isoformat()}, "
            f"{age.total_seconds() / 3600:.0f} h before {now.isoformat()}; the policy allows at most "
            f"{policy.max_database_age.total_seconds() / 3600:.0f} h (maxDatabaseAge)"
        )
        if policy.on_stale_database != "warn":
            raise UndecidedError(
                f"stale vulnerability database: {message}",
                hint="update it (scripts/setup-tools; grype db update where there is network), "
                "or set vulnerabilities.onStaleDatabase: warn",
            )
        stale_findings.append(rules.STALE_DATABASE.finding(message, built=database.built.isoformat()))
    statements = load_vex(policy.vex)
    grype_version = runner.info(Tool.GRYPE).version
    sbom_sha256 = sha256_file(sbom_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    key = cache_key(
        "scan",
        {
            "sbom": sbom_sha256,
            "grype": grype_version,
            "dbBuilt": database.built.isoformat(),
            "dbDigest": database.digest,
            "policy": policy_digest,
        },
    )
    entry = cache.get(key) if cache is not None else None
    max_rss = 0
    with tempfile.TemporaryDirectory(prefix=".scan-", dir=out_dir) as staging_name:
        staging = Path(staging_name)
        if entry is not None:
            grype_json = entry.files[_GRYPE_JSON]
        else:
            grype_json = staging / _GRYPE_JSON
            run = run_grype(runner, sbom_path, grype_json, database.cache_dir, timeout=timeout)
            max_rss = run.max_rss_kib
            if cache is not None:
                cache.put(key, {_GRYPE_JSON: grype_json}, {"sbom": sbom_sha256})
        matches = parse_grype_json(grype_json)
        evaluation = evaluate(matches, policy, statements, now=now, policy_source=policy_source)
        result = ScanResult(
            findings=(*stale_findings, *evaluation.findings),
            matches=evaluation.matches,
            counts=evaluation.counts,
            exceptions_applied=evaluation.exceptions_applied,
            expired_exceptions=evaluation.expired_exceptions,
            database=database,
            database_stale=stale,
            tools={"grype": grype_version},
            vulns_path=out_dir / VULNS_NAME,
            sbom_sha256=sbom_sha256,
            cached=entry is not None,
            seconds=time.monotonic() - started,
            max_rss_kib=max_rss,
        )
        document = vulns_document(result, policy, sbom_path, now)
        tmp = staging / VULNS_NAME
        tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        tmp.replace(result.vulns_path)
    return result


MAX_SBOM_BYTES = 512 * 1024 * 1024


def check_sbom_file(path: Path) -> str:
    """The format of a user-supplied SBOM (``cyclonedx``, ``spdx``, ``syft``); ``InputError`` (exit 2) if none.

    grype would fail on anything else too, but that would read as "could not decide" (exit 3);
    a file that is not an SBOM is bad input.
    """

    def bad(message: str) -> InputError:
        return InputError(message, path=str(path), hint="pass the sbom.cdx.json or sbom.spdx.json that syft wrote")

    try:
        doc = json.loads(read_bounded(path, MAX_SBOM_BYTES, "the SBOM"))
    except FileTooLargeError as exc:
        raise bad(f"is more than the {MAX_SBOM_BYTES} bytes allowed") from exc
    except UnreadableFileError as exc:
        raise bad(f"cannot be read: {exc.reason}") from exc
    except ValueError as exc:
        raise bad(f"is not JSON: {exc}") from exc
    if isinstance(doc, dict):
        if doc.get("bomFormat") == "CycloneDX":
            return "cyclonedx"
        if isinstance(doc.get("spdxVersion"), str):
            return "spdx"
        if isinstance(doc.get("artifacts"), list) and isinstance(doc.get("descriptor"), dict):
            return "syft"
    raise bad("is not a CycloneDX, SPDX or syft JSON SBOM (no bomFormat, spdxVersion or artifacts)")


def vulns_document(
    result: ScanResult, policy: VulnerabilityPolicy, sbom_path: Path, now: datetime
) -> dict[str, object]:
    """``vulns.json``: the scanner, the database, the policy's settings and every match's disposition."""
    return {
        "schemaVersion": VULNS_SCHEMA_VERSION,
        "scanner": {"name": "grype", "version": result.tools["grype"], "db": result.database.to_dict()},
        "sbom": {"path": sbom_path.name, "sha256": result.sbom_sha256},
        "evaluatedAt": now.isoformat().replace("+00:00", "Z"),
        "policy": {
            "failOn": str(policy.fail_on),
            "onlyFixed": policy.only_fixed,
            "maxDatabaseAgeHours": policy.max_database_age.total_seconds() / 3600,
            "requireProviders": list(policy.require_providers),
            "minAdvisories": policy.min_advisories,
            "allowTestDatabase": policy.allow_test_database,
        },
        "databaseStale": result.database_stale,
        "denied": result.denied,
        "counts": dict(result.counts),
        "exceptionsApplied": [exception_dict(e) for e in result.exceptions_applied],
        "expiredExceptions": [exception_dict(e) for e in result.expired_exceptions],
        "matches": [m.to_dict() for m in result.matches],
    }
