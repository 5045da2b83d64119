"""The granted capability set, as it goes into the gate attestation."""

from __future__ import annotations

from plugingate.declaration import Declaration


def granted_capabilities(declaration: Declaration) -> dict[str, object]:
    """What the gate grants the plugin when it passes: exactly what it declared, as JSON-able values.

    Reasons and lines are left out: the set is what admission control compares, and it must not
    change when only a comment or a line number does.
    """
    caps = declaration.capabilities
    granted = _granted(declaration)
    kubernetes: dict[str, object] = granted["kubernetes"]  # type: ignore[assignment]
    privileges: dict[str, object] = granted["privileges"]  # type: ignore[assignment]
    # NOTE: the grants added with issue 11 appear only when asked for, so the set of a plugin that asks for
    # none of them (and its attestation) stays what it was.
    if declaration.namespace:
        granted["namespace"] = declaration.namespace
    if caps.namespaces:
        kubernetes["namespaces"] = list(caps.namespaces)
    if caps.admission_policies:
        kubernetes["admissionPolicies"] = True
    if caps.privileges.volume_types:
        privileges["volumeTypes"] = list(caps.privileges.volume_types)
    return granted


def _granted(declaration: Declaration) -> dict[str, object]:
    """The grants every declaration has, asked for or not."""
    caps = declaration.capabilities
    priv = caps.privileges
    res = caps.resources
    return {
        "network": {
            "egress": [
                {
                    "host": e.host,
                    "ports": sorted(e.ports),
                    "protocol": e.protocol,
                    **({"service": {"name": e.service.name, "namespace": e.service.namespace}} if e.service else {}),
                }
                for e in caps.egress
            ],
            "ingress": [{"port": i.port, "protocol": i.protocol, "external": i.external} for i in caps.ingress],
        },
        "filesystem": {"read": list(caps.fs_read), "write": list(caps.fs_write)},
        "secrets": [{"name": s.name, "keys": list(s.keys), "as": s.as_} for s in caps.secrets],
        "kubernetes": {
            "clusterScope": caps.cluster_scope,
            "rules": [
                {
                    key: list(values)
                    for key, values in (
                        ("apiGroups", r.api_groups),
                        ("resources", r.resources),
                        ("resourceNames", r.resource_names),
                        ("nonResourceURLs", r.non_resource_urls),
                        ("verbs", r.verbs),
                    )
                    if values or key == "verbs"
                }
                for r in caps.rbac_rules
            ],
        },
        "privileges": {
            "runAsNonRoot": priv.run_as_non_root,
            "privileged": priv.privileged,
            "allowPrivilegeEscalation": priv.allow_privilege_escalation,
            "capabilities": list(priv.capabilities),
            "hostNetwork": priv.host_network,
            "hostPID": priv.host_pid,
            "hostIPC": priv.host_ipc,
            "hostPath": list(priv.host_path),
        },
        "resources": {"cpu": res.cpu, "memory": res.memory},
    }
