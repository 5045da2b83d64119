"""Pod templates that switch off the kernel's confinement: seccomp, AppArmor, SELinux, masked /proc.

Unlike host access or capabilities, no field of plugin.yaml grants any of these: a plugin has no
reason to run outside the confinement every other container of the platform runs in, so each is a
violation whatever the declaration says. Both the current securityContext fields (pod and container)
and the legacy pod annotations that older clusters still honour are read; every occurrence is
reported, even one a container's own setting overrides, as it states what the author intended.
"""

from __future__ import annotations

from typing import Any

from plugingate.findings import Finding
from plugingate.manifests import rules
from plugingate.manifests.model import ManifestObject
from plugingate.manifests.pods import containers
from plugingate.manifests.windows import is_windows

SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"
APPARMOR_CONTAINER_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
# NOTE: the API server accepts only these exact spellings, so a value written otherwise is never applied.
UNCONFINED_TYPE = "Unconfined"
UNCONFINED_ANNOTATION = "unconfined"
UNMASKED = "Unmasked"
SUPER_PRIVILEGED = "spc_t"

JsonPath = tuple[str | int, ...]


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check_confinement(obj: ManifestObject, spec: dict[str, Any], base: JsonPath) -> list[Finding]:
    """Every finding of PG-MAN-066..069 for one pod spec at ``base`` inside ``obj``."""
    findings = _annotations(obj, base)
    if is_windows(spec):
        # NOTE: these fields are forbidden on a Windows pod; windows.py reports them as such (PG-MAN-019).
        return findings
    findings += _context(obj, f"{obj.ref} pod", _map(spec.get("securityContext")), (*base, "securityContext"))
    for field, container, where in containers(spec, base):
        name = f"{obj.ref} {field[:-1]} {container.get('name', '?')}"
        sc = _map(container.get("securityContext"))
        findings += _context(obj, name, sc, (*where, "securityContext"))
        if sc.get("procMount") == UNMASKED:
            findings.append(
                rules.PROC_MOUNT_UNMASKED.finding(
                    f"{name} sets procMount: Unmasked, baring what the runtime hides in /proc; expected Default "
                    "(no declaration grants an unmasked /proc)",
                    location=obj.location(*where, "securityContext", "procMount"),
                )
            )
    return findings


def _context(obj: ManifestObject, name: str, sc: dict[str, Any], at: JsonPath) -> list[Finding]:
    """Seccomp, AppArmor and SELinux of one securityContext (a pod's or a container's)."""
    out = []
    if _map(sc.get("seccompProfile")).get("type") == UNCONFINED_TYPE:
        out.append(
            rules.SECCOMP_UNCONFINED.finding(
                f"{name} sets seccompProfile.type: Unconfined, so no seccomp filter guards the node's kernel; "
                "expected RuntimeDefault or Localhost (no declaration grants an unconfined profile)",
                location=obj.location(*at, "seccompProfile", "type"),
            )
        )
    if _map(sc.get("appArmorProfile")).get("type") == UNCONFINED_TYPE:
        out.append(
            rules.APPARMOR_UNCONFINED.finding(
                f"{name} sets appArmorProfile.type: Unconfined, so AppArmor does not confine it; expected "
                "RuntimeDefault or Localhost (no declaration grants an unconfined profile)",
                location=obj.location(*at, "appArmorProfile", "type"),
            )
        )
    if _map(sc.get("seLinuxOptions")).get("type") == SUPER_PRIVILEGED:
        out.append(
            rules.SELINUX_SPC.finding(
                f"{name} sets seLinuxOptions.type: spc_t, a super-privileged container SELinux does not "
                "confine; expected the runtime's container type (unset, or container_t)",
                location=obj.location(*at, "seLinuxOptions", "type"),
            )
        )
    return out


def _annotations(obj: ManifestObject, base: JsonPath) -> list[Finding]:
    """The legacy seccomp and AppArmor annotations of the pod (its template's metadata, not the workload's)."""
    meta_at = (*base[:-1], "metadata")
    node: Any = obj.data
    for part in meta_at:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
        else:
            node = _map(node).get(part)
    annotations = _map(_map(node).get("annotations"))
    out = []
    for key, value in annotations.items():
        if value != UNCONFINED_ANNOTATION:
            continue
        key = str(key)
        location = obj.location(*meta_at, "annotations", key)
        if key == SECCOMP_POD_ANNOTATION or key.startswith(SECCOMP_CONTAINER_ANNOTATION):
            out.append(
                rules.SECCOMP_UNCONFINED.finding(
                    f"{obj.ref} pod annotation {key}: unconfined switches seccomp off; expected runtime/default "
                    "or no such annotation (no declaration grants an unconfined profile)",
                    location=location,
                    annotation=key,
                )
            )
        elif key.startswith(APPARMOR_CONTAINER_ANNOTATION):
            out.append(
                rules.APPARMOR_UNCONFINED.finding(
                    f"{obj.ref} pod annotation {key}: unconfined switches AppArmor off; expected runtime/default "
                    "or no such annotation (no declaration grants an unconfined profile)",
                    location=location,
                    annotation=key,
                )
            )
    return out
