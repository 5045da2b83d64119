"""What is compared: everything a bundle asks for, as atoms that can be held against another version's.

Each kind of permission becomes a set of small, normalised atoms, read from the declaration AND the
manifests (a manifest that asks for more while plugin.yaml stays the same is growth too):

- RBAC rules are split into (scope, apiGroup, resource, verb, resourceName) atoms, so that a rule
  that is merely reordered, split (``apiGroups: ["", "apps"]`` as two rules) or merged is the same set;
- host names are lower case without a trailing dot, ports are numbers whatever their spelling;
- images are compared by repository (registry host lower case, Docker Hub's aliases folded), so a new
  digest of the same repository is an update, not growth;
- resources are the largest CPU and memory any container may get.

The atom's ``id`` is the stable text an approval names (``egress:api.acme.example:443/TCP``).
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from typing import Any

from plugingate.capabilities.addresses import parse_host
from plugingate.declaration import Declaration
from plugingate.errors import InputError
from plugingate.manifests.kinds import is_cluster_scoped, kind_name, pod_specs
from plugingate.manifests.model import ManifestObject, ManifestSet
from plugingate.manifests.pods import containers
from plugingate.manifests.podsecurity import GRANTED_VOLUMES
from plugingate.policy.model import GrowthKind
from plugingate.units import parse_bytes, parse_millicores

__all__ = ["ANY", "Atom", "Footprint", "GrowthKind", "footprint"]


ANY = "*"
MAX_ATOMS = 100_000
# NOTE: volumes whose contents Kubernetes always mounts read-only, whatever the mount says.
_READ_ONLY_VOLUMES = frozenset({"configMap", "secret", "projected", "downwardAPI"})
_RBAC_GROUP = "rbac.authorization.k8s.io"
_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")


@dataclass(frozen=True, slots=True)
class Atom:
    """One permission: its kind, the normalised ``key`` compared, and its ``id`` as shown and approved."""

    kind: GrowthKind
    key: tuple[str, ...]
    id: str


@dataclass(frozen=True, slots=True)
class Footprint:
    """What one bundle asks for. ``sources`` says where each atom was read (``plugin.yaml:12``)."""

    name: str
    version: str
    atoms: frozenset[Atom]
    sources: dict[Atom, tuple[str, ...]] = field(compare=False, hash=False)
    images: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, hash=False)
    cpu_millicores: int | None = None
    memory_bytes: int | None = None

    def of(self, kind: GrowthKind) -> frozenset[Atom]:
        """The atoms of one kind."""
        return frozenset(a for a in self.atoms if a.kind is kind)

    def to_dict(self) -> dict[str, Any]:
        """As the gate predicate's ``permissions`` records it: what a later ``gate --previous`` compares with."""
        return {
            "atoms": [{"kind": str(a.kind), "key": list(a.key), "id": a.id} for a in sorted(self.atoms, key=_order)],
            "cpuMillicores": self.cpu_millicores,
            "memoryBytes": self.memory_bytes,
            "images": {repo: sorted(digests) for repo, digests in sorted(self.images.items())},
        }

    @classmethod
    def from_dict(cls, data: Any, *, name: str, version: str) -> Footprint:
        """A footprint as a signed predicate recorded it; ``ValueError`` when it is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("atoms"), list):
            raise ValueError("permissions must be an object with an atoms list")
        atoms: dict[Atom, tuple[str, ...]] = {}
        for n, item in enumerate(data["atoms"]):
            if not isinstance(item, dict) or not isinstance(item.get("key"), list) or "id" not in item:
                raise ValueError(f"permissions.atoms[{n}] must be {{kind, key, id}}")
            atom = Atom(GrowthKind(str(item.get("kind"))), tuple(str(k) for k in item["key"]), str(item["id"]))
            atoms[atom] = ("the previous version's attestation",)
        images = data.get("images") or {}
        cpu, memory = data.get("cpuMillicores"), data.get("memoryBytes")
        for what, value in (("cpuMillicores", cpu), ("memoryBytes", memory)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ValueError(f"permissions.{what} must be an integer or null")
        return cls(
            name=name,
            version=version,
            atoms=frozenset(atoms),
            sources=atoms,
            images={str(r): frozenset(str(d) for d in ds) for r, ds in images.items()},
            cpu_millicores=cpu,
            memory_bytes=memory,
        )


def _order(atom: Atom) -> tuple[str, str]:
    return str(atom.kind), atom.id


class _Collector:
    """Gathers atoms with their sources, and the resource maxima."""

    def __init__(self) -> None:
        self.sources: dict[Atom, list[str]] = {}
        self.images: dict[str, set[str]] = {}
        self.cpu: int | None = None
        self.memory: int | None = None

    def add(self, kind: GrowthKind, key: tuple[str, ...], shown: str, source: str) -> None:
        atom = Atom(kind, key, f"{kind}:{shown}")
        if atom not in self.sources and len(self.sources) >= MAX_ATOMS:
            # NOTE: an RBAC rule is a cross product; a bundle must not make the comparison unbounded.
            raise InputError(
                f"{source}: more than {MAX_ATOMS} distinct permissions (RBAC rules are compared as every "
                "apiGroup x resource x verb x name they grant)",
                hint="write fewer, narrower rules; no plugin needs this many",
            )
        found = self.sources.setdefault(atom, [])
        if source not in found and len(found) < 8:
            found.append(source)

    def resource(self, cpu: int | None, memory: int | None) -> None:
        if cpu is not None:
            self.cpu = max(self.cpu or 0, cpu)
        if memory is not None:
            self.memory = max(self.memory or 0, memory)


def footprint(declaration: Declaration, manifests: ManifestSet | None) -> Footprint:
    """Everything ``declaration`` and ``manifests`` ask for."""
    c = _Collector()
    _declared(c, declaration)
    objects = manifests.objects if manifests is not None else ()
    shipped = {(o.kind.lower(), o.name) for o in objects if o.group.lower() == _RBAC_GROUP}
    for obj in objects:
        _manifest_object(c, obj)
        _placement(c, obj, declaration.namespace)
        _binding(c, obj, shipped)
    return Footprint(
        name=declaration.name,
        version=declaration.version,
        atoms=frozenset(c.sources),
        sources={a: tuple(s) for a, s in c.sources.items()},
        images={r: frozenset(d) for r, d in c.images.items()},
        cpu_millicores=c.cpu,
        memory_bytes=c.memory,
    )


# --- normalisers ---------------------------------------------------------------------------------


def host(text: str) -> str:
    """A host as DNS compares it: lower case, one trailing dot dropped; an address or CIDR in its canonical text.

    Addresses are read by the capabilities step's own parser (``parse_host``), so every spelling the gate
    takes for an address (``[::1]``, ``::ffff:10.0.0.1``, ``0x0a000001``, a zone id) is the address it
    checked, and a new spelling of an old address is not growth.
    """
    network = parse_host(text).network
    if network is not None:
        return str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)
    name = text.strip().lower()
    return name[:-1] if name.endswith(".") else name


def port(value: Any) -> str:
    """A port as text: ``443`` for 443 and ``"443"``; a named port keeps its (lower-case) name; absent: any."""
    if value is None:
        return ANY
    text = str(value).strip()
    return str(int(text)) if text.isdigit() else text.lower()


def protocol(value: Any) -> str:
    """``TCP`` (the default), ``UDP``, ``SCTP``: upper case."""
    return str(value or "TCP").strip().upper()


def path(text: str) -> str:
    """An absolute path without ``.``, ``..``, doubled or trailing slashes."""
    normal = posixpath.normpath("/" + str(text).strip())
    return "/" + normal.lstrip("/")


def capability(text: str) -> str:
    """A Linux capability as the kernel names it: ``NET_ADMIN`` for ``net_admin`` and ``CAP_NET_ADMIN``."""
    name = str(text).strip().upper()
    return name.removeprefix("CAP_")


def repository(ref: str) -> str:
    """An image reference's repository: registry host lower case, Docker Hub folded, no tag or digest."""
    name = str(ref).strip().split("@", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first.lower() == "localhost"):
        registry, repo = first.lower(), rest
    else:
        registry, repo = "docker.io", name
    if registry in _HUB_ALIASES:
        registry = "docker.io"
        if "/" not in repo:
            repo = "library/" + repo
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo[: len(repo) - len(last)] + last.split(":", 1)[0]
    return f"{registry}/{repo.lower()}"


