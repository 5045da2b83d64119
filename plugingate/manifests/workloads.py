"""Pod templates against the declaration: host access, privileges, images, limits, secrets, ports.

Every workload kind keeps a pod spec somewhere (``kinds.POD_SPEC_PATHS``); this module checks one pod
spec, its containers, init containers and ephemeral containers. Fields of the wrong type are left to
the API server, which rejects them; only values that would really be applied are judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plugingate.capabilities.patterns import normalize_path, path_within
from plugingate.capabilities.privileges import capability_name, format_bytes
from plugingate.declaration import Declaration
from plugingate.errors import InputError
from plugingate.findings import Finding, Location
from plugingate.manifests import rules
from plugingate.manifests.model import ManifestObject
from plugingate.manifests.pods import containers
from plugingate.manifests.windows import is_windows
from plugingate.policy.model import CapabilitiesPolicy
from plugingate.units import parse_bytes, parse_millicores

# NOTE: volume types Kubernetes always mounts read-only; every other type can be written.
READ_ONLY_VOLUMES = ("secret", "configMap", "downwardAPI", "projected")


JsonPath = tuple[str | int, ...]
Volumes = dict[str, tuple[dict[str, Any], JsonPath]]


@dataclass(frozen=True, slots=True)
class SecretUse:
    """One use of a Secret by a pod: ``key`` None means every key; ``form`` is env or volume."""

    name: str
    key: str | None
    form: str
    what: str
    location: Location


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class PodChecker:
    """Checks the pod specs of one manifest set against one declaration and policy."""

    def __init__(self, declaration: Declaration, policy: CapabilitiesPolicy) -> None:
        self.declaration = declaration
        self.policy = policy
        self.caps = declaration.capabilities
        self.priv = declaration.capabilities.privileges
        self.images = {image.ref for image in declaration.images}
        self.secret_uses: list[SecretUse] = []

    def check(self, obj: ManifestObject, spec: dict[str, Any], base: JsonPath) -> list[Finding]:
        """Every finding for one pod spec at ``base`` inside ``obj``."""
        findings: list[Finding] = []
        findings += self._host(obj, spec, base)
        volumes: Volumes = {
            str(v.get("name")): (v, (*base, "volumes", i))
            for i, v in enumerate(_list(spec.get("volumes")))
            if isinstance(v, dict)
        }
        findings += self._volumes(obj, volumes)
        pod_sc = _map(spec.get("securityContext"))
        windows = is_windows(spec)
        for field, container, where in containers(spec, base):
            name = f"{obj.ref} {field[:-1]} {container.get('name', '?')}"
            findings += self._image(obj, name, container, where)
            findings += self._security(obj, name, container, where, pod_sc, base, windows=windows)
            findings += self._ports(obj, name, container, where)
            if field != "ephemeralContainers":
                findings += self._limits(obj, name, container, where)
            findings += self._mounts(obj, name, container, where, volumes)
            self._env_secrets(obj, name, container, where)
        return findings

    def _host(self, obj: ManifestObject, spec: dict[str, Any], base: JsonPath) -> list[Finding]:
        out = []
        for field, declared in (
            ("hostNetwork", self.priv.host_network),
            ("hostPID", self.priv.host_pid),
            ("hostIPC", self.priv.host_ipc),
        ):
            if spec.get(field) is True and not declared:
                out.append(
                    rules.HOST_NAMESPACE.finding(
                        f"{obj.ref} sets {field}: true; expected it off, as plugin.yaml does not declare "
                        f"privileges.{field}",
                        location=obj.location(*base, field),
                    )
                )
        return out

    def _volumes(self, obj: ManifestObject, volumes: Volumes) -> list[Finding]:
        out = []
        for name, (volume, where) in volumes.items():
            host = _map(volume.get("hostPath"))
            if "hostPath" in volume:
                path = str(host.get("path", ""))
                if not any(path_within(path, declared) for declared in self.priv.host_path):
                    declared_paths = ", ".join(self.priv.host_path) or "none"
                    out.append(
                        rules.HOST_PATH.finding(
                            f"{obj.ref} volume {name} mounts hostPath {_shown_path(path)}; expected only declared "
                            f"privileges.hostPath ({declared_paths})",
                            location=obj.location(*where, "hostPath"),
                            path=path,
                        )
                    )
            secret = _map(volume.get("secret"))
            if "secret" in volume:
                self._volume_secret(obj, name, str(secret.get("secretName", "")), secret, (*where, "secret"))
            for j, source in enumerate(_list(_map(volume.get("projected")).get("sources"))):
                projected = _map(_map(source).get("secret"))
                if projected:
                    self._volume_secret(
                        obj, name, str(projected.get("name", "")), projected, (*where, "projected", "sources", j)
                    )
        return out

    def _volume_secret(
        self, obj: ManifestObject, volume: str, secret: str, spec: dict[str, Any], where: tuple[str | int, ...]
    ) -> None:
        items = [i for i in _list(spec.get("items")) if isinstance(i, dict)]
        what = f"{obj.ref} volume {volume}"
        if not items:
            self.secret_uses.append(SecretUse(secret, None, "volume", what, obj.location(*where)))
        for k, item in enumerate(items):
            self.secret_uses.append(
                SecretUse(secret, str(item.get("key", "")), "volume", what, obj.location(*where, "items", k))
            )

    def _env_secrets(
        self, obj: ManifestObject, name: str, container: dict[str, Any], where: tuple[str | int, ...]
    ) -> None:
        for j, env in enumerate(_list(container.get("env"))):
            ref = _map(_map(_map(env).get("valueFrom")).get("secretKeyRef"))
            if ref:
                self.secret_uses.append(
                    SecretUse(
                        str(ref.get("name", "")),
                        str(ref.get("key", "")),
                        "env",
                        f"{name} env {_map(env).get('name', '?')}",
                        obj.location(*where, "env", j),
                    )
                )
        for j, source in enumerate(_list(container.get("envFrom"))):
            ref = _map(_map(source).get("secretRef"))
            if ref:
                self.secret_uses.append(
                    SecretUse(
                        str(ref.get("name", "")), None, "env", f"{name} envFrom", obj.location(*where, "envFrom", j)
                    )
                )

    def _image(
        self, obj: ManifestObject, name: str, container: dict[str, Any], where: tuple[str | int, ...]
    ) -> list[Finding]:
        image = container.get("image")
        if isinstance(image, str) and image in self.images:
            return []
        declared = ", ".join(sorted(self.images)) or "none"
        return [
            rules.IMAGE.finding(
                f"{name} runs image {image!r}; expected exactly one of spec.images[].ref ({declared})",
                location=obj.location(*where, "image"),
                image=str(image),
            )
        ]

    def _security(
        self,
        obj: ManifestObject,
        name: str,
        container: dict[str, Any],
        where: tuple[str | int, ...],
        pod_sc: dict[str, Any],
        base: JsonPath,
        *,
        windows: bool = False,
    ) -> list[Finding]:
        """Privileges of one container. A Windows pod is held to the Windows rules only (see windows.py):
        the Linux-only fields are forbidden there, so it is never told to set one."""
        out = []
        sc = _map(container.get("securityContext"))
        here = obj.location(*where, "securityContext") if sc else obj.location(*where)
        if not windows and sc.get("privileged") is True and not self.priv.privileged:
            out.append(
                rules.PRIVILEGED.finding(
                    f"{name} is privileged; expected privileged: false, as plugin.yaml does not declare "
                    "privileges.privileged",
                    location=obj.location(*where, "securityContext", "privileged"),
                )
            )
        # NOTE: a Windows HostProcess container runs as a process on the node: privileged by another name.
        host_process = _map(sc.get("windowsOptions")).get(
            "hostProcess", _map(pod_sc.get("windowsOptions")).get("hostProcess")
        )
        if host_process is True and not self.priv.privileged:
            out.append(
                rules.PRIVILEGED.finding(
                    f"{name} is a Windows HostProcess container (it runs on the node itself); expected none, as "
                    "plugin.yaml does not declare privileges.privileged",
                    location=here,
                )
            )
        declared_caps = {capability_name(c) for c in self.priv.capabilities}
        for k, cap in enumerate([] if windows else _list(_map(sc.get("capabilities")).get("add"))):
            if capability_name(str(cap)) not in declared_caps:
                out.append(
                    rules.CAPABILITY.finding(
                        f"{name} adds Linux capability {cap}; expected only the declared privileges.capabilities "
                        f"({', '.join(sorted(declared_caps)) or 'none'})",
                        location=obj.location(*where, "securityContext", "capabilities", "add", k),
                        capability=str(cap),
                    )
                )
        if self.priv.run_as_non_root and windows:
            out += self._windows_root(obj, name, sc, pod_sc, where, base)
        elif self.priv.run_as_non_root:
            user = sc.get("runAsUser", pod_sc.get("runAsUser"))
            non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
            problem = None
            if user == 0:
                problem = "sets runAsUser: 0"
            elif not (isinstance(user, int) and not isinstance(user, bool) and user > 0) and non_root is not True:
                problem = (
                    "sets runAsNonRoot: false"
                    if non_root is False
                    else "sets neither runAsNonRoot: true nor a non-zero runAsUser"
                )
            if problem:
                out.append(
                    rules.ROOT.finding(
                        f"{name} {problem}, so it may run as root; expected runAsNonRoot: true (plugin.yaml declares "
                        "privileges.runAsNonRoot)",
                        location=here if sc else obj.location(*base, "securityContext"),
                    )
                )
        if not windows and not self.priv.allow_privilege_escalation and sc.get("allowPrivilegeEscalation") is not False:
            state = (
                "sets allowPrivilegeEscalation: true"
                if sc.get("allowPrivilegeEscalation") is True
                else ("does not set allowPrivilegeEscalation (Kubernetes defaults to true)")
            )
            out.append(
                rules.PRIVILEGE_ESCALATION.finding(
                    f"{name} {state}; expected allowPrivilegeEscalation: false, as plugin.yaml does not declare "
                    "privileges.allowPrivilegeEscalation",
                    location=here,
                )
            )
        return out

    def _windows_root(
        self,
        obj: ManifestObject,
        name: str,
        sc: dict[str, Any],
        pod_sc: dict[str, Any],
        where: tuple[str | int, ...],
        base: JsonPath,
    ) -> list[Finding]:
        """Root on Windows: runAsNonRoot (the kubelet then refuses ContainerAdministrator), never runAsUser."""
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        pod_user = _map(pod_sc.get("windowsOptions")).get("runAsUserName")
        user = _map(sc.get("windowsOptions")).get("runAsUserName", pod_user)
        # NOTE: Windows user names are case-insensitive.
        if isinstance(user, str) and user.lower() == "containeradministrator":
            problem = "runs as ContainerAdministrator (windowsOptions.runAsUserName), the container's administrator"
        elif non_root is not True:
            problem = "sets runAsNonRoot: false" if non_root is False else "does not set runAsNonRoot: true"
        else:
            return []
        where_sc = (*where, "securityContext") if sc else (*base, "securityContext")
        return [
            rules.ROOT.finding(
                f"{name} {problem}, so it may run as an administrator; expected runAsNonRoot: true and a "
                "non-administrator windowsOptions.runAsUserName such as ContainerUser (plugin.yaml declares "
                "privileges.runAsNonRoot; on a Windows pod runAsUser cannot be set)",
                location=obj.location(*where_sc),
            )
        ]

    def _ports(
        self, obj: ManifestObject, name: str, container: dict[str, Any], where: tuple[str | int, ...]
    ) -> list[Finding]:
        out = []
        declared = {(i.port, i.protocol) for i in self.caps.ingress}
        external = {(i.port, i.protocol) for i in self.caps.ingress if i.external}
        for k, port in enumerate(_list(container.get("ports"))):
            port = _map(port)
            protocol = str(port.get("protocol", "TCP"))
            number = port.get("containerPort")
            if (number, protocol) not in declared:
                out.append(
                    rules.PORT.finding(
                        f"{name} listens on {number}/{protocol}; expected only ports declared in network.ingress "
                        f"({_ports(declared)})",
                        location=obj.location(*where, "ports", k),
                        port=str(number),
                    )
                )
            host_port = port.get("hostPort")
            # NOTE: hostPort 0 is the API's "not set"; any other value opens the port on the node's address.
            if host_port not in (None, 0) and (host_port, protocol) not in external:
                out.append(
                    rules.HOST_PORT.finding(
                        f"{name} sets hostPort {host_port}/{protocol}, which opens that port on every node the pod "
                        "runs on, reachable at the node's address from outside the cluster; expected no hostPort "
                        f"(use a Service) unless network.ingress declares port {host_port} with external: true",
                        location=obj.location(*where, "ports", k, "hostPort"),
                        port=str(host_port),
                    )
                )
        return out

    def _limits(
        self, obj: ManifestObject, name: str, container: dict[str, Any], where: tuple[str | int, ...]
    ) -> list[Finding]:
        out = []
        resources = _map(container.get("resources"))
        limits = _map(resources.get("limits"))
        requests = _map(resources.get("requests"))
        missing = [r for r in ("cpu", "memory") if r not in limits]
        if missing and self.policy.resources.require_limits:
            out.append(
                rules.LIMITS_MISSING.finding(
                    f"{name} has no resources.limits.{' or limits.'.join(missing)}; expected cpu and memory limits "
                    "(the policy sets resources.requireLimits)",
                    location=obj.location(*where, "resources") if resources else obj.location(*where),
                    missing=missing,
                )
            )
        declared = self.caps.resources
        ceilings = {
            "cpu": (declared.cpu_millicores, "plugin.yaml resources.cpu")
            if declared.cpu_millicores is not None
            else (self.policy.resources.max_cpu_millicores, "the policy's resources.maxCpu"),
            "memory": (declared.memory_bytes, "plugin.yaml resources.memory")
            if declared.memory_bytes is not None
            else (self.policy.resources.max_memory_bytes, "the policy's resources.maxMemory"),
        }
        for section_name, section in (("limits", limits), ("requests", requests)):
            for resource in ("cpu", "memory"):
                if resource not in section:
                    continue
                raw = section[resource]
                at = (*where, "resources", section_name, resource)
                try:
                    value = parse_millicores(raw) if resource == "cpu" else parse_bytes(raw)
                except ValueError as exc:
                    raise InputError(
                        str(exc), path=obj.path, line=obj.line(*at), field=f"{name} {section_name}.{resource}"
                    ) from exc
                ceiling, source = ceilings[resource]
                if ceiling is not None and value > ceiling:
                    shown = f"{ceiling}m" if resource == "cpu" else format_bytes(ceiling)
                    out.append(
                        rules.LIMITS_OVER.finding(
                            f"{name} {section_name}.{resource} is {raw}; expected at most {shown} ({source})",
                            location=obj.location(*at),
                        )
                    )
        return out

    def _mounts(
        self,
        obj: ManifestObject,
        name: str,
        container: dict[str, Any],
        where: tuple[str | int, ...],
        volumes: Volumes,
    ) -> list[Finding]:
        out = []
        for k, mount in enumerate(_list(container.get("volumeMounts"))):
            mount = _map(mount)
            volume = volumes.get(str(mount.get("name")))
            if volume is None or mount.get("readOnly") is True:
                continue
            if any(t in volume[0] for t in READ_ONLY_VOLUMES):
                continue
            path = str(mount.get("mountPath", ""))
            if not any(path_within(path, w) for w in self.caps.fs_write):
                out.append(
                    rules.WRITABLE_MOUNT.finding(
                        f"{name} mounts volume {mount.get('name')} writable at {path}; expected writable mounts "
                        f"only in or below filesystem.write ({', '.join(self.caps.fs_write) or 'none'}), or "
                        "readOnly: true",
                        location=obj.location(*where, "volumeMounts", k),
                        path=path,
                    )
                )
        return out


def _shown_path(path: str) -> str:
    """The path as written, and as it resolves when that differs (``/a/../etc`` is ``/etc``)."""
    norm = normalize_path(path)
    return repr(path) if norm == path else f"{path!r} (that is {norm})"


def _ports(ports: set[tuple[Any, str]]) -> str:
    return ", ".join(f"{p}/{proto}" for p, proto in sorted(ports, key=str)) or "none"


def check_secret_uses(uses: list[SecretUse], declaration: Declaration) -> list[Finding]:
    """Each Secret a pod uses must be declared, with the keys and form it is used with."""
    declared = {s.name: s for s in declaration.capabilities.secrets}
    out = []
    for use in uses:
        secret = declared.get(use.name)
        if secret is None:
            out.append(
                rules.SECRET.finding(
                    f"{use.what} uses Secret {use.name!r}; expected only secrets declared in plugin.yaml "
                    f"({', '.join(sorted(declared)) or 'none'})",
                    location=use.location,
                    secret=use.name,
                )
            )
            continue
        problems = []
        if secret.keys and use.key is None:
            problems.append(f"imports every key; declared keys are {', '.join(secret.keys)}")
        elif secret.keys and use.key not in secret.keys:
            problems.append(f"reads key {use.key!r}; declared keys are {', '.join(secret.keys)}")
        if secret.as_ is not None and secret.as_ != use.form:
            problems.append(f"uses it as {use.form}; declared as {secret.as_}")
        if problems:
            out.append(
                rules.SECRET_BEYOND.finding(
                    f"{use.what} uses Secret {use.name!r} beyond its declaration: {'; '.join(problems)}",
                    location=use.location,
                    secret=use.name,
                )
            )
    return out
