"""Finding a tool: its environment variable, then plugingate's tools folder, then PATH."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from plugingate.errors import ToolError


class Tool(StrEnum):
    """The external tools plugingate runs."""

    SYFT = "syft"
    GRYPE = "grype"
    COSIGN = "cosign"
    KUSTOMIZE = "kustomize"

    @property
    def env_var(self) -> str:
        """The variable that names this tool's binary explicitly (``PLUGINGATE_GRYPE``)."""
        return f"PLUGINGATE_{self.name}"


class Helper(StrEnum):
    """The project's own helpers, built from ``tools/`` by ``scripts/setup-tools`` (not third-party pins)."""

    K8SDECODE = "k8sdecode"
    OLMVALIDATE = "olmvalidate"

    @property
    def env_var(self) -> str:
        """The variable that names this helper's binary explicitly (``PLUGINGATE_K8SDECODE``)."""
        return f"PLUGINGATE_{self.name}"


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """A tool found on this machine: where, how it was found, and the version it reports."""

    tool: Tool | Helper
    path: Path
    found_by: str
    version: str


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """plugingate's per-user cache (``$PLUGINGATE_CACHE``, else ``$XDG_CACHE_HOME/plugingate``)."""
    env = os.environ if env is None else env
    if env.get("PLUGINGATE_CACHE"):
        return Path(env["PLUGINGATE_CACHE"])
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "plugingate"


def tools_dir(env: Mapping[str, str] | None = None) -> Path:
    """The tools folder ``scripts/setup-tools`` links the pinned binaries into."""
    env = os.environ if env is None else env
    if env.get("PLUGINGATE_TOOLS_DIR"):
        return Path(env["PLUGINGATE_TOOLS_DIR"])
    return default_cache_dir(env) / "bin"


def locate(tool: Tool | Helper, env: Mapping[str, str] | None = None) -> tuple[Path, str]:
    """The binary of ``tool`` and how it was found; ``ToolError`` (exit 3) when there is none.

    The current folder is never searched: a gate often runs where a bundle was unpacked, and a
    bundle must not be able to ship its own ``grype``.
    """
    env = os.environ if env is None else env
    explicit = env.get(tool.env_var)
    if explicit:
        path = Path(explicit)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ToolError(
                f"{tool.env_var}={explicit} is not an executable file",
                tool=str(tool),
                hint=f"point {tool.env_var} at the {tool} binary, or unset it to use the tools folder or PATH",
            )
        return path.absolute(), tool.env_var
    candidate = tools_dir(env) / str(tool)
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate, "tools folder"
    search_path = env.get("PATH", os.defpath)
    found = shutil.which(str(tool), path=search_path)
    if found and Path(found).is_absolute():
        return Path(found), "PATH"
    raise ToolError(
        f"{tool} was not found: not in {tool.env_var}, not in {tools_dir(env)}, not on PATH",
        tool=str(tool),
        hint=f"run scripts/setup-tools (builds the pinned tools offline), or set {tool.env_var} to the {tool} binary",
    )
