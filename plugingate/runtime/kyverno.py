"""Kyverno policies pinning the plugin's pods to its declared images (by digest) and to its grant.

One set of CEL checks, rendered in both of Kyverno 1.19's forms: a ``ClusterPolicy`` (``kyverno.io/v1``,
``validate.cel``) and a ``ValidatingPolicy`` (``policies.kyverno.io/v1``, the CEL successor). Not an
``ImageValidatingPolicy``: that kind verifies signatures and attestations in a registry (the shipped
``policies/kyverno/imagevalidatingpolicy-*.yaml`` do that); pinning an image to a declared digest is a
check of the pod spec alone and needs no registry.

The checks apply to every pod in the plugin's namespace, and to pods labelled
``plugingate.dev/plugin: NAME`` in the other namespaces the plugin declared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from plugingate.runtime.namespace import RESTRICTED_VOLUME_TYPES
from plugingate.runtime.objects import PLUGIN_LABEL, SERVICE_ACCOUNT_TOKEN_PATH, Target
from plugingate.runtime.safety import safe_capability, safe_image, safe_path, safe_secret_key

# NOTE: every volume source of core/v1 PodSpec (Kubernetes 1.32): a volume may use only the granted ones.
VOLUME_TYPES = (
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "hostPath",
    "image",
    "iscsi",
    "nfs",
    "persistentVolumeClaim",
    "photonPersistentDisk",
    "portworxVolume",
    "projected",
    "quobyte",
    "rbd",
    "scaleIO",
    "secret",
    "storageos",
    "vsphereVolume",
)
_CONTAINERS = (
    "object.spec.containers"
    " + (has(object.spec.initContainers) ? object.spec.initContainers : [])"
    " + (has(object.spec.ephemeralContainers) ? object.spec.ephemeralContainers : [])"
)
_VOLUMES = "(has(object.spec.volumes) ? object.spec.volumes : [])"


def _cel(value: Any) -> str:
    """A CEL literal for a list or string (JSON's escapes are CEL's; the values are checked to be plain)."""
    return json.dumps(value)


def _flag(field: str) -> str:
    """CEL: a container's securityContext boolean ``field`` is set to true."""
    return f"(has(c.securityContext) && has(c.securityContext.{field}) && c.securityContext.{field})"


def _under(paths: list[str], var: str) -> str:
    """CEL: ``var`` is one of ``paths`` or below one of them."""
    return f"{_cel(paths)}.exists(p, {var} == p || {var}.startsWith(p == '/' ? '/' : p + '/'))"


@dataclass(frozen=True, slots=True)
class Check:
    """One CEL check of a pod: its name, the expression that must hold, and the message when it does not."""

    name: str
    expression: str
    message: str