def _digest(ref: str) -> str:
    return ref.rsplit("@", 1)[1] if "@" in ref else ref.rsplit("/", 1)[-1].partition(":")[2] or "latest"


# --- the declaration -----------------------------------------------------------------------------


def _declared(c: _Collector, d: Declaration) -> None:
    caps = d.capabilities

    def at(line: int | None) -> str:
        return f"{d.path}:{line}" if line else d.path

    for rule in caps.egress:
        for p in rule.ports or (None,):
            _egress(c, host(rule.host), port(p), protocol(rule.protocol), at(rule.line))
    for ingress in caps.ingress:
        _ingress(c, port(ingress.port), protocol(ingress.protocol), ingress.external, at(ingress.line))
    for n, write in enumerate(caps.fs_write):
        where = at(d.line("spec", "capabilities", "filesystem", "write", n))
        c.add(GrowthKind.FILESYSTEM, ("write", path(write)), f"write:{path(write)}", where)
    for secret in caps.secrets:
        for key in secret.keys or (ANY,):
            c.add(GrowthKind.SECRETS, (secret.name, key), f"{secret.name}/{key}", at(secret.line))
    scope = "cluster" if caps.cluster_scope else "namespace"
    for grant in caps.rbac_rules:
        _rbac(
            c,
            scope,
            grant.api_groups,
            grant.resources,
            grant.verbs,
            grant.resource_names,
            grant.non_resource_urls,
            at(grant.line),
        )
    if caps.cluster_scope:
        c.add(
            GrowthKind.CLUSTER_SCOPED,
            ("clusterScope",),
            "clusterScope",
            at(d.line("spec", "capabilities", "kubernetes", "clusterScope")),
        )
    kube_line = at(d.line("spec", "capabilities", "kubernetes"))
    if d.namespace:
        # NOTE: the plugin's own namespace: moving into another one (kube-system) is reaching beyond the old.
        c.add(
            GrowthKind.CLUSTER_SCOPED,
            ("namespace", d.namespace),
            f"namespace:{d.namespace}",
            at(d.line("spec", "namespace")),
        )
    for namespace in caps.namespaces:
        c.add(GrowthKind.CLUSTER_SCOPED, ("namespace", namespace), f"namespace:{namespace}", kube_line)
    if caps.admission_policies:
        c.add(GrowthKind.CLUSTER_SCOPED, ("admissionPolicies",), "admissionPolicies", kube_line)
    priv = caps.privileges
    where = at(priv.line)
    for flag, on in (
        ("privileged", priv.privileged),
        ("allowPrivilegeEscalation", priv.allow_privilege_escalation),
        ("runAsRoot", not priv.run_as_non_root),
        ("hostNetwork", priv.host_network),
        ("hostPID", priv.host_pid),
        ("hostIPC", priv.host_ipc),
    ):
        if on:
            c.add(GrowthKind.PRIVILEGES, (flag,), flag, where)
    for cap in priv.capabilities:
        c.add(GrowthKind.PRIVILEGES, ("capability", capability(cap)), f"capability:{capability(cap)}", where)
    for host_path in priv.host_path:
        c.add(GrowthKind.PRIVILEGES, ("hostPath", path(host_path)), f"hostPath:{path(host_path)}", where)
    for volume in priv.volume_types:
        c.add(GrowthKind.PRIVILEGES, ("volumeType", volume), f"volumeType:{volume}", where)
    for image in d.images:
        _image(c, image.ref, at(image.line))
    c.resource(caps.resources.cpu_millicores, caps.resources.memory_bytes)


