"""PG-MAN-001..004: unknown kinds, empty manifests, system namespaces, cluster-level objects, shipped Secrets."""

from __future__ import annotations

from typing import Any

import pytest

from plugingate.policy.model import CapabilitiesPolicy, KubernetesPolicy, UnknownKinds

from .conftest import PLUGIN, Runner, good_objects, ids, plugin_with


def warnings(findings: list[Any]) -> list[str]:
    return sorted(f.rule_id for f in findings if not f.denies)


def test_unknown_kind_is_denied_unless_the_policy_lowers_it(run: Runner) -> None:
    monitor = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "demo"}}
    findings = run([*good_objects(), monitor])
    assert ids(findings) == ["PG-MAN-001"] and "cannot classify" in findings[0].message
    lowered = CapabilitiesPolicy(kubernetes=KubernetesPolicy(unknown_kinds=UnknownKinds.WARN))
    findings = run([*good_objects(), monitor], policy=lowered)
    assert ids(findings) == [] and warnings(findings) == ["PG-MAN-001"]


def test_custom_group_deployment_is_not_a_deployment(run: Runner) -> None:
    fake = {"apiVersion": "evil.example/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {}}
    findings = run([*good_objects(), fake])
    assert ids(findings) == ["PG-MAN-001"]


def test_no_objects_is_a_warning(run: Runner) -> None:
    findings = run([])
    assert ids(findings) == [] and warnings(findings) == ["PG-MAN-002"]


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "kube-node-lease"])
def test_system_namespace(run: Runner, namespace: str) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": namespace}}
    assert ids(run([*good_objects(), cm])) == ["PG-MAN-003"]
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    # a Namespace is also a cluster-scoped object the default policy does not list
    assert ids(run([*good_objects(), ns])) == ["PG-MAN-003", "PG-MAN-004", "PG-MAN-072"]


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("apiregistration.k8s.io/v1", "APIService"),
        ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema"),
        ("v1", "Node"),
        ("v1", "node"),
        ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ],
)
def test_forbidden_cluster_objects(run: Runner, api_version: str, kind: str) -> None:
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    cluster = plugin_with(
        kubernetes={"clusterScope": True, "rules": PLUGIN["spec"]["capabilities"]["kubernetes"]["rules"]}
    )
    assert ids(run([*good_objects(), obj], cluster)) == ["PG-MAN-004"]


def test_cluster_scoped_objects_need_cluster_scope(run: Runner) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "x.demo.example"},
    }
    assert ids(run([*good_objects(), crd])) == ["PG-MAN-004"]
    cluster = plugin_with(
        kubernetes={"clusterScope": True, "rules": PLUGIN["spec"]["capabilities"]["kubernetes"]["rules"]}
    )
    assert ids(run([*good_objects(), crd], cluster)) == []


def test_shipped_secret_must_be_declared(run: Runner) -> None:
    declared = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "demo-token"}, "stringData": {"token": "x"}}
    assert ids(run([*good_objects(), declared])) == []
    other = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "other"}}
    assert ids(run([*good_objects(), other])) == ["PG-MAN-040"]
