"""Packaging forms: how a plugin's Kubernetes objects are shipped (plain manifests, a Helm chart, …).

Every form other than plain manifests is turned into plain manifest files in the gate's private work
folder (``forms.render_declared``), which the manifests step then reads with the same loader, the
same second reading and the same checks as ``spec.manifests``: nothing is checked differently.
"""
