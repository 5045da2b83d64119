"""The dispatch: a declaration's packaging form, rendered into plain manifest files.

``spec.manifests`` is read where it lies; every other form is rendered here, a function per form, into
files in the gate's private work folder, each with the name a finding shows (``chart
acme/templates/x.yaml (profile ha)``, ``kustomize:deploy/overlay/003-Deployment-app.yaml``) and the
real path the loader reads. The manifests step reads those files with the same loader, the same second
reading and the same checks as plain manifests, so a form can add no way around a check. A form that
cannot be rendered faithfully offline (a ``lookup``, a remote base, an exec function, a malformed CSV)
gives refusals: denying findings that name the bundle file and field, and no objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.packaging.model import Form, PackagingOptions
from plugingate.packaging.rendering import RenderedFile, Rendering

if TYPE_CHECKING:
    from plugingate.declaration import Declaration

__all__ = ["Form", "PackagingOptions", "RenderedFile", "Rendering", "form_of", "render_form"]


def form_of(declaration: Declaration) -> Form:
    """The form plugin.yaml declares (the loader has checked there is at most one)."""
    if declaration.chart is not None:
        return Form.CHART
    if declaration.kustomize is not None:
        return Form.KUSTOMIZE
    if declaration.operator is not None:
        return Form.OPERATOR
    return Form.MANIFESTS


def render_form(root: Path, declaration: Declaration, options: PackagingOptions, work: Path) -> Rendering:
    """Render the declared form into ``work`` (a private, empty folder outside the bundle)."""
    match form_of(declaration):
        case Form.CHART:
            from plugingate.packaging.chart_form import render_chart

            return render_chart(root, declaration, options, work)
        case Form.KUSTOMIZE:
            from plugingate.packaging.kustomize import render_kustomize

            return render_kustomize(root, declaration, work, options.runner)
        case Form.OPERATOR:
            from plugingate.packaging.olm import render_operator

            return render_operator(root, declaration, work, options.runner)
        case Form.MANIFESTS:
            return Rendering()
