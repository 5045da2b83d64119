"""The dispatch: a declaration's packaging form, rendered into plain manifest files.

``spec.manifests`` is read as it is; every other form is rendered here, a function per form, into
files in the gate's private work folder. The manifests step reads those files with the same loader,
the same second reading and the same checks as plain manifests, so a form can add no way around a
check. A form that cannot be rendered faithfully (a remote base, an exec function, a malformed CSV)
gives refusals: denying findings that name the bundle file and field, and no objects.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.packaging.rendering import RenderedFile, Rendering

if TYPE_CHECKING:
    from plugingate.declaration import Declaration
    from plugingate.tools.runner import ToolRunner


__all__ = ["Form", "RenderedFile", "Rendering", "form_of", "render_form"]


class Form(StrEnum):
    """Where a plugin's Kubernetes objects come from (exactly one per plugin.yaml)."""

    MANIFESTS = "manifests"
    KUSTOMIZE = "kustomize"
    OPERATOR = "operator"


def form_of(declaration: Declaration) -> Form:
    """The form plugin.yaml declares (the loader has checked there is at most one)."""
    if declaration.kustomize is not None:
        return Form.KUSTOMIZE
    if declaration.operator is not None:
        return Form.OPERATOR
    return Form.MANIFESTS


def render_form(root: Path, declaration: Declaration, work: Path, runner: ToolRunner | None = None) -> Rendering:
    """Render the declared form into ``work`` (a private, empty folder outside the bundle)."""
    match form_of(declaration):
        case Form.KUSTOMIZE:
            from plugingate.packaging.kustomize import render_kustomize

            return render_kustomize(root, declaration, work, runner)
        case Form.OPERATOR:
            from plugingate.packaging.olm import render_operator

            return render_operator(root, declaration, work, runner)
        case Form.MANIFESTS:
            return Rendering()
