"""Writes testdata/growth/<case>/{old,new}/: pairs of plugin versions, and each case's expected.yaml.

Every case starts from one small plugin (BASE, its manifests MANIFESTS) and changes the new version
(sometimes the old one too) in one way: a kind of growth, a change that is not growth, or growth
hidden by another spelling. ``expected.yaml`` lists the exact growth item ids ``plugingate diff``
must print (``items``) and the repositories it must list as image updates (``updates``).

Run ``python3 testdata/growth/make_cases.py`` after changing it; tests/growth/test_cases.py checks
that the committed tree is what it writes.
"""

from __future__ import annotations

import copy
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
IMAGE = "registry.example.com/acme/exporter"

BASE: dict[str, Any] = {
    "apiVersion": "plugingate.dev/v1",
    "kind": "Plugin",
    "metadata": {"name": "acme-growth", "version": "1.0.0", "publisher": "acme.example"},
    "spec": {
        "images": [{"name": "exporter", "ref": f"{IMAGE}@{DIGEST_A}"}],
        "manifests": "deploy/",
        "capabilities": {
            "network": {
                "egress": [{"host": "api-acme.example", "ports": [443], "reason": "ACME API"}],
                "ingress": [{"port": 9100, "reason": "Prometheus scrapes /metrics"}],
            },
            "filesystem": {"read": ["/etc/acme"], "write": ["/tmp"]},
            "secrets": [{"name": "acme-token", "keys": ["token"], "as": "env"}],
            "kubernetes": {
                "rules": [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch"]}]
            },
            "privileges": {
                "runAsNonRoot": True,
                "allowPrivilegeEscalation": False,
                "capabilities": ["NET_BIND_SERVICE"],
            },
            "resources": {"cpu": "500m", "memory": "256Mi"},
        },
    },
}


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "acme-growth"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "acme-growth"}},
            "template": {
                "metadata": {"labels": {"app": "acme-growth"}},
                "spec": {
                    "serviceAccountName": "acme-growth",
                    "automountServiceAccountToken": True,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "exporter",
                            "image": f"{IMAGE}@{DIGEST_A}",
                            "ports": [{"name": "metrics", "containerPort": 9100, "protocol": "TCP"}],
                            "env": [
                                {
                                    "name": "ACME_TOKEN",
                                    "valueFrom": {"secretKeyRef": {"name": "acme-token", "key": "token"}},
                                }
                            ],
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "64Mi"},
                                "limits": {"cpu": "500m", "memory": "256Mi"},
                            },
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                            },
                            "volumeMounts": [
                                {"name": "config", "mountPath": "/etc/acme", "readOnly": True},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": "acme-growth-config"}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                    ],
                },
            },
        },
    }


MANIFESTS: dict[str, list[dict[str, Any]]] = {
    "deployment.yaml": [_deployment()],
    "rbac.yaml": [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "acme-growth"}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "acme-growth-read"},
            "rules": [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "acme-growth-read"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "acme-growth-read"},
            "subjects": [{"kind": "ServiceAccount", "name": "acme-growth"}],
        },
    ],
    "configmap.yaml": [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "acme-growth-config"},
            "data": {"exporter.ini": "[acme]\n"},
        }
    ],
}

Version = tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]
Change = Callable[[dict[str, Any], dict[str, list[dict[str, Any]]]], None]


