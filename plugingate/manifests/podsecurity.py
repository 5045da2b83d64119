"""The pod-level controls of the Pod Security Standards and the scheduling fields that reach the node.

``workloads`` checks what a pod uses against the declaration (host access, images, limits, secrets,
ports) and ``confinement`` what switches confinement off; this module checks the rest of the Baseline
and Restricted profiles, field by field as the Kubernetes documentation lists them, for every kind of
container (init, sidecar = init with ``restartPolicy: Always``, regular, ephemeral): volume types,
sysctls, probe and hook hosts, a missing seccomp profile, capabilities not dropped, SELinux options;
and the fields that move a pod onto other nodes, runtimes or identities: ``nodeName``, control-plane
selectors and tolerations, ``runtimeClassName``, ``system-`` priority classes, ``hostAliases``,
``shareProcessNamespace``, projected tokens for other audiences, DNS settings of the pod's own.
"""

from __future__ import annotations

from typing import Any

from plugingate.declaration import Declaration
from plugingate.findings import Finding
from plugingate.manifests import rules
from plugingate.manifests.inventory import check_claim
from plugingate.manifests.model import ManifestObject
from plugingate.manifests.pods import containers
from plugingate.policy.model import CapabilitiesPolicy
from plugingate.safeyaml import JsonPath

# NOTE: the Pod Security Standards' Restricted list (configMap, csi, downwardAPI, emptyDir, ephemeral,
# persistentVolumeClaim, projected, secret) minus csi, whose driver can mount anything: declared like the rest.
# hostPath is PG-MAN-010, granted by privileges.hostPath.
GRANTED_VOLUMES = frozenset(
    {"configMap", "secret", "projected", "downwardAPI", "emptyDir", "persistentVolumeClaim", "ephemeral", "hostPath"}
)
# NOTE: the Baseline profile's allowed sysctls (Kubernetes 1.32), each namespaced by the kernel.
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
CONTROL_PLANE_KEYS = frozenset({"node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"})
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
CONFINED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
HOOKS = ("postStart", "preStop")


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def is_windows(spec: dict[str, Any]) -> bool:
    """A pod that declares ``os.name: windows``: the Linux-only controls do not apply to it."""
    return _map(spec.get("os")).get("name") == "windows"


def sysctl_name(name: str) -> str:
    """``net/ipv4/tcp_syncookies`` and ``net.ipv4.tcp_syncookies`` are the same sysctl (both spellings work)."""
    return name.replace("/", ".")


