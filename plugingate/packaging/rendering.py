"""What rendering a packaging form gives: manifest files with their origins, and findings about the form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from plugingate.findings import Finding
from plugingate.packaging.origin import Origin


@dataclass(frozen=True, slots=True)
class RenderedFile:
    """One rendered manifest file: the name findings show, the real file, and where it came from.

    A bundle file read as it is (an OLM bundle's plain objects) is shown by its own path, with no origin.

    ``shown`` is never a bundle path (``kustomize:deploy/overlay/003-Deployment-app.yaml``), so a
    rendered copy cannot be mistaken for a file of the bundle; ``relocate`` names the bundle file.
    """

    shown: str
    path: Path
    origin: Origin | None


@dataclass(frozen=True, slots=True)
class Rendering:
    """What a form rendered: its files, and findings about the form itself.

    Findings without files are refusals: the form could not be rendered faithfully, nothing was.
    """

    files: tuple[RenderedFile, ...] = ()
    findings: tuple[Finding, ...] = ()
    # NOTE: bundle files the form was made from but that are not checked as objects themselves (an OLM
    # bundle's CSV), as (shown, real path): Kubernetes' reading of them must agree with the gate's.
    sources: tuple[tuple[str, Path], ...] = ()
    # NOTE: the tools that rendered or validated the form, by name ({"kustomize": "5.5.0"}): report.json's tools.
    tools: Mapping[str, str] = field(default_factory=dict)
