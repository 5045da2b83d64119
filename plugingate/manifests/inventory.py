"""What kinds of objects the manifests hold and where: unknown kinds, system namespaces, cluster objects."""

from __future__ import annotations

from plugingate.declaration import Declaration
from plugingate.findings import Finding, Location
from plugingate.manifests import rules
from plugingate.manifests.kinds import CLUSTER_SCOPED, FORBIDDEN_CLUSTER, SYSTEM_NAMESPACES, is_known, key
from plugingate.manifests.model import ManifestSet


def check_inventory(manifests: ManifestSet, declaration: Declaration) -> list[Finding]:
    """Objects in system namespaces, cluster-level objects, Secrets shipped, and kinds not checked."""
    out: list[Finding] = []
    declared_secrets = {s.name for s in declaration.capabilities.secrets}
    if not manifests.objects:
        out.append(
            rules.NO_OBJECTS.finding(
                "spec.manifests holds no Kubernetes objects; expected the manifests that deploy the plugin",
                location=Location(declaration.path, declaration.line("spec", "manifests") or declaration.line("spec")),
            )
        )
    for obj in manifests.objects:
        namespace = obj.namespace
        if namespace in SYSTEM_NAMESPACES or (obj.kind == "Namespace" and obj.name in SYSTEM_NAMESPACES):
            out.append(
                rules.SYSTEM_NAMESPACE.finding(
                    f"{obj.ref} is in the system namespace {namespace or obj.name}; expected the plugin's own "
                    "namespace",
                    location=obj.location("metadata", "namespace") if namespace else obj.location("metadata"),
                )
            )
        if key(obj) in FORBIDDEN_CLUSTER:
            out.append(
                rules.CLUSTER_OBJECT.finding(
                    f"{obj.ref} ({obj.api_version}) changes the whole cluster; expected no such object from a plugin",
                    location=obj.location("kind"),
                )
            )
        elif key(obj) in CLUSTER_SCOPED and not declaration.capabilities.cluster_scope:
            out.append(
                rules.CLUSTER_OBJECT.finding(
                    f"{obj.ref} ({obj.api_version}) is cluster-wide; expected none, as plugin.yaml does not "
                    "declare kubernetes.clusterScope: true",
                    location=obj.location("kind"),
                )
            )
        elif obj.kind == "Secret" and obj.group == "" and obj.name not in declared_secrets:
            out.append(
                rules.SECRET.finding(
                    f"the manifests create {obj.ref}, which plugin.yaml does not declare; expected only declared "
                    "secrets",
                    location=obj.location("metadata", "name"),
                    secret=obj.name,
                )
            )
        elif not is_known(obj):
            out.append(
                rules.UNKNOWN_KIND.finding(
                    f"{obj.ref} ({obj.api_version}) is a kind plugingate does not check; review it by hand",
                    location=obj.location("kind"),
                )
            )
    return out
