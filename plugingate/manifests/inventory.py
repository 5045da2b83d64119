"""What the manifests hold and where: kinds, namespaces, cluster-level and admission objects, shadowing names.

Every object is classified before anything else: a workload (a pod spec at its kind's place or found by
structure), a known kind, a cluster-scoped kind the policy must list, an admission engine's object, or
none of these, which is a denial unless the policy lowers it to a warning: an object nobody checked
must not ride into the cluster on a signed approval.
"""

from __future__ import annotations

from plugingate.capabilities.patterns import path_within
from plugingate.declaration import Declaration
from plugingate.findings import Finding, Location, Severity
from plugingate.manifests import rules
from plugingate.manifests.kinds import (
    RBAC_GROUP,
    SYSTEM_NAMESPACES,
    is_admission,
    is_cluster_scoped,
    is_forbidden,
    is_known,
    kind_name,
    pod_specs,
    unchecked_shapes,
)
from plugingate.manifests.model import ManifestObject, ManifestSet
from plugingate.policy.model import CapabilitiesPolicy, UnknownKinds
from plugingate.safeyaml import JsonPath

TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"  # noqa: S105 (a Secret type, not a password)
BUILT_IN_ROLES = frozenset({"cluster-admin", "admin", "edit", "view"})
# NOTE: cluster roles a namespaced plugin binds with a RoleBinding: cluster-scoped, yet not cluster-wide rights.
_NO_SCOPE_NEEDED = frozenset({(RBAC_GROUP, "clusterrole"), (RBAC_GROUP, "clusterrolebinding")})


def shadows_built_in(name: str) -> bool:
    """Whether a role name is, or passes for, one of Kubernetes' own (``system:`` in any case)."""
    folded = name.strip().lower()
    return folded in BUILT_IN_ROLES or folded.startswith("system:")


def check_inventory(manifests: ManifestSet, declaration: Declaration, policy: CapabilitiesPolicy) -> list[Finding]:
    """Every finding about what the objects are and where they go (not what their pods do)."""
    out: list[Finding] = []
    # NOTE: a packaging form refused before rendering has no objects by design; its refusal says why.
    if not manifests.objects and not manifests.form_findings:
        out.append(
            rules.NO_OBJECTS.finding(
                "spec.manifests holds no Kubernetes objects; expected the manifests that deploy the plugin",
                location=Location(declaration.path, declaration.line("spec", "manifests") or declaration.line("spec")),
            )
        )
    volumes = bundle_volumes(manifests)
    for obj in manifests.objects:
        if obj.group == "" and obj.kind == "PersistentVolumeClaim":
            out += check_claim(obj, obj.data.get("spec"), ("spec",), volumes, declaration)
        out += _placement(obj, declaration)
        out += _kind(obj, declaration, policy)
        out += _names(obj, declaration)
    return out


def _placement(obj: ManifestObject, declaration: Declaration) -> list[Finding]:
    """System namespaces (PG-MAN-003) and namespaces that are not the plugin's (PG-MAN-071)."""
    namespace = obj.namespace
    if namespace in SYSTEM_NAMESPACES or (obj.kind == "Namespace" and obj.name in SYSTEM_NAMESPACES):
        return [
            rules.SYSTEM_NAMESPACE.finding(
                f"{obj.ref} is in the system namespace {namespace or obj.name}; expected the plugin's own namespace",
                location=obj.location("metadata", "namespace") if namespace else obj.location("metadata"),
            )
        ]
    # NOTE: the API server ignores metadata.namespace on a cluster-scoped object; every other object lands there.
    if not namespace or is_cluster_scoped(obj):
        return []
    if namespace == declaration.namespace or namespace in declaration.capabilities.namespaces:
        return []
    own = f"its own namespace {declaration.namespace}" if declaration.namespace else "no namespace (set at install)"
    declared = ", ".join(declaration.capabilities.namespaces) or "none"
    return [
        rules.OTHER_NAMESPACE.finding(
            f"{obj.ref} is placed in namespace {namespace!r}; expected {own}, or one of kubernetes.namespaces "
            f"({declared}) in plugin.yaml",
            location=obj.location("metadata", "namespace"),
            namespace=namespace,
        )
    ]


def _kind(obj: ManifestObject, declaration: Declaration, policy: CapabilitiesPolicy) -> list[Finding]:
    """Forbidden, admission, cluster-scoped and unclassifiable objects."""
    caps = declaration.capabilities
    if is_forbidden(obj):
        return [
            rules.CLUSTER_OBJECT.finding(
                f"{obj.ref} ({obj.api_version}) changes the whole cluster; expected no such object from a plugin",
                location=obj.location("kind"),
            )
        ]
    if is_admission(obj):
        if caps.admission_policies:
            return []  # NOTE: PG-CAP-036 holds the declaration against the policy.
        return [
            rules.ADMISSION_OBJECT.finding(
                f"{obj.ref} ({obj.api_version}) configures admission control; expected none, as plugin.yaml does not "
                "declare kubernetes.admissionPolicies: true",
                location=obj.location("kind"),
            )
        ]
    if is_cluster_scoped(obj):
        out = _node_volume(obj, declaration)
        if not caps.cluster_scope and (obj.group.lower(), obj.kind.lower()) not in _NO_SCOPE_NEEDED:
            out.append(
                rules.CLUSTER_OBJECT.finding(
                    f"{obj.ref} ({obj.api_version}) is cluster-wide; expected none, as plugin.yaml does not "
                    "declare kubernetes.clusterScope: true",
                    location=obj.location("kind"),
                )
            )
        allowed = policy.kubernetes.allowed_cluster_kinds
        if not any(kind_name(obj).lower() == a.lower() for a in allowed):
            out.append(
                rules.CLUSTER_KIND.finding(
                    f"{obj.ref} is a cluster-scoped {kind_name(obj)}; expected only the kinds of the policy's "
                    f"kubernetes.allowedClusterKinds ({', '.join(allowed) or 'none'})",
                    location=obj.location("kind"),
                    kind=kind_name(obj),
                )
            )
        return out
    if is_known(obj):
        return []
    specs = pod_specs(obj)
    shapes = unchecked_shapes(obj, [base for _, base in specs])
    out = [
        rules.UNCHECKED_WORKLOAD.finding(
            f"{obj.ref} ({obj.api_version}) runs {what} at {'.'.join(str(p) for p in at)}, outside any pod "
            "template plugingate checks; expected every container in a pod spec",
            location=obj.location(*at),
        )
        for at, what in shapes
    ]
    if not specs and not shapes:
        warn = policy.kubernetes.unknown_kinds is UnknownKinds.WARN
        out.append(
            rules.UNKNOWN_KIND.finding(
                f"{obj.ref} ({obj.api_version}) is a kind plugingate cannot classify and holds no pod template; "
                + (
                    "review it by hand (the policy sets kubernetes.unknownKinds: warn)"
                    if warn
                    else "expected only kinds plugingate checks (or kubernetes.unknownKinds: warn in the policy)"
                ),
                location=obj.location("kind"),
                severity=Severity.WARNING if warn else None,
            )
        )
    return out


