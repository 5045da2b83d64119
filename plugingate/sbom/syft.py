"""Running syft on one source, with an explicit configuration, into CycloneDX and SPDX JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plugingate.errors import ToolError
from plugingate.tools import Tool, ToolRun, ToolRunner

# NOTE: the whole configuration syft gets: written into its private folder and named with -c, so
# that no .syft.yaml (the bundle's, the user's, /etc/xdg's) is ever read. The javascript package
# cataloger is added so that installed node_modules are catalogued in directory scans too.
SYFT_CONFIG = """\
check-for-app-update: false
select-catalogers:
  - "+javascript-package-cataloger"
"""
MAX_SBOM_BYTES = 512 * 1024 * 1024


def run_syft(
    runner: ToolRunner,
    source: str,
    *,
    cdx_path: Path,
    spdx_path: Path,
    name: str,
    version: str,
    timeout: float | None = None,
) -> ToolRun:
    """Catalogue ``source`` (``dir:PATH``, ``docker-archive:PATH``, ``oci-archive:PATH``) with syft."""
    run = runner.run(
        Tool.SYFT,
        [
            "scan",
            source,
            "-c",
            "{work}/syft.yaml",
            "-q",
            "-o",
            f"cyclonedx-json={cdx_path}",
            "-o",
            f"spdx-json={spdx_path}",
            # NOTE: NAME=VALUE, so a name from plugin.yaml that starts with "-" stays a value.
            f"--source-name={name}",
            f"--source-version={version}",
        ],
        files={"syft.yaml": SYFT_CONFIG},
        timeout=timeout,
    )
    return run.check(f"cataloguing {source}")


def read_sbom(path: Path, tool: str = "syft") -> dict[str, Any]:
    """A JSON SBOM a tool wrote, bounded in size; ``ToolError`` when it is missing or not JSON."""
    try:
        size = path.stat().st_size
        if size > MAX_SBOM_BYTES:
            raise ToolError(f"{path.name} is {size} bytes, over the {MAX_SBOM_BYTES} allowed", tool=tool)
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ToolError(f"{tool} did not write a readable {path.name}: {exc}", tool=tool) from exc
    if not isinstance(doc, dict):
        raise ToolError(f"{path.name} is not a JSON object", tool=tool)
    return doc