def _egress(c: _Collector, to: str, p: str, proto: str, source: str) -> None:
    c.add(GrowthKind.EGRESS, (to, p, proto), f"{to}:{p}/{proto}", source)


def _ingress(c: _Collector, p: str, proto: str, external: bool, source: str) -> None:
    where = "external" if external else "cluster"
    c.add(GrowthKind.INGRESS, (p, proto, where), f"{p}/{proto}" + (":external" if external else ""), source)


def _image(c: _Collector, ref: str, source: str) -> None:
    repo = repository(ref)
    c.add(GrowthKind.IMAGES, (repo,), repo, source)
    c.images.setdefault(repo, set()).add(_digest(ref))


def _rbac(
    c: _Collector,
    scope: str,
    groups: tuple[str, ...],
    resources: tuple[str, ...],
    verbs: tuple[str, ...],
    names: tuple[str, ...],
    urls: tuple[str, ...],
    source: str,
) -> None:
    """One PolicyRule as its atoms; ``*`` stays ``*`` (it is matched when covering, never expanded)."""
    prefix = "cluster:" if scope == "cluster" else ""
    for verb in verbs:
        for group in groups:
            for resource in resources:
                for name in names or (ANY,):
                    shown = f"{prefix}{group or 'core'}/{resource}:{verb}" + ("" if name == ANY else f":{name}")
                    c.add(GrowthKind.RBAC, (scope, "resource", group, resource, verb, name), shown, source)
        for url in urls:
            c.add(GrowthKind.RBAC, (scope, "url", url, verb), f"{prefix}nonResource:{url}:{verb}", source)