def caps(plugin: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = plugin["spec"]["capabilities"]
    return result


def pod(manifests: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    result: dict[str, Any] = manifests["deployment.yaml"][0]["spec"]["template"]["spec"]
    return result


def container(manifests: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    result: dict[str, Any] = pod(manifests)["containers"][0]
    return result


def role(manifests: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return manifests["rbac.yaml"][1]


def both_rules(plugin: dict[str, Any], manifests: dict[str, list[dict[str, Any]]], rules: list[dict[str, Any]]) -> None:
    caps(plugin)["kubernetes"]["rules"] = copy.deepcopy(rules)
    role(manifests)["rules"] = copy.deepcopy(rules)


# --- the cases: (name, what it shows, change to NEW, change to OLD or None, expected items, updates) -------


def egress_host(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["network"]["egress"].append({"host": "telemetry-acme.example", "ports": [443], "reason": "telemetry"})


def egress_port(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["network"]["egress"][0]["ports"] = [443, 8443]


def ingress(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["network"]["ingress"].append({"port": 9200, "reason": "health"})
    container(m)["ports"].append({"name": "health", "containerPort": 9200, "protocol": "TCP"})


def filesystem(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["filesystem"]["write"].append("/var/run/plugin")
    pod(m)["volumes"].append({"name": "state", "emptyDir": {}})
    container(m)["volumeMounts"].append({"name": "state", "mountPath": "/var/run/plugin"})


def secret_new(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["secrets"].append({"name": "acme-db", "keys": ["password"], "as": "env"})
    container(m)["env"].append({"name": "DB", "valueFrom": {"secretKeyRef": {"name": "acme-db", "key": "password"}}})


def secret_key(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["secrets"][0]["keys"] = ["token", "refresh"]
    container(m)["env"].append({"name": "R", "valueFrom": {"secretKeyRef": {"name": "acme-token", "key": "refresh"}}})


def rbac_verb(p: dict[str, Any], m: dict[str, Any]) -> None:
    both_rules(
        p, m, [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch", "delete"]}]
    )


def rbac_resource(p: dict[str, Any], m: dict[str, Any]) -> None:
    both_rules(
        p,
        m,
        [
            {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["acme-growth-config"]},
        ],
    )


def privilege_flag(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["privileges"]["hostNetwork"] = True
    pod(m)["hostNetwork"] = True


def privilege_capability(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["privileges"]["capabilities"] = ["NET_BIND_SERVICE", "NET_ADMIN"]
    container(m)["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE", "NET_ADMIN"]


def privilege_host_path(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["privileges"]["hostPath"] = ["/var/log"]
    pod(m)["volumes"].append({"name": "logs", "hostPath": {"path": "/var/log", "type": "Directory"}})
    container(m)["volumeMounts"].append({"name": "logs", "mountPath": "/host/log", "readOnly": True})


def image_repository(p: dict[str, Any], m: dict[str, Any]) -> None:
    p["spec"]["images"].append({"name": "sidecar", "ref": f"registry.example.com/acme/sidecar@{DIGEST_A}"})
    side = copy.deepcopy(container(m))
    side.update(name="sidecar", image=f"registry.example.com/acme/sidecar@{DIGEST_A}", ports=[], env=[])
    pod(m)["containers"].append(side)


def resources(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["resources"] = {"cpu": "1", "memory": "512Mi"}
    container(m)["resources"]["limits"] = {"cpu": "1", "memory": "512Mi"}


def cluster_scoped(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["kubernetes"]["clusterScope"] = True
    caps(p)["kubernetes"]["rules"].append({"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]})
    m["clusterrole.yaml"] = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "acme-growth-nodes"},
            "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "acme-growth-nodes"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "acme-growth-nodes"},
            "subjects": [{"kind": "ServiceAccount", "name": "acme-growth", "namespace": "acme"}],
        },
    ]


def manifest_only_rbac(p: dict[str, Any], m: dict[str, Any]) -> None:
    role(m)["rules"][0]["verbs"] = ["get", "list", "watch", "delete"]


def manifest_only_secret(p: dict[str, Any], m: dict[str, Any]) -> None:
    container(m)["envFrom"] = [{"secretRef": {"name": "acme-admin"}}]


def manifest_only_privilege(p: dict[str, Any], m: dict[str, Any]) -> None:
    container(m)["securityContext"]["privileged"] = True
    container(m)["securityContext"]["readOnlyRootFilesystem"] = False


def reordered(p: dict[str, Any], m: dict[str, Any]) -> None:
    # NOTE: the same grants written otherwise: rules split per resource, verbs and lists reordered.
    rules = [
        {"apiGroups": [""], "resources": ["services"], "verbs": ["watch", "get", "list"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch", "get"]},
    ]
    both_rules(p, m, rules)
    caps(p)["network"]["egress"][0]["ports"] = [443, 443]
    m["deployment.yaml"], m["rbac.yaml"] = m["deployment.yaml"], list(reversed(m["rbac.yaml"]))


def narrowed(p: dict[str, Any], m: dict[str, Any]) -> None:
    both_rules(p, m, [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])
    caps(p)["resources"] = {"cpu": "250m", "memory": "128Mi"}
    container(m)["resources"]["limits"] = {"cpu": "250m", "memory": "128Mi"}
    caps(p)["network"]["ingress"] = []
    container(m)["ports"] = []


def new_digest(p: dict[str, Any], m: dict[str, Any]) -> None:
    p["spec"]["images"][0]["ref"] = f"{IMAGE}@{DIGEST_B}"
    # NOTE: the registry host spelled in capitals is the same repository.
    container(m)["image"] = f"Registry.Example.COM/acme/exporter@{DIGEST_B}"


def host_spelling(p: dict[str, Any], m: dict[str, Any]) -> None:
    # NOTE: the old host in capitals with a trailing dot is no growth; the new one hidden the same way is.
    caps(p)["network"]["egress"] = [
        {"host": "API-ACME.example.", "ports": [443], "reason": "ACME API"},
        {"host": "Exfil.Example.", "ports": [443], "reason": "hidden"},
    ]


def rbac_star_verb(p: dict[str, Any], m: dict[str, Any]) -> None:
    both_rules(p, m, [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["*"]}])


def rbac_split_old(p: dict[str, Any], m: dict[str, Any]) -> None:
    both_rules(
        p,
        m,
        [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
        ],
    )


def rbac_merged(p: dict[str, Any], m: dict[str, Any]) -> None:
    # NOTE: merged, the rule grants the cross product: apps/pods and core/deployments are new.
    both_rules(p, m, [{"apiGroups": ["", "apps"], "resources": ["pods", "deployments"], "verbs": ["get"]}])


def rbac_merged_same(p: dict[str, Any], m: dict[str, Any]) -> None:
    both_rules(
        p,
        m,
        [
            {"apiGroups": ["apps", ""], "resources": ["pods"], "verbs": ["get"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
        ],
    )


def rbac_merged_same_old(p: dict[str, Any], m: dict[str, Any]) -> None:
    both_rules(
        p,
        m,
        [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
            {"apiGroups": ["apps"], "resources": ["pods", "deployments"], "verbs": ["get"]},
        ],
    )


def network_policy(port: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "acme-growth-egress"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "acme-growth"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": [{"protocol": "TCP", "port": port}]}],
        },
    }


def port_string_old(p: dict[str, Any], m: dict[str, Any]) -> None:
    m["networkpolicy.yaml"] = [network_policy(443)]


def port_string_new(p: dict[str, Any], m: dict[str, Any]) -> None:
    # NOTE: "443" as a string is the old port; "8443" as a string is a new one.
    m["networkpolicy.yaml"] = [network_policy("443")]
    m["networkpolicy.yaml"][0]["spec"]["egress"][0]["ports"].append({"protocol": "tcp", "port": "8443"})


def manifest_only_binding(p: dict[str, Any], m: dict[str, Any]) -> None:
    # NOTE: no rule is written anywhere: the binding to a built-in role the bundle does not ship is the grant.
    m["rbac.yaml"].append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "acme-growth-edit"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "ServiceAccount", "name": "acme-growth"}],
        }
    )


def other_namespace(p: dict[str, Any], m: dict[str, Any]) -> None:
    m["configmap.yaml"].append(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "acme-growth", "namespace": "monitoring"}}
    )


def manifest_defaults(p: dict[str, Any], m: dict[str, Any]) -> None:
    # NOTE: nothing is written that asks for more; the settings that forbade it are dropped, and the defaults allow it.
    del pod(m)["securityContext"]["runAsNonRoot"], pod(m)["securityContext"]["runAsUser"]
    del container(m)["securityContext"]["allowPrivilegeEscalation"]


def addresses_old(p: dict[str, Any], m: dict[str, Any]) -> None:
    caps(p)["network"]["egress"] = [
        {"host": "10.0.0.0/8", "ports": [443], "reason": "appliances"},
        {"host": "2001:db8::1", "ports": [443], "reason": "appliance"},
    ]


def addresses_new(p: dict[str, Any], m: dict[str, Any]) -> None:
    # NOTE: a network inside the old one, the old one written otherwise, the same IPv6 address spelled
    # otherwise: no growth. A private address outside it is.
    caps(p)["network"]["egress"] = [
        {"host": "10.1.0.0/16", "ports": [443], "reason": "appliances"},
        {"host": "10.1.2.3/8", "ports": [443], "reason": "appliances"},
        {"host": "2001:DB8:0:0::1", "ports": [443], "reason": "appliance"},
        {"host": "192.168.1.1", "ports": [443], "reason": "hidden"},
    ]


def namespace_old(p: dict[str, Any], m: dict[str, Any]) -> None:
    p["spec"]["namespace"] = "acme"


def namespace_new(p: dict[str, Any], m: dict[str, Any]) -> None:
    p["spec"]["namespace"] = "kube-system"


CASES: list[tuple[str, str, Change, Change | None, list[str], list[str]]] = [
    ("egress-host", "a new egress host", egress_host, None, ["egress:telemetry-acme.example:443/TCP"], []),
    ("egress-port", "a new port to a known host", egress_port, None, ["egress:api-acme.example:8443/TCP"], []),
    ("ingress-port", "a new ingress port", ingress, None, ["ingress:9200/TCP"], []),
    ("filesystem-write", "a new writable path", filesystem, None, ["filesystem:write:/var/run/plugin"], []),
    ("secret-new", "a new secret", secret_new, None, ["secrets:acme-db/password"], []),
    ("secret-key", "a new key of a known secret", secret_key, None, ["secrets:acme-token/refresh"], []),
    ("rbac-verb", "a new RBAC verb", rbac_verb, None, ["rbac:core/pods:delete", "rbac:core/services:delete"], []),
    (
        "rbac-resource",
        "a new RBAC resource (one named object)",
        rbac_resource,
        None,
        ["rbac:core/configmaps:get:acme-growth-config"],
        [],
    ),
    ("privilege-flag", "hostNetwork", privilege_flag, None, ["privileges:hostNetwork"], []),
    (
        "privilege-capability",
        "a new Linux capability",
        privilege_capability,
        None,
        ["privileges:capability:NET_ADMIN"],
        [],
    ),
    ("privilege-host-path", "a host path", privilege_host_path, None, ["privileges:hostPath:/var/log"], []),
    (
        "image-repository",
        "a new image repository",
        image_repository,
        None,
        ["images:registry.example.com/acme/sidecar"],
        [],
    ),
    ("resources", "more CPU and memory", resources, None, ["resources:cpu:1000m", "resources:memory:536870912"], []),
    (
        "cluster-scoped",
        "cluster-scoped objects and cluster-wide rules",
        cluster_scoped,
        None,
        [
            "clusterScoped:ClusterRole.rbac.authorization.k8s.io/acme-growth-nodes",
            "clusterScoped:ClusterRoleBinding.rbac.authorization.k8s.io/acme-growth-nodes",
            "clusterScoped:clusterScope",
            "rbac:cluster:core/nodes:get",
            "rbac:cluster:core/nodes:list",
            "rbac:cluster:core/pods:get",
            "rbac:cluster:core/pods:list",
            "rbac:cluster:core/pods:watch",
            "rbac:cluster:core/services:get",
            "rbac:cluster:core/services:list",
            "rbac:cluster:core/services:watch",
        ],
        [],
    ),
    (
        "manifest-only-rbac",
        "a Role grows, plugin.yaml does not",
        manifest_only_rbac,
        None,
        ["rbac:core/pods:delete", "rbac:core/services:delete"],
        [],
    ),
    (
        "manifest-only-secret",
        "a container reads a whole undeclared Secret",
        manifest_only_secret,
        None,
        ["secrets:acme-admin/*"],
        [],
    ),
    (
        "manifest-only-privilege",
        "a privileged container with a writable root",
        manifest_only_privilege,
        None,
        ["filesystem:writableRootFilesystem", "privileges:privileged"],
        [],
    ),
    (
        "manifest-only-binding",
        "a RoleBinding to a built-in ClusterRole",
        manifest_only_binding,
        None,
        ["rbac:bind:ClusterRole/edit"],
        [],
    ),
    (
        "other-namespace",
        "an object placed in another namespace",
        other_namespace,
        None,
        ["clusterScoped:namespace:monitoring"],
        [],
    ),
    (
        "manifest-defaults",
        "settings that forbade root and escalation dropped",
        manifest_defaults,
        None,
        ["privileges:allowPrivilegeEscalation", "privileges:runAsRoot"],
        [],
    ),
    (
        "addresses",
        "addresses and networks compared as networks",
        addresses_new,
        addresses_old,
        ["egress:192.168.1.1:443/TCP"],
        [],
    ),
    (
        "namespace-move",
        "the plugin's own namespace moved",
        namespace_new,
        namespace_old,
        ["clusterScoped:namespace:kube-system"],
        [],
    ),
    ("reordered", "no growth: the same grants reordered and split", reordered, None, [], []),
    ("narrowed", "no growth: fewer grants", narrowed, None, [], []),
    ("new-digest", "no growth: a new digest of the same repository", new_digest, None, [], [IMAGE]),
    (
        "host-spelling",
        "a host hidden by capitals and a trailing dot",
        host_spelling,
        None,
        ["egress:exfil.example:443/TCP"],
        [],
    ),
    ("rbac-star-verb", "verbs: [*]", rbac_star_verb, None, ["rbac:core/pods:*", "rbac:core/services:*"], []),
    (
        "rbac-merged",
        "split rules merged into a cross product",
        rbac_merged,
        rbac_split_old,
        ["rbac:apps/pods:get", "rbac:core/deployments:get"],
        [],
    ),
    ("rbac-merged-same", "no growth: the same atoms merged otherwise", rbac_merged_same, rbac_merged_same_old, [], []),
    (
        "port-as-string",
        "ports written as strings",
        port_string_new,
        port_string_old,
        ["egress:203.0.113.0/24:8443/TCP"],
        [],
    ),
]


def version(change: Change | None, number: str) -> Version:
    plugin, manifests = copy.deepcopy(BASE), copy.deepcopy(MANIFESTS)
    plugin["metadata"]["version"] = number
    if change is not None:
        change(plugin, manifests)
    return plugin, manifests


def write_version(folder: Path, plugin: dict[str, Any], manifests: dict[str, list[dict[str, Any]]]) -> None:
    (folder / "deploy").mkdir(parents=True)
    (folder / "plugin.yaml").write_text(yaml.safe_dump(plugin, sort_keys=False), encoding="utf-8")
    for name, docs in manifests.items():
        (folder / "deploy" / name).write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")


def write_all(target: Path) -> None:
    """Write every case under ``target`` (replacing what is there)."""
    for name, what, new, old, items, updates in CASES:
        case = target / name
        if case.exists():
            shutil.rmtree(case)
        write_version(case / "old", *version(old, "1.0.0"))
        write_version(case / "new", *version(new, "1.1.0"))
        expected = {"what": what, "items": sorted(items), "updates": updates}
        (case / "expected.yaml").write_text(yaml.safe_dump(expected, sort_keys=False), encoding="utf-8")


if __name__ == "__main__":
    write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
