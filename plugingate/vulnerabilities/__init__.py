"""The vulnerability step: grype on the SBOM, then thresholds, exceptions (with expiry) and VEX."""

from __future__ import annotations

from plugingate.vulnerabilities.database import DatabaseInfo, database_dir, read_database_info
from plugingate.vulnerabilities.evaluate import Disposition, EvaluatedMatch
from plugingate.vulnerabilities.grype import Match
from plugingate.vulnerabilities.scan import VULNS_NAME, ScanResult, scan_sbom

__all__ = [
    "VULNS_NAME",
    "DatabaseInfo",
    "Disposition",
    "EvaluatedMatch",
    "Match",
    "ScanResult",
    "database_dir",
    "read_database_info",
    "scan_sbom",
]
