"""Running syft with an explicit configuration: cataloguing a source, converting its own JSON.

The gate has syft catalogue the bundle into syft's own JSON only (the lossless format grype reads
best), so grype can start at once while ``syft convert`` writes the CycloneDX and SPDX documents
from that JSON beside it: the two formats come off the critical path without losing anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from plugingate.errors import ToolError
from plugingate.files import FileTooLargeError, UnreadableFileError, read_bounded
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


class SbomFormat(StrEnum):
    """The formats syft writes for plugingate (syft's own names)."""

    SYFT = "syft-json"
    CYCLONEDX = "cyclonedx-json"
    SPDX = "spdx-json"


def _outputs(outputs: Mapping[SbomFormat, Path]) -> list[str]:
    return [arg for fmt, path in outputs.items() for arg in ("-o", f"{fmt}={path}")]


def run_syft(
    runner: ToolRunner,
    source: str,
    *,
    outputs: Mapping[SbomFormat, Path],
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
            *_outputs(outputs),
            # NOTE: NAME=VALUE, so a name from plugin.yaml that starts with "-" stays a value.
            f"--source-name={name}",
            f"--source-version={version}",
        ],
        files={"syft.yaml": SYFT_CONFIG},
        timeout=timeout,
    )
    return run.check(f"cataloguing {source}")


def convert_sbom(
    runner: ToolRunner, syft_json: Path, *, outputs: Mapping[SbomFormat, Path], timeout: float | None = None
) -> ToolRun:
    """``syft convert``: syft's own JSON into other formats, with nothing lost (it is syft's model)."""
    run = runner.run(
        Tool.SYFT,
        ["convert", str(syft_json), "-c", "{work}/syft.yaml", "-q", *_outputs(outputs)],
        files={"syft.yaml": SYFT_CONFIG},
        timeout=timeout,
        # NOTE: the gate runs grype beside the conversion, and grype is what it waits for.
        background=True,
    )
    return run.check(f"converting {syft_json.name}")


def read_sbom(path: Path, tool: str = "syft") -> dict[str, Any]:
    """A JSON SBOM a tool wrote, bounded in size; ``ToolError`` when it is missing or not JSON."""
    try:
        doc = json.loads(read_bounded(path, MAX_SBOM_BYTES, path.name))
    except FileTooLargeError as exc:
        raise ToolError(f"{path.name} is over the {MAX_SBOM_BYTES} bytes allowed", tool=tool) from exc
    except UnreadableFileError as exc:
        raise ToolError(f"{tool} did not write a readable {path.name}: {exc.reason}", tool=tool) from exc
    except ValueError as exc:
        raise ToolError(f"{tool} did not write a readable {path.name}: {exc}", tool=tool) from exc
    if not isinstance(doc, dict):
        raise ToolError(f"{path.name} is not a JSON object", tool=tool)
    return doc