# --- the manifests -------------------------------------------------------------------------------


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in _list(value))


def _manifest_object(c: _Collector, obj: ManifestObject) -> None:
    where = f"{obj.path}:{obj.line() or 1} {obj.ref}"
    if is_cluster_scoped(obj):
        shown = f"{kind_name(obj)}/{obj.name}"
        c.add(GrowthKind.CLUSTER_SCOPED, ("object", kind_name(obj).lower(), obj.name), shown, where)
    kind = obj.kind.lower()
    if obj.group.lower() == _RBAC_GROUP and kind in ("role", "clusterrole"):
        scope = "cluster" if kind == "clusterrole" else "namespace"
        for rule in _list(obj.data.get("rules")):
            r = _map(rule)
            _rbac(
                c,
                scope,
                _strings(r.get("apiGroups")),
                _strings(r.get("resources")),
                _strings(r.get("verbs")),
                _strings(r.get("resourceNames")),
                _strings(r.get("nonResourceURLs")),
                where,
            )
    if obj.group == "" and kind == "service":
        _service(c, obj, where)
    if obj.group.lower() == "networking.k8s.io" and kind == "ingress":
        c.add(GrowthKind.INGRESS, ("ingress-object", obj.name.lower()), f"Ingress/{obj.name}:external", where)
    if obj.group.lower() == "networking.k8s.io" and kind == "networkpolicy":
        _network_policy(c, obj, where)
    for spec, base in pod_specs(obj):
        _pod(c, obj, spec, base)


def _placement(c: _Collector, obj: ManifestObject, own: str | None) -> None:
    """An object placed in another namespace than the plugin's own reaches beyond it (as a declared namespace does)."""
    namespace = obj.namespace
    if namespace and namespace != own and not is_cluster_scoped(obj):
        where = f"{obj.path}:{obj.line('metadata', 'namespace') or 1} {obj.ref}"
        c.add(GrowthKind.CLUSTER_SCOPED, ("namespace", namespace), f"namespace:{namespace}", where)