def checks(target: Target) -> list[Check]:
    """Every check of a pod against the declaration, in a stable order."""
    declaration = target.declaration
    caps = declaration.capabilities
    priv = caps.privileges
    out: list[Check] = []

    images: list[str] = []
    for n, image in enumerate(declaration.images):
        ref = safe_image(image.ref, field=f"spec.images[{n}].ref")
        images.append(ref)
        if image.digest and f"{image.repository}@{image.digest}" != ref:
            images.append(f"{image.repository}@{image.digest}")
    out.append(
        Check(
            "declared-images",
            f"variables.containers.all(c, c.image in {_cel(images)})",
            f"{declaration.name} runs only its declared images, pinned by digest: {', '.join(images) or 'none'}",
        )
    )
    out.append(
        Check(
            "service-account",
            f"has(object.spec.serviceAccountName) && object.spec.serviceAccountName == {_cel(target.name)}",
            f"pods of {declaration.name} run as its ServiceAccount {target.name}",
        )
    )
    if not target.uses_kubernetes_api:
        # NOTE: also the token volume the ServiceAccount admission plugin injects (it runs before webhooks)
        # when the account's own automount setting was changed after rendering, or a projected token asked for.
        out.append(
            Check(
                "no-token",
                "!(has(object.spec.automountServiceAccountToken) && object.spec.automountServiceAccountToken) && "
                f"{_VOLUMES}.all(v, !has(v.projected) || !has(v.projected.sources) || "
                "v.projected.sources.all(s, !has(s.serviceAccountToken)))",
                "the plugin declared no Kubernetes API access: its pods mount no ServiceAccount token",
            )
        )
    for granted, field in ((priv.host_network, "hostNetwork"), (priv.host_pid, "hostPID"), (priv.host_ipc, "hostIPC")):
        if not granted:
            out.append(
                Check(
                    f"no-{field.lower()}",
                    f"!(has(object.spec.{field}) && object.spec.{field})",
                    f"{field} was not granted",
                )
            )
    if not priv.host_network:
        out.append(
            Check(
                "no-host-ports",
                "variables.containers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))",
                "host ports were not granted (hostNetwork is not)",
            )
        )
    ports = sorted({rule.port for rule in caps.ingress})
    out.append(
        Check(
            "declared-ports",
            f"variables.containers.all(c, !has(c.ports) || c.ports.all(p, p.containerPort in {_cel(ports)}))",
            f"containers listen only on the declared ingress ports: {', '.join(map(str, ports)) or 'none'}",
        )
    )
    if not priv.privileged:
        out.append(
            Check(
                "not-privileged", f"variables.containers.all(c, !{_flag('privileged')})", "privileged was not granted"
            )
        )
    if not priv.allow_privilege_escalation:
        out.append(
            Check(
                "no-privilege-escalation",
                "variables.containers.all(c, has(c.securityContext) && "
                "has(c.securityContext.allowPrivilegeEscalation) && !c.securityContext.allowPrivilegeEscalation)",
                "allowPrivilegeEscalation was not granted: every container sets it to false",
            )
        )
    capabilities = [
        safe_capability(c, field=f"spec.capabilities.privileges.capabilities[{n}]")
        for n, c in enumerate(priv.capabilities)
    ]
    out.append(
        Check(
            "granted-capabilities",
            "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.capabilities) || "
            "!has(c.securityContext.capabilities.add) || "
            f"c.securityContext.capabilities.add.all(x, x in {_cel(capabilities)}))",
            f"containers add only the granted capabilities: {', '.join(capabilities) or 'none'}",
        )
    )
    if priv.run_as_non_root:
        out.append(
            Check(
                "run-as-non-root",
                "variables.containers.all(c, has(c.securityContext) && has(c.securityContext.runAsNonRoot) "
                "? c.securityContext.runAsNonRoot : (has(object.spec.securityContext) && "
                "has(object.spec.securityContext.runAsNonRoot) && object.spec.securityContext.runAsNonRoot))"
                " && variables.containers.all(c, !(has(c.securityContext) && has(c.securityContext.runAsUser) "
                "&& c.securityContext.runAsUser == 0))"
                " && !(has(object.spec.securityContext) && has(object.spec.securityContext.runAsUser) "
                "&& object.spec.securityContext.runAsUser == 0)",
                "the plugin runs as non-root: runAsNonRoot true, and no runAsUser 0",
            )
        )
    out.append(
        Check(
            "seccomp-runtime-default",
            "variables.containers.all(c, has(c.securityContext) && has(c.securityContext.seccompProfile) "
            "? c.securityContext.seccompProfile.type == 'RuntimeDefault' : (has(object.spec.securityContext) && "
            "has(object.spec.securityContext.seccompProfile) && "
            "object.spec.securityContext.seccompProfile.type == 'RuntimeDefault'))",
            "every container runs under the RuntimeDefault seccomp profile",
        )
    )
    allowed_volumes = set(RESTRICTED_VOLUME_TYPES) | set(priv.volume_types)
    if priv.host_path:
        allowed_volumes.add("hostPath")
    forbidden = [v for v in VOLUME_TYPES if v not in allowed_volumes]
    out.append(
        Check(
            "granted-volume-types",
            f"{_VOLUMES}.all(v, {' && '.join(f'!has(v.{t})' for t in forbidden)})",
            f"volumes use only the granted types: {', '.join(sorted(allowed_volumes))}",
        )
    )
    if priv.host_path:
        host_paths = [safe_path(p, field="spec.capabilities.privileges.hostPath") for p in priv.host_path]
        out.append(
            Check(
                "declared-host-paths",
                f"{_VOLUMES}.all(v, !has(v.hostPath) || v.hostPath.path in {_cel(host_paths)})",
                f"hostPath volumes mount only the declared paths: {', '.join(host_paths)}",
            )
        )
    secrets = sorted({s.name for s in caps.secrets})
    keys = {
        s.name: [safe_secret_key(k, field=f"spec.capabilities.secrets[{s.name}].keys") for k in s.keys]
        for s in caps.secrets
    }
    limited = {name: sorted(k) for name, k in keys.items() if k}
    out.append(
        Check(
            "declared-secrets",
            f"{_VOLUMES}.all(v, (!has(v.secret) || v.secret.secretName in {_cel(secrets)}) && "
            "(!has(v.projected) || !has(v.projected.sources) || v.projected.sources.all(s, "
            f"!has(s.secret) || s.secret.name in {_cel(secrets)})))"
            " && variables.containers.all(c, (!has(c.env) || c.env.all(e, !has(e.valueFrom) || "
            f"!has(e.valueFrom.secretKeyRef) || (e.valueFrom.secretKeyRef.name in {_cel(secrets)} && "
            f"(!(e.valueFrom.secretKeyRef.name in {_cel(limited)}) || e.valueFrom.secretKeyRef.key in "
            f"{_cel(limited)}[e.valueFrom.secretKeyRef.name])))) && "
            f"(!has(c.envFrom) || c.envFrom.all(e, !has(e.secretRef) || e.secretRef.name in {_cel(secrets)})))",
            f"pods read only the declared Secrets: {', '.join(secrets) or 'none'}",
        )
    )
    writable = [safe_path(p, field="spec.capabilities.filesystem.write") for p in caps.fs_write]
    readable = [safe_path(p, field="spec.capabilities.filesystem.read") for p in caps.fs_read] + writable
    if target.uses_kubernetes_api:
        readable.append(SERVICE_ACCOUNT_TOKEN_PATH)
    out.append(
        Check(
            "read-only-root",
            f"variables.containers.all(c, {_flag('readOnlyRootFilesystem')})",
            "the root filesystem is read-only: the plugin writes only to volumes at its declared paths",
        )
    )
    out.append(
        Check(
            "declared-paths",
            "variables.containers.all(c, !has(c.volumeMounts) || c.volumeMounts.all(m, "
            f"(has(m.readOnly) && m.readOnly) ? {_under(readable, 'm.mountPath')} "
            f": {_under(writable, 'm.mountPath')}))",
            f"volumes are mounted only at declared paths (writable: {', '.join(writable) or 'none'}; "
            f"read-only: {', '.join(readable) or 'none'})",
        )
    )
    return out


