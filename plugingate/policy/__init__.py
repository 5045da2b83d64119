"""The gate policy: what the platform accepts, as code (``plugingate.dev/v1``, kind ``GatePolicy``)."""

from plugingate.policy.loader import default_policy_path, load_policy, parse_policy
from plugingate.policy.model import GatePolicy, Mode, VulnSeverity
from plugingate.signature.identity import TrustedSigner

__all__ = [
    "GatePolicy",
    "Mode",
    "TrustedSigner",
    "VulnSeverity",
    "default_policy_path",
    "load_policy",
    "parse_policy",
]