def _binding(c: _Collector, obj: ManifestObject, shipped: set[tuple[str, str]]) -> None:
    """A binding to a role the bundle does not ship grants whatever that role holds (``edit``, ``cluster-admin``).

    An aggregating ClusterRole likewise holds whatever the roles it selects hold.
    """
    kind = obj.kind.lower()
    if obj.group.lower() != _RBAC_GROUP:
        return
    where = f"{obj.path}:{obj.line() or 1} {obj.ref}"
    if kind == "clusterrole" and "aggregationRule" in obj.data:
        selectors = json.dumps(obj.data.get("aggregationRule"), sort_keys=True, separators=(",", ":"))
        c.add(GrowthKind.RBAC, ("cluster", "aggregate", selectors), f"cluster:aggregate:{selectors}", where)
    if kind not in ("rolebinding", "clusterrolebinding"):
        return
    ref = _map(obj.data.get("roleRef"))
    role_kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
    if (role_kind.lower(), name) in shipped:
        return
    scope = "cluster" if kind == "clusterrolebinding" else "namespace"
    prefix = "cluster:" if scope == "cluster" else ""
    c.add(GrowthKind.RBAC, (scope, "bind", role_kind, name), f"{prefix}bind:{role_kind}/{name}", where)


def _service(c: _Collector, obj: ManifestObject, where: str) -> None:
    spec = _map(obj.data.get("spec"))
    kind = str(spec.get("type") or "ClusterIP")
    if kind == "ExternalName" and spec.get("externalName"):
        _egress(c, host(str(spec["externalName"])), ANY, "TCP", where)
    if kind in ("NodePort", "LoadBalancer") or spec.get("externalIPs"):
        for p in _list(spec.get("ports")):
            entry = _map(p)
            _ingress(c, port(entry.get("port")), protocol(entry.get("protocol")), True, where)


def _network_policy(c: _Collector, obj: ManifestObject, where: str) -> None:
    """Each egress rule's peers by ports; a rule without peers reaches anywhere, without ports any port."""
    for rule in _list(_map(obj.data.get("spec")).get("egress")):
        r = _map(rule)
        peers = [_peer(_map(p)) for p in _list(r.get("to"))] or [ANY]
        ports = _list(r.get("ports")) or [{}]
        for peer in peers:
            for p in ports:
                entry = _map(p)
                shown = port(entry.get("port"))
                if entry.get("endPort") is not None and shown != ANY:
                    shown = f"{shown}-{port(entry['endPort'])}"
                _egress(c, peer, shown, protocol(entry.get("protocol")), where)


def _peer(peer: dict[str, Any]) -> str:
    block = _map(peer.get("ipBlock"))
    if block:
        cidr = str(block.get("cidr", "")).strip().lower()
        excepted = sorted(str(e).strip().lower() for e in _list(block.get("except")))
        return cidr + (f" except {','.join(excepted)}" if excepted else "")
    selectors = {k: peer[k] for k in ("namespaceSelector", "podSelector") if k in peer}
    return "pods:" + json.dumps(selectors, sort_keys=True, separators=(",", ":"))


def _pod(c: _Collector, obj: ManifestObject, spec: dict[str, Any], base: tuple[str | int, ...]) -> None:
    where = f"{obj.path}:{obj.line(*base) or obj.line() or 1} {obj.ref}"
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag) is True:
            c.add(GrowthKind.PRIVILEGES, (flag,), flag, where)
    pod_sc = _map(spec.get("securityContext"))
    volumes: dict[str, str] = {}
    for volume in _list(spec.get("volumes")):
        v = _map(volume)
        types = [k for k in v if k != "name"]
        kind = types[0] if types else "?"
        volumes[str(v.get("name"))] = kind
        if kind == "hostPath":
            p = path(str(_map(v.get("hostPath")).get("path", "")))
            c.add(GrowthKind.PRIVILEGES, ("hostPath", p), f"hostPath:{p}", where)
        elif kind not in GRANTED_VOLUMES:
            c.add(GrowthKind.PRIVILEGES, ("volumeType", kind), f"volumeType:{kind}", where)
        _secret_volume(c, v, where)
    for _, container, at in containers(spec, base):
        here = f"{obj.path}:{obj.line(*at) or 1} {obj.ref} container {container.get('name', '?')}"
        _container(c, container, volumes, here, pod_sc)


