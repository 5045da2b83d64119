"""A small, passing bundle to mutate one field at a time in the manifest tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugingate.capabilities import check_capabilities
from plugingate.declaration import load_declaration
from plugingate.findings import Finding
from plugingate.manifests import check_manifests, load_manifests
from plugingate.policy.model import CapabilitiesPolicy, NetworkPolicy

IMAGE = "registry.example.com/demo/app@sha256:" + "cd" * 32

PLUGIN: dict[str, Any] = {
    "apiVersion": "plugingate.dev/v1",
    "kind": "Plugin",
    "metadata": {"name": "demo", "version": "1.0.0", "publisher": "demo.example"},
    "spec": {
        "images": [{"name": "app", "ref": IMAGE}],
        "manifests": "deploy/",
        "capabilities": {
            "network": {
                "egress": [{"host": "api.demo.example", "ports": [443], "reason": "push data"}],
                "ingress": [{"port": 8080, "reason": "serve the API"}],
            },
            "filesystem": {"write": ["/tmp"]},
            "secrets": [{"name": "demo-token", "keys": ["token"], "as": "env"}],
            "kubernetes": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
            "privileges": {"runAsNonRoot": True},
            "resources": {"cpu": "500m", "memory": "256Mi"},
        },
    },
}


def container(**overrides: Any) -> dict[str, Any]:
    """A container that uses nothing undeclared."""
    base: dict[str, Any] = {
        "name": "app",
        "image": IMAGE,
        "ports": [{"containerPort": 8080}],
        "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "demo-token", "key": "token"}}}],
        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    # NOTE: a test's own securityContext keeps the Restricted basics it does not mention (drop ALL).
    if isinstance(overrides.get("securityContext"), dict):
        overrides = {
            **overrides,
            "securityContext": {"capabilities": {"drop": ["ALL"]}, **overrides["securityContext"]},
        }
    base.update(overrides)
    return base


def pod_spec(**overrides: Any) -> dict[str, Any]:
    """A pod spec that uses nothing undeclared."""
    base: dict[str, Any] = {
        "serviceAccountName": "demo",
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container()],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    # NOTE: likewise the pod's seccomp profile, unless the test sets one (None: none at all).
    if isinstance(overrides.get("securityContext"), dict):
        sc = {"seccompProfile": {"type": "RuntimeDefault"}, **overrides["securityContext"]}
        overrides = {**overrides, "securityContext": sc}
    base.update(overrides)
    return base


def deployment(spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Deployment around a pod spec."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "demo"},
        "spec": {"selector": {"matchLabels": {"app": "demo"}}, "template": {"spec": spec or pod_spec()}},
    }


def good_objects() -> list[dict[str, Any]]:
    """Every object of the passing bundle."""
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "demo"}},
        deployment(),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "demo"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "demo"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "demo"},
            "subjects": [{"kind": "ServiceAccount", "name": "demo"}],
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "demo"},
            "spec": {"ports": [{"port": 8080, "targetPort": 8080}]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "demo"},
            "spec": {
                "podSelector": {},
                "ingress": [{"ports": [{"port": 8080}]}],
                "egress": [
                    {"ports": [{"port": 53, "protocol": "UDP"}]},
                    {
                        "to": [
                            {
                                "ipBlock": {
                                    "cidr": "0.0.0.0/0",
                                    "except": ["169.254.0.0/16", "100.64.0.0/10", "192.0.0.0/24"],
                                }
                            }
                        ],
                        "ports": [{"port": 443}],
                    },
                ],
            },
        },
    ]


def write_bundle(root: Path, objects: list[dict[str, Any]], plugin: dict[str, Any] | None = None) -> Path:
    """plugin.yaml and deploy/all.yaml (one multi-document file) under ``root``."""
    (root / "deploy").mkdir(parents=True, exist_ok=True)
    (root / "plugin.yaml").write_text(yaml.safe_dump(plugin or PLUGIN, sort_keys=False))
    (root / "deploy" / "all.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return root


def plugin_with(**capabilities: Any) -> dict[str, Any]:
    """PLUGIN with capability sections replaced."""
    plugin = copy.deepcopy(PLUGIN)
    plugin["spec"]["capabilities"].update(capabilities)
    return plugin


class Runner:
    """Writes a bundle and returns the manifest findings (and can return capability findings too)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(
        self,
        objects: list[dict[str, Any]],
        plugin: dict[str, Any] | None = None,
        policy: CapabilitiesPolicy | None = None,
    ) -> list[Finding]:
        write_bundle(self.root, objects, plugin)
        decl = load_declaration(self.root)
        return check_manifests(load_manifests(self.root, decl), decl, policy or CapabilitiesPolicy())

    def all(self, objects: list[dict[str, Any]], plugin: dict[str, Any] | None = None) -> list[Finding]:
        """Capability and manifest findings together."""
        write_bundle(self.root, objects, plugin)
        decl = load_declaration(self.root)
        policy = CapabilitiesPolicy(network=NetworkPolicy(egress_allow=("*.demo.example",), egress_ports=(443,)))
        return check_capabilities(decl, policy) + check_manifests(load_manifests(self.root, decl), decl, policy)


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    """A runner over a fresh bundle folder."""
    return Runner(tmp_path / "bundle")


def ids(findings: list[Finding]) -> list[str]:
    """Sorted rule ids of the error findings."""
    return sorted(f.rule_id for f in findings if f.denies)
