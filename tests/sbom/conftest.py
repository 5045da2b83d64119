"""Fixtures of the SBOM tests: the real syft and grype and the project's database.

They are the vulnerability tests' own (one way to find the tools, one skip message), re-exported
so that pytest registers them for this folder too.
"""

from __future__ import annotations

from tests.vulnerabilities.conftest import BUNDLES, runner, scanners

__all__ = ["BUNDLES", "runner", "scanners"]
