"""Packaging forms: how a plugin ships its Kubernetes objects besides a folder of plain manifests.

A kustomization or an OLM operator bundle is not yet the objects the cluster receives. Each form is
rendered here into plain manifest files in the gate's private work folder, which the manifests step
then reads with the same loader, the same second reading and the same checks as ``spec.manifests``.
Every rendered object keeps an ``Origin`` so that a finding names the bundle file (and the patch or
ClusterServiceVersion field) it came from, not the rendered copy.
"""

from __future__ import annotations

from plugingate.packaging.forms import Form, RenderedFile, Rendering, form_of, render_form

__all__ = ["Form", "RenderedFile", "Rendering", "form_of", "render_form"]
