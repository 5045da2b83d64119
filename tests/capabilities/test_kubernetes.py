"""PG-CAP-030..034: declared RBAC rules against the policy, and rule coverage."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from plugingate.capabilities.kubernetes import check_kubernetes
from plugingate.capabilities.rbac import combinations, resource_matches, uncovered
from plugingate.declaration import RbacRule
from plugingate.policy.model import KubernetesPolicy

from .conftest import declaration, rule_ids

POLICY = KubernetesPolicy()


def kube(*rules: dict[str, Any], cluster: bool = False) -> dict[str, Any]:
    return {"kubernetes": {"clusterScope": cluster, "rules": list(rules)}}


def test_read_pods_passes() -> None:
    caps = kube({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]})
    assert check_kubernetes(declaration(caps), POLICY) == []


def test_wildcards() -> None:
    for rule in (
        {"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods/*"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]},
    ):
        assert rule_ids(check_kubernetes(declaration(kube(rule)), POLICY)) == ["PG-CAP-030"], rule


def test_wildcard_allowed_still_cannot_smuggle_forbidden_rights() -> None:
    policy = replace(POLICY, allow_wildcards=True)
    rule = {"apiGroups": [""], "resources": ["pods/*"], "verbs": ["*"]}
    assert rule_ids(check_kubernetes(declaration(kube(rule)), policy)) == ["PG-CAP-032", "PG-CAP-033"]


def test_cluster_wide_secrets() -> None:
    rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}
    assert check_kubernetes(declaration(kube(rule)), POLICY) == []  # namespaced: fine
    assert rule_ids(check_kubernetes(declaration(kube(rule, cluster=True)), POLICY)) == ["PG-CAP-031"]
    named = dict(rule, resourceNames=["acme-token"])
    assert check_kubernetes(declaration(kube(named, cluster=True)), POLICY) == []
    allowed = replace(POLICY, allow_cluster_wide_secrets=True)
    assert check_kubernetes(declaration(kube(rule, cluster=True)), allowed) == []


def test_forbidden_verbs_and_resources() -> None:
    rule = {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind", "escalate"]}
    findings = check_kubernetes(declaration(kube(rule)), POLICY)
    assert rule_ids(findings) == ["PG-CAP-032"] and "bind, escalate" in findings[0].message
    rule = {"apiGroups": [""], "resources": ["pods", "pods/exec"], "verbs": ["create"]}
    findings = check_kubernetes(declaration(kube(rule)), POLICY)
    assert rule_ids(findings) == ["PG-CAP-033"] and "pods/exec" in findings[0].message
    rule = {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]}
    assert rule_ids(check_kubernetes(declaration(kube(rule)), POLICY)) == ["PG-CAP-032"]


def test_cluster_scope() -> None:
    rule = {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}
    assert check_kubernetes(declaration(kube(rule, cluster=True)), POLICY) == []
    policy = replace(POLICY, allow_cluster_roles=False)
    assert rule_ids(check_kubernetes(declaration(kube(rule, cluster=True)), policy)) == ["PG-CAP-034"]


def test_coverage_by_combination() -> None:
    declared = (
        RbacRule(verbs=("get", "list"), api_groups=("",), resources=("pods",)),
        RbacRule(verbs=("get",), api_groups=("",), resources=("configmaps",), resource_names=("cfg",)),
        RbacRule(verbs=("get",), non_resource_urls=("/healthz", "/metrics/*")),
    )
    # split differently, still covered
    assert list(uncovered(RbacRule(verbs=("list",), api_groups=("",), resources=("pods",)), declared)) == []
    # a verb more
    assert list(uncovered(RbacRule(verbs=("get", "delete"), api_groups=("",), resources=("pods",)), declared)) == [
        "delete core/pods"
    ]
    # named resource: the manifest must name only declared names
    named = RbacRule(verbs=("get",), api_groups=("",), resources=("configmaps",), resource_names=("cfg",))
    assert list(uncovered(named, declared)) == []
    assert list(uncovered(RbacRule(verbs=("get",), api_groups=("",), resources=("configmaps",)), declared)) == [
        "get core/configmaps"
    ]
    # a manifest wildcard is a literal '*' that only a declared '*' covers
    assert list(uncovered(RbacRule(verbs=("*",), api_groups=("",), resources=("pods",)), declared)) == ["* core/pods"]
    # subresources are not their parent
    assert list(uncovered(RbacRule(verbs=("get",), api_groups=("",), resources=("pods/log",)), declared)) == [
        "get core/pods/log"
    ]
    assert list(uncovered(RbacRule(verbs=("get",), non_resource_urls=("/metrics/cadvisor",)), declared)) == []
    assert list(uncovered(RbacRule(verbs=("get",), non_resource_urls=("/logs",)), declared)) == ["get /logs"]


def test_resource_matches() -> None:
    assert resource_matches("*", "pods/exec")
    assert resource_matches("pods/*", "pods/exec")
    assert not resource_matches("pods/*", "pods")
    assert resource_matches("*/scale", "deployments/scale")
    assert not resource_matches("pods", "pods/exec")


def test_combinations_counts() -> None:
    rule = RbacRule(verbs=("get", "list"), api_groups=("", "apps"), resources=("a", "b", "c"), resource_names=("x",))
    assert combinations(rule) == 12


def test_comparison_work_is_bounded() -> None:
    """Hostile sizes on both sides end with TooComplexError instead of running for minutes."""
    import pytest

    from plugingate.capabilities.rbac import TooComplexError, WorkBudget

    declared = tuple(
        RbacRule(verbs=("get",), non_resource_urls=tuple(f"/u{i}*" for i in range(256))) for _ in range(256)
    )
    rule = RbacRule(verbs=("get",), non_resource_urls=tuple(f"/x{i}" for i in range(100_000)))
    with pytest.raises(TooComplexError):
        list(uncovered(rule, declared, budget=WorkBudget(1_000_000)))
    # an honest comparison stays far below the budget
    budget = WorkBudget(10_000)
    small = RbacRule(verbs=("get", "list"), api_groups=("",), resources=("pods",))
    assert list(uncovered(small, (small,), budget=budget)) == []
    assert budget.left > 9_900
