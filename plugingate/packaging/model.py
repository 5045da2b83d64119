"""What packaging forms hand the manifests step: rendered files, refusals, and the settings they take."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.findings import Finding, Severity
from plugingate.policy.model import ChartsPolicy
from plugingate.signature.identity import TrustedSigner

if TYPE_CHECKING:
    from plugingate.tools.runner import ToolRunner


class Form(StrEnum):
    """Where a plugin's Kubernetes objects come from (the ``spec`` field that declares it)."""

    MANIFESTS = "manifests"
    CHART = "chart"


@dataclass(frozen=True, slots=True)
class RenderedFile:
    """One manifest file a form rendered: the name findings show, the real file, and where it came from."""

    shown: str
    path: Path
    origin: str


@dataclass(frozen=True, slots=True)
class RenderedForm:
    """What a form gave: its manifest files, or the findings that refused rendering it (and warnings)."""

    form: Form
    files: tuple[RenderedFile, ...]
    findings: tuple[Finding, ...] = ()
    tool_versions: tuple[tuple[str, str], ...] = ()

    @property
    def refused(self) -> bool:
        """Whether an error finding stopped the rendering (then ``files`` is empty)."""
        return any(f.severity is Severity.ERROR for f in self.findings) and not self.files


@dataclass(frozen=True, slots=True)
class PackagingOptions:
    """What rendering takes from the gate: the policy's chart settings, its signers, the tool runner."""

    charts: ChartsPolicy = field(default_factory=ChartsPolicy)
    trusted_signers: tuple[TrustedSigner, ...] = ()
    runner: ToolRunner | None = None
