"""Where a finding points to in the consumer's repository, for the reports CI systems annotate with.

Findings locate themselves relative to the bundle root (``deploy/role.yaml:12``). Code scanning
(SARIF) and GitLab's reports resolve paths against the repository the pipeline runs in, so a bundle
that is a directory in that repository maps to ``<bundle dir>/<path>``; a bundle archive maps to the
archive itself, because the file inside it exists nowhere in the repository.
"""

from __future__ import annotations

import functools
import posixpath
from pathlib import Path, PurePosixPath

from plugingate.findings import Location
from plugingate.result import GateResult


def bundle_repo_path(result: GateResult, cwd: Path | None = None) -> str:
    """The bundle as a repository-relative POSIX path (its bare name when it lies outside ``cwd``)."""
    # NOTE: every finding of every report asks; resolving the paths each time showed in the gate's tail.
    return _repo_path(result.bundle.source, result.bundle.name, str(cwd or Path.cwd()))


@functools.lru_cache(maxsize=64)
def _repo_path(source_text: str, name: str, cwd: str) -> str:
    source = Path(source_text)
    if source.is_absolute():
        base = Path(cwd).resolve()
        try:
            source = source.resolve().relative_to(base)
        except ValueError:
            # NOTE: outside the repository: the bundle's own file or folder name (for a folder,
            # bundle.name is the name of the archive it was packed into, which exists nowhere).
            return source.name or name
    text = posixpath.normpath(source.as_posix())
    return text if text not in ("", ".") else name


def finding_repo_path(result: GateResult, location: Location | None, cwd: Path | None = None) -> tuple[str, bool]:
    """The repository path a finding points to, and whether ``location.line`` is meaningful there."""
    bundle = bundle_repo_path(result, cwd)
    if location is None or result.bundle.kind != "directory":
        return bundle, False
    inner = PurePosixPath(posixpath.normpath(location.path.lstrip("/")))
    if inner.parts and inner.parts[0] == "..":
        # NOTE: a hostile bundle's path must not point the annotation outside the bundle.
        return bundle, False
    return posixpath.normpath(f"{bundle}/{inner.as_posix()}"), True