def _may_run_as_root(pod_sc: dict[str, Any], sc: dict[str, Any]) -> bool:
    """Whether the container may run as root: what Kubernetes applies (the container's setting, else the pod's).

    # NOTE: the effective value, not the written one: dropping ``runAsNonRoot: true`` grows the grant
    # as much as writing ``runAsUser: 0`` does.
    """
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    if isinstance(user, int) and not isinstance(user, bool):
        return user == 0
    return non_root is not True


def _secret_volume(c: _Collector, v: dict[str, Any], where: str) -> None:
    sources = [_map(v.get("secret"))] if "secret" in v else []
    sources += [_map(_map(s).get("secret")) for s in _list(_map(v.get("projected")).get("sources"))]
    for s in sources:
        name = s.get("secretName") or s.get("name")
        if not s or not name:
            continue
        keys = [str(_map(i).get("key")) for i in _list(s.get("items"))] or [ANY]
        for key in keys:
            c.add(GrowthKind.SECRETS, (str(name), key), f"{name}/{key}", where)


def _container(
    c: _Collector, container: dict[str, Any], volumes: dict[str, str], where: str, pod_sc: dict[str, Any]
) -> None:
    here = where
    if container.get("image"):
        _image(c, str(container["image"]), here)
    sc = _map(container.get("securityContext"))
    if sc.get("privileged") is True:
        c.add(GrowthKind.PRIVILEGES, ("privileged",), "privileged", here)
    # NOTE: Kubernetes allows escalation unless it is set to false: unset is growth over false.
    if sc.get("allowPrivilegeEscalation") is not False:
        c.add(GrowthKind.PRIVILEGES, ("allowPrivilegeEscalation",), "allowPrivilegeEscalation", here)
    if _may_run_as_root(pod_sc, sc):
        c.add(GrowthKind.PRIVILEGES, ("runAsRoot",), "runAsRoot", here)
    for cap in _list(_map(sc.get("capabilities")).get("add")):
        c.add(GrowthKind.PRIVILEGES, ("capability", capability(cap)), f"capability:{capability(cap)}", here)
    if sc.get("readOnlyRootFilesystem") is not True:
        c.add(GrowthKind.FILESYSTEM, ("rootfs",), "writableRootFilesystem", here)
    for p in _list(container.get("ports")):
        entry = _map(p)
        _ingress(c, port(entry.get("containerPort")), protocol(entry.get("protocol")), False, here)
        if entry.get("hostPort"):
            c.add(
                GrowthKind.PRIVILEGES,
                ("hostPort", port(entry["hostPort"])),
                f"hostPort:{port(entry['hostPort'])}",
                here,
            )
    for mount in _list(container.get("volumeMounts")):
        m = _map(mount)
        kind = volumes.get(str(m.get("name")), "?")
        if m.get("readOnly") is not True and kind not in _READ_ONLY_VOLUMES and m.get("mountPath"):
            p = path(str(m["mountPath"]))
            c.add(GrowthKind.FILESYSTEM, ("write", p), f"write:{p}", here)
    for env in _list(container.get("env")):
        ref = _map(_map(_map(env).get("valueFrom")).get("secretKeyRef"))
        if ref.get("name"):
            key = str(ref.get("key") or ANY)
            c.add(GrowthKind.SECRETS, (str(ref["name"]), key), f"{ref['name']}/{key}", here)
    for source in _list(container.get("envFrom")):
        ref = _map(_map(source).get("secretRef"))
        if ref.get("name"):
            c.add(GrowthKind.SECRETS, (str(ref["name"]), ANY), f"{ref['name']}/{ANY}", here)
    resources = _map(container.get("resources"))
    for section in ("limits", "requests"):
        values = _map(resources.get(section))
        c.resource(
            _quantity(parse_millicores, values.get("cpu"), f"{here} {section}.cpu"),
            _quantity(parse_bytes, values.get("memory"), f"{here} {section}.memory"),
        )


def _quantity(parse: Any, value: Any, where: str) -> int | None:
    """A quantity; one that cannot be read is bad input (never silently no growth)."""
    if value is None:
        return None
    try:
        result: int = parse(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{where}: not a Kubernetes quantity: {value!r} ({exc})") from exc
    return result