def bundle_volumes(manifests: ManifestSet) -> frozenset[str]:
    """Names of the PersistentVolumes the bundle defines."""
    return frozenset(o.name for o in manifests.objects if o.group == "" and o.kind.lower() == "persistentvolume")


def check_claim(
    obj: ManifestObject, spec: object, at: JsonPath, volumes: frozenset[str], declaration: Declaration
) -> list[Finding]:
    """A claim binds only volumes of the bundle, and copies data only from the plugin's own namespace."""
    if not isinstance(spec, dict):
        return []
    out = []
    name = spec.get("volumeName")
    if isinstance(name, str) and name and name not in volumes:
        out.append(
            rules.FOREIGN_VOLUME.finding(
                f"{obj.ref} claims PersistentVolume {name!r} by volumeName, which the bundle does not define; "
                "expected a claim the cluster provisions (or a volume of the bundle)",
                location=obj.location(*at, "volumeName"),
            )
        )
    source = spec.get("dataSourceRef")
    namespace = source.get("namespace") if isinstance(source, dict) else None
    if isinstance(namespace, str) and namespace and namespace != (obj.namespace or declaration.namespace):
        out.append(
            rules.FOREIGN_VOLUME.finding(
                f"{obj.ref} copies its data from namespace {namespace!r} (dataSourceRef.namespace); expected data of "
                "the plugin's own namespace",
                location=obj.location(*at, "dataSourceRef", "namespace"),
            )
        )
    return out


def _node_volume(obj: ManifestObject, declaration: Declaration) -> list[Finding]:
    """A PersistentVolume of a node's folder (hostPath, local) is a hostPath mount for whichever pod claims it."""
    if (obj.group, obj.kind.lower()) != ("", "persistentvolume"):
        return []
    spec = obj.data.get("spec")
    out = []
    declared = declaration.capabilities.privileges.host_path
    for source in ("hostPath", "local"):
        volume = spec.get(source) if isinstance(spec, dict) else None
        if not isinstance(volume, dict):
            continue
        path = str(volume.get("path", ""))
        if not any(path_within(path, d) for d in declared):
            out.append(
                rules.HOST_PATH.finding(
                    f"{obj.ref} is a {source} volume of the node's {path!r}, mounted by any claim that binds it; "
                    f"expected only declared privileges.hostPath ({', '.join(declared) or 'none'})",
                    location=obj.location("spec", source),
                    path=path,
                )
            )
    return out


def _names(obj: ManifestObject, declaration: Declaration) -> list[Finding]:
    """Secrets shipped (undeclared, or token Secrets), the default ServiceAccount, roles named as built-ins."""
    out: list[Finding] = []
    if obj.group == "" and obj.kind == "Secret":
        if obj.name not in {s.name for s in declaration.capabilities.secrets}:
            out.append(
                rules.SECRET.finding(
                    f"the manifests create {obj.ref}, which plugin.yaml does not declare; expected only declared "
                    "secrets",
                    location=obj.location("metadata", "name"),
                    secret=obj.name,
                )
            )
        if obj.data.get("type") == TOKEN_SECRET_TYPE:
            out.append(
                rules.TOKEN_SECRET.finding(
                    f"{obj.ref} is of type {TOKEN_SECRET_TYPE}: the token controller fills it with a never-expiring "
                    "service-account token; expected no token Secret (pods get short-lived tokens)",
                    location=obj.location("type"),
                )
            )
    elif obj.group == "" and obj.kind == "ServiceAccount" and obj.name == "default":
        out.append(
            rules.DEFAULT_ACCOUNT.finding(
                "the manifests define ServiceAccount 'default', the account of every pod of the namespace that "
                "names none; expected a ServiceAccount of the plugin's own",
                location=obj.location("metadata", "name"),
            )
        )
    elif obj.group == RBAC_GROUP and obj.kind in ("Role", "ClusterRole") and shadows_built_in(obj.name):
        out.append(
            rules.SHADOW_ROLE.finding(
                f"{obj.ref} is named like Kubernetes' built-in role {obj.name!r}; expected a name of the plugin's "
                "own (applied, it overwrites or passes for the built-in)",
                location=obj.location("metadata", "name"),
                role=obj.name,
            )
        )
    return out
