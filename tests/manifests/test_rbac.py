"""PG-MAN-060..064: roles and bindings against the declared rules and scope."""

from __future__ import annotations

from typing import Any

from plugingate.findings import Finding

from .conftest import Runner, good_objects, ids, plugin_with

RBAC = "rbac.authorization.k8s.io/v1"


def replace_kind(kind: str, *new: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in good_objects() if o["kind"] != kind] + list(new)


def role(kind: str = "Role", rules: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": RBAC, "kind": kind, "metadata": {"name": "demo"}, "rules": rules or [], **extra}


def binding(
    kind: str = "RoleBinding", ref_kind: str = "Role", ref_name: str = "demo", subjects: Any = None
) -> dict[str, Any]:
    return {
        "apiVersion": RBAC,
        "kind": kind,
        "metadata": {"name": "demo"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": ref_name},
        "subjects": subjects if subjects is not None else [{"kind": "ServiceAccount", "name": "demo"}],
    }


def test_role_beyond_declared(run: Runner) -> None:
    rules = [{"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "list", "delete"]}]
    findings = run(replace_kind("Role", role(rules=rules)))
    assert ids(findings) == ["PG-MAN-060"]
    assert "delete core/pods" in findings[0].message and "get core/secrets" in findings[0].message
    assert findings[0].location is not None and findings[0].location.line is not None


def test_role_split_differently_is_covered(run: Runner) -> None:
    rules = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
    ]
    assert ids(run(replace_kind("Role", role(rules=rules)))) == []


def test_cluster_role_wildcard_and_aggregation(run: Runner) -> None:
    wild = role("ClusterRole", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
    objects = replace_kind("Role", wild)
    objects = [o for o in objects if o["kind"] != "RoleBinding"] + [binding(ref_kind="ClusterRole")]
    assert ids(run(objects)) == ["PG-MAN-060"]
    aggregated = role("ClusterRole", aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]})
    objects = [o for o in replace_kind("Role", aggregated) if o["kind"] != "RoleBinding"] + [
        binding(ref_kind="ClusterRole")
    ]
    assert ids(run(objects)) == ["PG-MAN-060"]


def test_huge_rule_fails_closed(run: Runner) -> None:
    many = [f"r{i}" for i in range(400)]
    rules = [{"apiGroups": [f"g{i}" for i in range(20)], "resources": many, "verbs": ["get"] * 20}]
    findings = run(replace_kind("Role", role(rules=rules)))
    assert ids(findings) == ["PG-MAN-060"] and "too many" in findings[0].message


def test_cluster_role_binding_needs_cluster_scope(run: Runner) -> None:
    # NOTE: a ClusterRoleBinding must name its ServiceAccount's namespace: the plugin declares its own.
    objects = replace_kind(
        "RoleBinding",
        binding("ClusterRoleBinding", subjects=[{"kind": "ServiceAccount", "name": "demo", "namespace": "demo"}]),
    )
    plugin = plugin_with(
        kubernetes={
            "clusterScope": True,
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        }
    )
    plugin["spec"]["namespace"] = "demo"
    assert ids(run(objects, plugin)) == []
    namespaced = plugin_with()
    namespaced["spec"]["namespace"] = "demo"
    assert ids(run(objects, namespaced)) == ["PG-MAN-061"]


def test_powerful_builtin_roles(run: Runner) -> None:
    for name in ("cluster-admin", "admin", "edit", "system:controller:namespace-controller"):
        findings = run(replace_kind("RoleBinding", binding(ref_kind="ClusterRole", ref_name=name)))
        assert ids(findings) == ["PG-MAN-062"], name


def test_role_not_in_bundle(run: Runner) -> None:
    assert ids(run(replace_kind("RoleBinding", binding(ref_kind="ClusterRole", ref_name="view")))) == ["PG-MAN-063"]
    assert ids(run(replace_kind("RoleBinding", binding(ref_name="other")))) == ["PG-MAN-063"]


def test_foreign_subjects(run: Runner) -> None:
    for subject in (
        {"kind": "Group", "name": "system:authenticated"},
        {"kind": "User", "name": "alice"},
        {"kind": "ServiceAccount", "name": "default"},
        {"kind": "ServiceAccount", "name": "demo", "namespace": "kube-system"},
    ):
        assert ids(run(replace_kind("RoleBinding", binding(subjects=[subject])))) == ["PG-MAN-064"], subject


def test_total_combinations_are_bounded(run: Runner) -> None:
    """Many broad rules together exhaust the budget and fail closed, even when each is covered."""
    broad = {
        "apiGroups": [f"g{i}.example" for i in range(100)],
        "resources": [f"r{i}" for i in range(100)],
        "verbs": [f"v{i}" for i in range(10)],
    }
    plugin = plugin_with(kubernetes={"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]})
    findings = run(replace_kind("Role", role(rules=[broad] * 11)), plugin)
    assert ids(findings) == ["PG-MAN-060"]
    # ten rules of 100,000 fit the budget of 1,000,000; the eleventh does not
    assert "rule #11 " in findings[0].message and "too many to check" in findings[0].message


def _with_namespaces(account_ns: str | None, *new: dict[str, Any]) -> list[dict[str, Any]]:
    objects = [o for o in good_objects() if o["kind"] not in ("RoleBinding", "ServiceAccount")]
    account: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "demo"}}
    if account_ns:
        account["metadata"]["namespace"] = account_ns
    return [account, *objects, *new]


def test_subject_in_a_system_namespace_names_the_namespace(run: Runner) -> None:
    """The bundle defines ``demo``, so the name is not the reason: the namespace is, and the message says so."""
    subject = {"kind": "ServiceAccount", "name": "demo", "namespace": "kube-system"}
    findings = run(replace_kind("RoleBinding", binding(subjects=[subject])))
    assert ids(findings) == ["PG-MAN-064"]
    message = findings[0].message
    assert "namespace kube-system" in message and "system namespace" in message
    assert "kube-system's account" in message
    # a ClusterRoleBinding says the same
    plugin = plugin_with(
        kubernetes={
            "clusterScope": True,
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        }
    )
    crb = binding(kind="ClusterRoleBinding", subjects=[subject])
    findings = run(_with_namespaces(None, crb), plugin)
    assert ids(findings) == ["PG-MAN-064"]
    assert "namespace kube-system" in findings[0].message and "system namespace" in findings[0].message


def test_subject_in_another_namespace_than_the_bundles_account(run: Runner) -> None:
    """``demo`` of namespace ``victim`` is another account than the bundle's ``demo`` of ``plugin-ns``."""
    subject = {"kind": "ServiceAccount", "name": "demo", "namespace": "victim"}
    # NOTE: PG-MAN-071 also fires (plugin.yaml declares no namespace, the objects name one): not this test's point.
    findings = [f for f in run(_with_namespaces("plugin-ns", binding(subjects=[subject]))) if f.rule_id != "PG-MAN-071"]
    assert ids(findings) == ["PG-MAN-064"]
    assert "namespace victim" in findings[0].message and "plugin-ns" in findings[0].message
    # the binding's own namespace is the subject's when the subject leaves it out
    bound = binding()
    bound["metadata"]["namespace"] = "victim"
    findings = [f for f in run(_with_namespaces("plugin-ns", bound)) if f.rule_id != "PG-MAN-071"]
    assert ids(findings) == ["PG-MAN-064"] and "namespace victim" in findings[0].message


def test_subject_in_the_accounts_namespace_is_the_bundles(run: Runner) -> None:
    same = {"kind": "ServiceAccount", "name": "demo", "namespace": "plugin-ns"}

    def without_placement(findings: list[Finding]) -> list[str]:
        # NOTE: PG-MAN-071 (objects in a namespace plugin.yaml does not declare) is another test's point.
        return [i for i in ids(findings) if i != "PG-MAN-071"]

    assert without_placement(run(_with_namespaces("plugin-ns", binding(subjects=[same])))) == []
    # NOTE: an account without a namespace goes where the plugin is installed, which plugin.yaml does not
    # name here: a subject that names `plugin-ns` may be another namespace's account, so it is refused.
    assert without_placement(run(_with_namespaces(None, binding(subjects=[same])))) == ["PG-MAN-064"]
    bound = binding()
    bound["metadata"]["namespace"] = "plugin-ns"
    assert without_placement(run(_with_namespaces("plugin-ns", bound))) == []


def test_foreign_subject_names_its_namespace(run: Runner) -> None:
    subject = {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"}
    findings = run(replace_kind("RoleBinding", binding(subjects=[subject])))
    assert ids(findings) == ["PG-MAN-064"]
    assert "'builder' in namespace ci" in findings[0].message and "(demo)" in findings[0].message
