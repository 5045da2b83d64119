"""Windows pods (``spec.os.name: windows``): the rules that apply to them, and the fields they may not set.

The API server rejects a Windows pod that sets a Linux-only field (seccomp, SELinux, AppArmor,
capabilities, privileged, allowPrivilegeEscalation, procMount, runAsUser, …: "cannot be set when
spec.os.name is windows" in the API reference), and the Pod Security Standards exempt Windows pods
from the Linux-only controls. So a Windows pod must not be told to set one of those fields: the Linux
checks skip it, and a Linux-only field it does set is reported as what it is, a pod the API server
would refuse (PG-MAN-019). The kubelet refuses a pod whose ``os.name`` is not its node's, so claiming
Windows does not get a pod onto a Linux node unchecked; ``os.name`` is compared exactly, as the API
server accepts only ``linux`` and ``windows``.
"""

from __future__ import annotations

from typing import Any

from plugingate.findings import Finding
from plugingate.manifests import rules
from plugingate.manifests.model import ManifestObject
from plugingate.manifests.pods import containers
from plugingate.safeyaml import JsonPath

WINDOWS = "windows"

# NOTE: the fields whose API reference says "cannot be set when spec.os.name is windows".
LINUX_ONLY_POD_SPEC = ("hostUsers",)
LINUX_ONLY_POD_CONTEXT = (
    "appArmorProfile",
    "fsGroup",
    "fsGroupChangePolicy",
    "runAsGroup",
    "runAsUser",
    "seLinuxChangePolicy",
    "seLinuxOptions",
    "seccompProfile",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "sysctls",
)
LINUX_ONLY_CONTAINER_CONTEXT = (
    "allowPrivilegeEscalation",
    "appArmorProfile",
    "capabilities",
    "privileged",
    "procMount",
    "readOnlyRootFilesystem",
    "runAsGroup",
    "runAsUser",
    "seLinuxOptions",
    "seccompProfile",
)


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _set(value: Any) -> bool:
    """Set as the API server sees it: present, and for a list not empty."""
    return value is not None and value != []


def is_windows(spec: dict[str, Any]) -> bool:
    """Whether a pod spec is a Windows pod (``os.name`` exactly ``windows``)."""
    return _map(spec.get("os")).get("name") == WINDOWS


def check_windows(obj: ManifestObject, spec: dict[str, Any], base: JsonPath) -> list[Finding]:
    """PG-MAN-019 for each Linux-only field a Windows pod sets (nothing for a Linux pod)."""
    if not is_windows(spec):
        return []
    out: list[Finding] = []

    def report(name: str, field: str, *at: str | int) -> None:
        out.append(
            rules.LINUX_FIELD_ON_WINDOWS.finding(
                f"{name} sets {field}, which cannot be set on a Windows pod (spec.os.name: windows): the API "
                "server would reject the pod; expected the field removed (Windows pods are exempt from the "
                "Linux-only controls)",
                location=obj.location(*at),
                field=field,
            )
        )

    for field in LINUX_ONLY_POD_SPEC:
        if _set(spec.get(field)):
            report(f"{obj.ref} pod", field, *base, field)
    pod_sc = _map(spec.get("securityContext"))
    for field in LINUX_ONLY_POD_CONTEXT:
        if _set(pod_sc.get(field)):
            report(f"{obj.ref} pod", f"securityContext.{field}", *base, "securityContext", field)
    for kind, container, where in containers(spec, base):
        sc = _map(container.get("securityContext"))
        name = f"{obj.ref} {kind[:-1]} {container.get('name', '?')}"
        for field in LINUX_ONLY_CONTAINER_CONTEXT:
            if _set(sc.get(field)):
                report(name, f"securityContext.{field}", *where, "securityContext", field)
    return out
