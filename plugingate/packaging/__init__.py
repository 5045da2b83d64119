"""Packaging forms: how a plugin ships its Kubernetes objects (plain manifests, a Helm chart, a
kustomization, an OLM operator bundle).

A chart, a kustomization or an operator bundle is not yet the objects the cluster receives. Each form
other than plain manifests is rendered (``forms.render_form``) into plain manifest files in the gate's
private work folder, which the manifests step then reads with the same loader, the same second reading
and the same checks as ``spec.manifests``: nothing is checked differently. Rendered objects keep an
``Origin`` where one is known, so that a finding names the bundle file (the patch, the
ClusterServiceVersion field) it came from; a chart's objects are named by their template.

This package's face stays empty: ``manifests.model`` imports ``packaging.origin``, and importing the
forms (and the policy model they take) from here would make that a circle.
"""
