"""Runtime controls rendered from an approved declaration (``plugingate render``).

The gate checks what a plugin declares; these objects make the cluster enforce it: the plugin's
Namespace with Pod Security Admission labels, default-deny network policies with egress for exactly
the declared destinations, the ServiceAccount and RBAC as declared, a ResourceQuota and LimitRange,
and Kyverno policies pinning the plugin's pods to its images and its grant.
"""

from plugingate.runtime.render import RenderedControls, RenderOptions, render_controls, write_controls

__all__ = ["RenderOptions", "RenderedControls", "render_controls", "write_controls"]
