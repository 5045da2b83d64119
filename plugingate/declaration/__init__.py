"""``plugin.yaml``: what a plugin declares it is, runs and needs.

The declaration is the plugin author's promise. The capability checks hold it against the policy,
and the manifest checks hold the bundle's Kubernetes objects against it.
"""

from plugingate.declaration.loader import PLUGIN_FILE, load_declaration, parse_declaration
from plugingate.declaration.model import (
    Capabilities,
    Declaration,
    EgressRule,
    ImageRef,
    IngressRule,
    Privileges,
    RbacRule,
    Resources,
    SecretRef,
    ServiceRef,
)

__all__ = [
    "PLUGIN_FILE",
    "Capabilities",
    "Declaration",
    "EgressRule",
    "ImageRef",
    "IngressRule",
    "Privileges",
    "RbacRule",
    "Resources",
    "SecretRef",
    "ServiceRef",
    "load_declaration",
    "parse_declaration",
]
