"""The plugin's Namespace, with the Pod Security Admission level its grant calls for.

PSA is the only built-in place that makes ``seccompProfile: RuntimeDefault`` (and the rest of the
``restricted`` profile) a default for a namespace: Kubernetes has no namespace-wide seccomp default
object, so ``restricted`` refuses pods that do not set it, and the Kyverno policy says the same.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from plugingate.declaration import Declaration, Privileges
from plugingate.runtime.objects import NAMESPACE_NAME_LABEL, Target

# NOTE: the Kubernetes minor the labels pin (and the rendered objects are validated against): a PSA
# level means what that release's profile says, not whatever a later release adds to it. v1.32 is the
# newest profile version Kyverno 1.19's podSecurity evaluates (and the kubectl the project builds), so
# the tests check the bundle's pods against exactly the pinned profile; later clusters honour the pin.
KUBERNETES_VERSION = "v1.32"

# NOTE: what the baseline profile still allows and restricted does not (Kubernetes Pod Security Standards).
_BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_VOLUME_TYPES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
)


class PodSecurityLevel(StrEnum):
    """The Pod Security Standards' profiles, least privileged last."""

    PRIVILEGED = "privileged"
    BASELINE = "baseline"
    RESTRICTED = "restricted"


def pod_security_level(privileges: Privileges) -> PodSecurityLevel:
    """The most restrictive PSA profile that still admits what the declaration was granted."""
    if (
        privileges.privileged
        or privileges.host_network
        or privileges.host_pid
        or privileges.host_ipc
        or privileges.host_path
        or any(c not in _BASELINE_CAPABILITIES for c in privileges.capabilities)
        or any(v not in RESTRICTED_VOLUME_TYPES for v in privileges.volume_types)
    ):
        return PodSecurityLevel.PRIVILEGED
    if (
        not privileges.run_as_non_root
        or privileges.allow_privilege_escalation
        or any(c != "NET_BIND_SERVICE" for c in privileges.capabilities)
    ):
        return PodSecurityLevel.BASELINE
    return PodSecurityLevel.RESTRICTED


def render_namespace(target: Target) -> dict[str, Any]:
    """The Namespace, labelled for PSA (enforce, audit and warn at one pinned version)."""
    declaration: Declaration = target.declaration
    level = pod_security_level(declaration.capabilities.privileges)
    labels = {**target.labels(), NAMESPACE_NAME_LABEL: target.namespace}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = str(level)
        labels[f"pod-security.kubernetes.io/{mode}-version"] = KUBERNETES_VERSION
    # NOTE: recorded, not enforced: which declaration these controls were rendered from.
    annotations = {
        "plugingate.dev/plugin-version": declaration.version,
        "plugingate.dev/publisher": declaration.publisher,
        "plugingate.dev/manifests": ",".join(declaration.manifests),
        "plugingate.dev/admission-policies": str(declaration.capabilities.admission_policies).lower(),
    }
    if declaration.source:
        annotations["plugingate.dev/source"] = declaration.source
    if declaration.description:
        annotations["plugingate.dev/description"] = declaration.description
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": target.namespace, "labels": labels, "annotations": annotations},
    }
