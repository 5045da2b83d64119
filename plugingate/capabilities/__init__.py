"""Capabilities: what plugin.yaml declares, held against what the gate policy allows.

Default is deny: the declaration is the most a plugin may use, and each section of it must fit the
matching allow-list of the policy. The manifest step then holds the bundle's Kubernetes objects
against the declaration.
"""

from __future__ import annotations

from plugingate.capabilities.filesystem import check_filesystem
from plugingate.capabilities.grant import granted_capabilities
from plugingate.capabilities.images import check_images
from plugingate.capabilities.kubernetes import check_kubernetes
from plugingate.capabilities.network import check_network
from plugingate.capabilities.privileges import check_privileges, check_resources
from plugingate.capabilities.secrets import check_secrets
from plugingate.declaration import Declaration
from plugingate.findings import Finding
from plugingate.policy.model import CapabilitiesPolicy


def check_capabilities(declaration: Declaration, policy: CapabilitiesPolicy) -> list[Finding]:
    """Every finding of the declared capabilities against the policy, in plugin.yaml order of sections."""
    return [
        *check_images(declaration, policy.images),
        *check_network(declaration, policy.network),
        *check_filesystem(declaration, policy.filesystem),
        *check_secrets(declaration, policy.secrets),
        *check_kubernetes(declaration, policy.kubernetes),
        *check_privileges(declaration, policy.privileges, policy.filesystem),
        *check_resources(declaration, policy.resources),
    ]


__all__ = ["check_capabilities", "granted_capabilities"]
