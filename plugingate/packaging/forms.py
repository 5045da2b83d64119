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

from pathlib import Path

from plugingate.declaration import Declaration
from plugingate.packaging.model import Form, PackagingOptions, RenderedFile, RenderedForm

__all__ = ["Form", "PackagingOptions", "RenderedFile", "RenderedForm", "declared_form", "render_declared"]


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