class PodSecurity:
    """Checks one pod spec at ``base`` inside ``obj`` against the declaration and the policy."""

    def __init__(
        self, declaration: Declaration, policy: CapabilitiesPolicy, volumes: frozenset[str] = frozenset()
    ) -> None:
        self.declaration = declaration
        self.policy = policy
        self.volumes = volumes

    def check(self, obj: ManifestObject, spec: dict[str, Any], base: JsonPath) -> list[Finding]:
        """Every finding of PG-MAN-075, PG-MAN-079..089 and PG-MAN-090 (ephemeral claims) for one pod spec."""
        findings = self._scheduling(obj, spec, base)
        findings += self._pod_fields(obj, spec, base)
        findings += self._volumes(obj, spec, base)
        findings += self._containers(obj, spec, base)
        return findings

    def _scheduling(self, obj: ManifestObject, spec: dict[str, Any], base: JsonPath) -> list[Finding]:
        """nodeName, control-plane node selectors, affinities and tolerations (PG-MAN-079)."""
        aimed: list[tuple[str, JsonPath]] = []
        if isinstance(spec.get("nodeName"), str) and spec["nodeName"]:
            aimed.append((f"sets nodeName {spec['nodeName']!r}, bypassing the scheduler", (*base, "nodeName")))
        for label in _map(spec.get("nodeSelector")):
            if label in CONTROL_PLANE_KEYS:
                aimed.append((f"selects nodes by {label}", (*base, "nodeSelector", label)))
        for i, toleration in enumerate(_list(spec.get("tolerations"))):
            toleration = _map(toleration)
            key = toleration.get("key")
            if key in CONTROL_PLANE_KEYS:
                aimed.append((f"tolerates the taint {key}", (*base, "tolerations", i)))
            elif not key and toleration.get("operator") == "Exists":
                aimed.append(("tolerates every taint (operator Exists, no key)", (*base, "tolerations", i)))
        node = _map(_map(spec.get("affinity")).get("nodeAffinity"))
        required = _map(node.get("requiredDuringSchedulingIgnoredDuringExecution"))
        terms = [(t, "required") for t in _list(required.get("nodeSelectorTerms"))]
        preferred = _list(node.get("preferredDuringSchedulingIgnoredDuringExecution"))
        terms += [(_map(p).get("preference"), "preferred") for p in preferred]
        for term, how in terms:
            for expression in _list(_map(term).get("matchExpressions")):
                expression = _map(expression)
                if expression.get("key") in CONTROL_PLANE_KEYS and expression.get("operator") in ("In", "Exists"):
                    aimed.append((f"{how} node affinity for {expression['key']}", (*base, "affinity")))
            for field in _list(_map(term).get("matchFields")):
                if _map(field).get("key") == "metadata.name":
                    aimed.append((f"{how} node affinity for nodes by name", (*base, "affinity")))
        return [
            rules.CONTROL_PLANE.finding(
                f"{obj.ref} {what}; expected a pod the scheduler places on ordinary worker nodes",
                location=obj.location(*at),
            )
            for what, at in aimed
        ]

    def _pod_fields(self, obj: ManifestObject, spec: dict[str, Any], base: JsonPath) -> list[Finding]:
        """runtimeClassName, priorityClassName, hostAliases, shareProcessNamespace and sysctls."""
        out = []
        runtime = spec.get("runtimeClassName")
        allowed = self.policy.privileges.allowed_runtime_classes
        if isinstance(runtime, str) and runtime and runtime not in allowed:
            out.append(
                rules.RUNTIME_CLASS.finding(
                    f"{obj.ref} runs under RuntimeClass {runtime!r}; expected none, or one of the policy's "
                    f"privileges.allowedRuntimeClasses ({', '.join(allowed) or 'none'})",
                    location=obj.location(*base, "runtimeClassName"),
                )
            )
        priority = spec.get("priorityClassName")
        if isinstance(priority, str) and priority.lower().startswith("system-"):
            out.append(
                rules.SYSTEM_PRIORITY.finding(
                    f"{obj.ref} sets priorityClassName {priority!r}, a priority reserved for the platform's own "
                    "pods; expected a priority class of the plugin's or none",
                    location=obj.location(*base, "priorityClassName"),
                )
            )
        resolution = [
            (what, at)
            for what, at, present in (
                ("sets hostAliases, writing the pod's /etc/hosts", "hostAliases", bool(_list(spec.get("hostAliases")))),
                (
                    "sets dnsConfig.nameservers, choosing its own DNS servers",
                    "dnsConfig",
                    bool(_list(_map(spec.get("dnsConfig")).get("nameservers"))),
                ),
                ("sets dnsPolicy: None, leaving the cluster's DNS", "dnsPolicy", spec.get("dnsPolicy") == "None"),
            )
            if present
        ]
        out += [
            rules.HOST_ALIASES.finding(
                f"{obj.ref} {what}; expected names resolved by the cluster's DNS",
                location=obj.location(*base, at),
            )
            for what, at in resolution
        ]
        if spec.get("shareProcessNamespace") is True:
            out.append(
                rules.SHARED_PROCESSES.finding(
                    f"{obj.ref} sets shareProcessNamespace: true; expected each container in its own process namespace",
                    location=obj.location(*base, "shareProcessNamespace"),
                )
            )
        sysctls = _list(_map(spec.get("securityContext")).get("sysctls"))
        for i, sysctl in enumerate(sysctls):
            name = str(_map(sysctl).get("name", ""))
            if sysctl_name(name) not in SAFE_SYSCTLS:
                out.append(
                    rules.UNSAFE_SYSCTL.finding(
                        f"{obj.ref} sets sysctl {name!r}; expected only the Pod Security Standards' safe sysctls",
                        location=obj.location(*base, "securityContext", "sysctls", i),
                        sysctl=name,
                    )
                )
        return out

    def _volumes(self, obj: ManifestObject, spec: dict[str, Any], base: JsonPath) -> list[Finding]:
        """Volume types beyond the granted ones (PG-MAN-075) and projected tokens' audiences (PG-MAN-085)."""
        out = []
        declared = self.declaration.capabilities.privileges.volume_types
        audiences = self.policy.kubernetes.allowed_token_audiences
        for i, volume in enumerate(_list(spec.get("volumes"))):
            volume = _map(volume)
            at = (*base, "volumes", i)
            name = volume.get("name", "?")
            for kind in volume:
                if kind == "name" or kind in GRANTED_VOLUMES or kind in declared:
                    continue
                out.append(
                    rules.VOLUME_TYPE.finding(
                        f"{obj.ref} volume {name} is of type {kind}; expected configMap, secret, projected, "
                        "downwardAPI, emptyDir, persistentVolumeClaim, ephemeral or a type of privileges.volumeTypes "
                        f"({', '.join(declared) or 'none'})",
                        location=obj.location(*at, str(kind)),
                        volumeType=str(kind),
                    )
                )
            template = _map(_map(volume.get("ephemeral")).get("volumeClaimTemplate"))
            out += check_claim(
                obj,
                template.get("spec"),
                (*at, "ephemeral", "volumeClaimTemplate", "spec"),
                self.volumes,
                self.declaration,
            )
            for j, source in enumerate(_list(_map(volume.get("projected")).get("sources"))):
                token = _map(_map(source).get("serviceAccountToken"))
                audience = token.get("audience")
                if isinstance(audience, str) and audience and audience not in audiences:
                    out.append(
                        rules.TOKEN_AUDIENCE.finding(
                            f"{obj.ref} volume {name} projects a service-account token for audience {audience!r}; "
                            "expected tokens for the API server only, or an audience of the policy's "
                            f"kubernetes.allowedTokenAudiences ({', '.join(audiences) or 'none'})",
                            location=obj.location(*at, "projected", "sources", j, "serviceAccountToken", "audience"),
                            audience=audience,
                        )
                    )
        return out

    def _containers(self, obj: ManifestObject, spec: dict[str, Any], base: JsonPath) -> list[Finding]:
        """Probe and hook hosts, seccomp, dropped capabilities and SELinux, container by container."""
        out = self._selinux(obj, f"{obj.ref} pod", _map(spec.get("securityContext")), (*base, "securityContext"))
        linux = not is_windows(spec)
        pod_seccomp = _map(_map(spec.get("securityContext")).get("seccompProfile")).get("type")
        unfiltered = []
        for field, container, where in containers(spec, base):
            name = f"{obj.ref} {field[:-1]} {container.get('name', '?')}"
            sc = _map(container.get("securityContext"))
            out += self._hosts(obj, name, container, where)
            out += self._selinux(obj, name, sc, (*where, "securityContext"))
            seccomp = _map(sc.get("seccompProfile")).get("type")
            if linux and seccomp is None and pod_seccomp is None:
                unfiltered.append(str(container.get("name", "?")))
            drop = _list(_map(sc.get("capabilities")).get("drop"))
            if linux and "ALL" not in drop:
                out.append(
                    rules.CAPABILITIES_NOT_DROPPED.finding(
                        f"{name} does not drop ALL capabilities, so it keeps the runtime's default set; expected "
                        "securityContext.capabilities.drop: [ALL]",
                        location=obj.location(*where, "securityContext") if sc else obj.location(*where),
                    )
                )
        if unfiltered:
            out.append(
                rules.SECCOMP_MISSING.finding(
                    f"{obj.ref} sets no seccompProfile on the pod nor on container(s) {', '.join(unfiltered)}, which "
                    "run without a seccomp filter; expected securityContext.seccompProfile.type: RuntimeDefault",
                    location=obj.location(*base, "securityContext")
                    if _map(spec.get("securityContext"))
                    else obj.location(*base),
                )
            )
        return out

    def _hosts(self, obj: ManifestObject, name: str, container: dict[str, Any], where: JsonPath) -> list[Finding]:
        handlers: list[tuple[str, Any, JsonPath]] = [(p, container.get(p), (*where, p)) for p in PROBES]
        lifecycle = _map(container.get("lifecycle"))
        handlers += [(f"lifecycle.{h}", lifecycle.get(h), (*where, "lifecycle", h)) for h in HOOKS]
        out = []
        for what, handler, at in handlers:
            for action in ("httpGet", "tcpSocket"):
                host = _map(_map(handler).get(action)).get("host")
                if isinstance(host, str) and host:
                    out.append(
                        rules.PROBE_HOST.finding(
                            f"{name} {what}.{action}.host is {host!r}: the kubelet connects there from the node; "
                            "expected no host (the pod's own address)",
                            location=obj.location(*at, action, "host"),
                            host=host,
                        )
                    )
        return out

    def _selinux(self, obj: ManifestObject, name: str, sc: dict[str, Any], at: JsonPath) -> list[Finding]:
        options = _map(sc.get("seLinuxOptions"))
        out = []
        kind = options.get("type")
        # NOTE: spc_t is PG-MAN-069 already.
        if isinstance(kind, str) and kind not in SELINUX_TYPES and kind != "spc_t":
            out.append(
                rules.SELINUX_OPTIONS.finding(
                    f"{name} sets seLinuxOptions.type {kind!r}; expected unset or one of container_t, "
                    "container_init_t, container_kvm_t, container_engine_t",
                    location=obj.location(*at, "seLinuxOptions", "type"),
                )
            )
        for field in ("user", "role"):
            value = options.get(field)
            if isinstance(value, str) and value:
                out.append(
                    rules.SELINUX_OPTIONS.finding(
                        f"{name} sets seLinuxOptions.{field} {value!r}; expected it unset (the Pod Security "
                        "Standards allow no SELinux user or role)",
                        location=obj.location(*at, "seLinuxOptions", field),
                    )
                )
        return out