def _match_any(target: Target) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = [{"resources": {"kinds": ["Pod"], "namespaces": [target.namespace]}}]
    others = list(target.declaration.capabilities.namespaces)
    if others:
        entries.append(
            {
                "resources": {
                    "kinds": ["Pod"],
                    "namespaces": others,
                    "selector": {"matchLabels": {PLUGIN_LABEL: target.name}},
                }
            }
        )
    return entries


def _variables() -> list[dict[str, str]]:
    return [{"name": "containers", "expression": _CONTAINERS}]


def render_kyverno(target: Target) -> list[dict[str, Any]]:
    """The ClusterPolicy and the ValidatingPolicy, with the same checks."""
    found = checks(target)
    expressions = [{"expression": c.expression, "message": c.message} for c in found]
    annotations = {
        "policies.kyverno.io/title": f"plugingate runtime grant of {target.name}",
        "policies.kyverno.io/category": "Supply Chain Security",
        "plugingate.dev/checks": ",".join(c.name for c in found),
    }
    cluster_policy = {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": target.metadata(target.cluster_name, namespaced=False, annotations=dict(annotations)),
        "spec": {
            "background": True,
            "rules": [
                {
                    "name": "declared-grant",
                    "match": {"any": _match_any(target)},
                    "validate": {
                        "failureAction": "Enforce",
                        "cel": {"variables": _variables(), "expressions": expressions},
                    },
                }
            ],
        },
    }
    own = f"object.metadata.namespace == {_cel(target.namespace)}"
    others = list(target.declaration.capabilities.namespaces)
    condition = own
    if others:
        condition = (
            f"{own} || (object.metadata.namespace in {_cel(others)} && has(object.metadata.labels) && "
            f"{_cel(PLUGIN_LABEL)} in object.metadata.labels && "
            f"object.metadata.labels[{_cel(PLUGIN_LABEL)}] == {_cel(target.name)})"
        )
    validating_policy = {
        "apiVersion": "policies.kyverno.io/v1",
        "kind": "ValidatingPolicy",
        "metadata": target.metadata(target.cluster_name, namespaced=False, annotations=dict(annotations)),
        "spec": {
            "validationActions": ["Deny"],
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["pods"],
                    }
                ]
            },
            "matchConditions": [{"name": "plugin-pods", "expression": condition}],
            "variables": _variables(),
            "validations": expressions,
        },
    }
    return [cluster_policy, validating_policy]
