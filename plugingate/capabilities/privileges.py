"""Declared privileges and resources against the policy."""

from __future__ import annotations

from plugingate.capabilities import rules
from plugingate.capabilities._where import CAPS, at
from plugingate.capabilities.patterns import path_reaches
from plugingate.declaration import Declaration
from plugingate.findings import Finding
from plugingate.policy.model import FilesystemPolicy, PrivilegesPolicy, ResourcesPolicy


def format_bytes(value: int) -> str:
    """``134217728`` as ``128Mi``; sizes that are not a whole number of Ki stay in bytes."""
    for suffix, factor in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if value % factor == 0:
            return f"{value // factor}{suffix}"
    return f"{value} bytes"


def capability_name(name: str) -> str:
    """``cap_net_admin`` and ``NET_ADMIN`` are the same capability."""
    upper = name.strip().upper()
    return upper.removeprefix("CAP_")


def check_privileges(declaration: Declaration, policy: PrivilegesPolicy, filesystem: FilesystemPolicy) -> list[Finding]:
    """Privileged mode, host namespaces, hostPath, Linux capabilities, root and privilege escalation."""
    findings: list[Finding] = []
    priv = declaration.capabilities.privileges
    where = (*CAPS, "privileges")
    if priv.privileged and not policy.allow_privileged:
        findings.append(
            rules.PRIVILEGED.finding(
                "privileges.privileged is true; expected false (privileges.allowPrivileged is false)",
                location=at(declaration, *where, "privileged"),
            )
        )
    for field, asked, allowed in (
        ("hostNetwork", priv.host_network, policy.allow_host_network),
        ("hostPID", priv.host_pid, policy.allow_host_pid),
        ("hostIPC", priv.host_ipc, policy.allow_host_ipc),
    ):
        if asked and not allowed:
            findings.append(
                rules.HOST_NAMESPACE.finding(
                    f"privileges.{field} is true; expected false (privileges.allow{field[0].upper()}{field[1:]} "
                    "is false)",
                    location=at(declaration, *where, field),
                    field=field,
                )
            )
    for n, path in enumerate(priv.host_path):
        if not policy.allow_host_path:
            message = f"hostPath {path!r} is declared; expected no hostPath (privileges.allowHostPath is false)"
        else:
            denied = [d for d in filesystem.read_deny if path_reaches(path, d)]
            if not denied:
                continue
            message = f"hostPath {path!r} reaches {', '.join(denied)}, which filesystem.readDeny forbids"
        findings.append(rules.HOST_PATH.finding(message, location=at(declaration, *where, "hostPath", n), path=path))
    allowed_caps = {capability_name(c) for c in policy.allowed_capabilities}
    for n, cap in enumerate(priv.capabilities):
        if capability_name(cap) not in allowed_caps:
            findings.append(
                rules.ADDED_CAPABILITY.finding(
                    f"Linux capability {cap} is declared; expected only privileges.allowedCapabilities: "
                    f"{', '.join(sorted(allowed_caps)) or '(none)'}",
                    location=at(declaration, *where, "capabilities", n),
                    capability=cap,
                )
            )
    if not priv.run_as_non_root and not policy.allow_root:
        findings.append(
            rules.ROOT.finding(
                "privileges.runAsNonRoot is false; expected true (privileges.allowRoot is false)",
                location=at(declaration, *where, "runAsNonRoot"),
            )
        )
    for n, kind in enumerate(priv.volume_types):
        if kind not in policy.allowed_volume_types:
            findings.append(
                rules.VOLUME_TYPE.finding(
                    f"volume type {kind} is declared; expected only privileges.allowedVolumeTypes: "
                    f"{', '.join(policy.allowed_volume_types) or '(none)'}",
                    location=at(declaration, *where, "volumeTypes", n),
                    volumeType=kind,
                )
            )
    if priv.allow_privilege_escalation and not policy.allow_privilege_escalation:
        findings.append(
            rules.PRIVILEGE_ESCALATION.finding(
                "privileges.allowPrivilegeEscalation is true; expected false "
                "(privileges.allowPrivilegeEscalation is false in the policy)",
                location=at(declaration, *where, "allowPrivilegeEscalation"),
            )
        )
    return findings


def check_resources(declaration: Declaration, policy: ResourcesPolicy) -> list[Finding]:
    """Declared CPU and memory must be there (when required) and within the ceilings."""
    findings: list[Finding] = []
    res = declaration.capabilities.resources
    where = (*CAPS, "resources")
    missing = [name for name, value in (("cpu", res.cpu_millicores), ("memory", res.memory_bytes)) if value is None]
    if missing and policy.require_limits:
        findings.append(
            rules.RESOURCES_MISSING.finding(
                f"resources.{' and resources.'.join(missing)} not declared; expected the most one container may "
                "use (resources.requireLimits is true)",
                location=at(declaration, *where),
                missing=missing,
            )
        )
    cpu_cap, mem_cap = policy.max_cpu_millicores, policy.max_memory_bytes
    if res.cpu_millicores is not None and cpu_cap is not None and res.cpu_millicores > cpu_cap:
        findings.append(
            rules.RESOURCES_OVER.finding(
                f"resources.cpu {res.cpu} ({res.cpu_millicores}m) is over the ceiling; expected at most "
                f"{cpu_cap}m (resources.maxCpu)",
                location=at(declaration, *where, "cpu"),
            )
        )
    if res.memory_bytes is not None and mem_cap is not None and res.memory_bytes > mem_cap:
        findings.append(
            rules.RESOURCES_OVER.finding(
                f"resources.memory {res.memory} is over the ceiling; expected at "
                f"most {format_bytes(mem_cap)} (resources.maxMemory)",
                location=at(declaration, *where, "memory"),
            )
        )
    return findings
