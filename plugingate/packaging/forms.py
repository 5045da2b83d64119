"""The dispatch from a declaration's packaging form to the plain manifest files the gate checks.

``spec.manifests`` is read where it lies. Every other form (``spec.chart`` here; ``spec.kustomize``
and ``spec.operator`` in their own modules, in the same shape) is rendered into the gate's private
work folder as manifest files, each with the name a finding shows (``chart acme/templates/x.yaml
(profile ha)``) and the real path the loader reads. The manifests loader then reads them exactly as
it reads ``spec.manifests``: the same bounded YAML, the same second reading (Kubernetes' own
decoder, which must agree), the same checks.

A form that cannot be rendered faithfully offline gives findings (``refusals``) instead of files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from plugingate.declaration import Declaration
from plugingate.findings import Finding, Severity
from plugingate.policy.model import ChartsPolicy
from plugingate.signature.identity import TrustedSigner
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


def declared_form(declaration: Declaration) -> Form:
    """The form the declaration uses (plain manifests when none other is declared)."""
    if declaration.chart is not None:
        return Form.CHART
    return Form.MANIFESTS


def render_declared(root: Path, declaration: Declaration, options: PackagingOptions, work: Path) -> RenderedForm | None:
    """The declared form rendered into ``work`` (a private, empty folder); None for plain manifests."""
    form = declared_form(declaration)
    if form is Form.CHART:
        from plugingate.packaging.chart_form import render_chart

        return render_chart(root, declaration, options, work)
    return None
