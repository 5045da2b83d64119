"""Roles and bindings in the manifests against the declared RBAC rules and scope."""

from __future__ import annotations

from itertools import islice
from typing import Any

from plugingate.capabilities.rbac import (
    MAX_COMBINATIONS,
    MAX_TOTAL_COMBINATIONS,
    MAX_TOTAL_WORK,
    TooComplexError,
    WorkBudget,
    combinations,
    uncovered,
)
from plugingate.declaration import Declaration, RbacRule
from plugingate.findings import Finding
from plugingate.manifests import rules
from plugingate.manifests.kinds import RBAC_GROUP, SYSTEM_NAMESPACES
from plugingate.manifests.model import ManifestObject, ManifestSet
from plugingate.safeyaml import JsonPath

POWERFUL_ROLES = frozenset({"cluster-admin", "admin", "edit"})
_SHOWN = 5


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def manifest_rule(data: Any) -> RbacRule:
    """A PolicyRule of a Role as an ``RbacRule``."""
    rule = data if isinstance(data, dict) else {}
    return RbacRule(
        verbs=_strings(rule.get("verbs")),
        api_groups=_strings(rule.get("apiGroups")),
        resources=_strings(rule.get("resources")),
        resource_names=_strings(rule.get("resourceNames")),
        non_resource_urls=_strings(rule.get("nonResourceURLs")),
    )


def service_accounts(manifests: ManifestSet) -> set[str]:
    """Names of the ServiceAccounts the bundle defines."""
    return {o.name for o in manifests.objects if o.kind == "ServiceAccount" and o.group == ""}


def home(obj: ManifestObject, declaration: Declaration) -> str:
    """The namespace an object lands in: its own, else the plugin's (``""``: the one forced at install)."""
    return obj.namespace or declaration.namespace or ""


def account_homes(manifests: ManifestSet, declaration: Declaration) -> set[tuple[str, str]]:
    """(name, namespace) of every ServiceAccount the bundle defines."""
    return {(o.name, home(o, declaration)) for o in manifests.objects if o.kind == "ServiceAccount" and o.group == ""}


def subject_home(binding: ManifestObject, subject: dict[str, Any], declaration: Declaration) -> str | None:
    """The namespace of a ServiceAccount subject: its own, or (RoleBinding only) the binding's."""
    namespace = subject.get("namespace")
    if isinstance(namespace, str) and namespace:
        # NOTE: the plugin's namespace named outright is the same place as "no namespace" when it is declared.
        return namespace
    return home(binding, declaration) if binding.kind == "RoleBinding" else None


def _foreign_subject(
    obj: ManifestObject, subject: dict[str, Any], homes: set[tuple[str, str]], declaration: Declaration
) -> str | None:
    """Why a binding's subject is not one of the bundle's ServiceAccounts (None when it is).

    A ServiceAccount is a (name, namespace) pair: ``demo`` in ``kube-system`` is kube-system's account, not the
    bundle's ``demo``, so when the namespace is the reason the message names it.
    """
    kind, name = str(subject.get("kind", "")), str(subject.get("name", ""))
    names = {n for n, _ in homes}
    raw = subject.get("namespace")
    written = str(raw) if raw else None
    if kind != "ServiceAccount" or name not in names:
        where = f" in namespace {written}" if written else ""
        own = ", ".join(sorted(names)) or "none"
        return f"{kind} {name!r}{where}; expected only ServiceAccounts the bundle defines ({own})"
    # NOTE: a RoleBinding's ServiceAccount subject without a namespace means the binding's own namespace
    # (the API server fills it in); a ClusterRoleBinding's must name it.
    namespace = subject_home(obj, subject, declaration)
    if namespace is not None and (name, namespace) in homes and namespace not in SYSTEM_NAMESPACES:
        return None
    places = ", ".join(sorted(ns or "the namespace the plugin is installed in" for n, ns in homes if n == name))
    if namespace is None:
        return (
            f"ServiceAccount {name!r} with no namespace in a {obj.kind}, which names no namespace of its own; "
            f"expected subjects[].namespace set to where the bundle's {name!r} lives ({places})"
        )
    if namespace in SYSTEM_NAMESPACES:
        return (
            f"ServiceAccount {name!r} of namespace {namespace}, a system namespace: that is {namespace}'s account "
            f"named {name!r}, not the bundle's (which lives in {places}); expected the bundle's ServiceAccount in "
            "the plugin's namespace"
        )
    return (
        f"ServiceAccount {name!r} of namespace {namespace or 'the install namespace'}, while the bundle's {name!r} "
        f"lives in {places}: another namespace's account of the same name; expected subjects[].namespace {places}"
    )


def check_roles(manifests: ManifestSet, declaration: Declaration) -> list[Finding]:
    """Every rule of every Role and ClusterRole must be covered by the declared rules."""
    declared = declaration.capabilities.rbac_rules
    out = []
    budget = MAX_TOTAL_COMBINATIONS
    work = WorkBudget(MAX_TOTAL_WORK)
    for obj in manifests.objects:
        if obj.group != RBAC_GROUP or obj.kind not in ("Role", "ClusterRole"):
            continue
        if obj.data.get("aggregationRule"):
            out.append(
                rules.RBAC.finding(
                    f"{obj.ref} aggregates other roles (aggregationRule), whose rules are unknown here; expected "
                    "explicit rules covered by kubernetes.rules",
                    location=obj.location("aggregationRule"),
                )
            )
        items = obj.data.get("rules")
        for i, data in enumerate(items if isinstance(items, list) else []):
            rule = manifest_rule(data)
            budget -= combinations(rule)
            if combinations(rule) > MAX_COMBINATIONS or budget < 0:
                out.append(
                    rules.RBAC.finding(
                        f"{obj.ref} rule #{i + 1} grants {combinations(rule)} combinations, too many to check "
                        f"(at most {MAX_COMBINATIONS} a rule, {MAX_TOTAL_COMBINATIONS} in all); expected rules no "
                        "broader than kubernetes.rules",
                        location=obj.location("rules", i),
                    )
                )
                continue
            try:
                missing = list(islice(uncovered(rule, declared, budget=work), _SHOWN + 1))
            except TooComplexError:
                out.append(
                    rules.RBAC.finding(
                        f"{obj.ref} rule #{i + 1} is too complex to compare with kubernetes.rules in reasonable "
                        "time; expected plain rules no broader than the declared ones",
                        location=obj.location("rules", i),
                    )
                )
                continue
            if missing:
                more = ", …" if len(missing) > _SHOWN else ""
                out.append(
                    rules.RBAC.finding(
                        f"{obj.ref} rule #{i + 1} grants {', '.join(missing[:_SHOWN])}{more}, which no rule of "
                        "kubernetes.rules in plugin.yaml grants; expected only declared rights",
                        location=obj.location("rules", i),
                    )
                )
    return out


def check_bindings(manifests: ManifestSet, declaration: Declaration) -> list[Finding]:
    """Bindings: scope, the role they bind, and whom they bind it to."""
    out = []
    roles = {(o.kind, o.name) for o in manifests.objects if o.group == RBAC_GROUP and o.kind in ("Role", "ClusterRole")}
    homes = account_homes(manifests, declaration)
    for obj in manifests.objects:
        if obj.group != RBAC_GROUP or obj.kind not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        if obj.kind == "ClusterRoleBinding" and not declaration.capabilities.cluster_scope:
            out.append(
                rules.CLUSTER_BINDING.finding(
                    f"{obj.ref} binds a role cluster-wide; expected a RoleBinding, as plugin.yaml does not declare "
                    "kubernetes.clusterScope: true",
                    location=obj.location("kind"),
                )
            )
        ref = obj.data.get("roleRef")
        ref = ref if isinstance(ref, dict) else {}
        ref_kind, ref_name = str(ref.get("kind", "")), str(ref.get("name", ""))
        if ref_name in POWERFUL_ROLES or ref_name.startswith("system:"):
            out.append(
                rules.POWERFUL_ROLE.finding(
                    f"{obj.ref} binds the built-in {ref_kind} {ref_name}; expected a role of the bundle that "
                    "lists only declared rights",
                    location=obj.location("roleRef"),
                    role=ref_name,
                )
            )
        elif (ref_kind, ref_name) not in roles:
            out.append(
                rules.FOREIGN_ROLE.finding(
                    f"{obj.ref} binds {ref_kind} {ref_name!r}, which the manifests do not define; expected a role "
                    "shipped in the bundle",
                    location=obj.location("roleRef"),
                    role=ref_name,
                )
            )
        subjects = obj.data.get("subjects")
        for k, subject in enumerate(subjects if isinstance(subjects, list) else []):
            subject = subject if isinstance(subject, dict) else {}
            problem = _foreign_subject(obj, subject, homes, declaration)
            if problem is None:
                continue
            kind, name = str(subject.get("kind", "")), str(subject.get("name", ""))
            out.append(
                rules.FOREIGN_SUBJECT.finding(
                    f"{obj.ref} grants its role to {problem}",
                    location=obj.location("subjects", k),
                    subject=f"{kind}/{name}",
                )
            )
    return out


def check_pod_service_account(
    obj: ManifestObject, spec: dict[str, Any], base: JsonPath, accounts: set[str]
) -> list[Finding]:
    """A pod must run as the default account or one the bundle defines."""
    for field in ("serviceAccountName", "serviceAccount"):
        name = spec.get(field)
        if isinstance(name, str) and name and name != "default" and name not in accounts:
            return [
                rules.FOREIGN_SERVICE_ACCOUNT.finding(
                    f"{obj.ref} runs as ServiceAccount {name!r}, which the manifests do not define; expected "
                    f"one of the bundle's ({', '.join(sorted(accounts)) or 'none'})",
                    location=obj.location(*base, field),
                    account=name,
                )
            ]
    return []


def token_automounts(manifests: ManifestSet) -> dict[str, bool]:
    """``automountServiceAccountToken`` of each ServiceAccount the bundle defines, where it is set."""
    return {
        o.name: value
        for o in manifests.objects
        if o.kind == "ServiceAccount" and o.group == ""
        for value in (o.data.get("automountServiceAccountToken"),)
        if isinstance(value, bool)
    }


def check_pod_token(
    obj: ManifestObject,
    spec: dict[str, Any],
    base: JsonPath,
    declaration: Declaration,
    automounts: dict[str, bool],
) -> list[Finding]:
    """Without declared RBAC rules a pod needs no API token: it should not get one mounted (a warning).

    The pod's field wins over its ServiceAccount's, as in Kubernetes; only a ServiceAccount of the bundle
    is known here (``default`` and others mount the token unless they say otherwise).
    """
    if declaration.capabilities.rbac_rules:
        return []
    pod_value = spec.get("automountServiceAccountToken")
    if pod_value is False:
        return []
    account = next(
        (n for f in ("serviceAccountName", "serviceAccount") if isinstance(n := spec.get(f), str) and n), "default"
    )
    if pod_value is None and automounts.get(account) is False:
        return []
    if pod_value is True:
        found, location = "sets automountServiceAccountToken: true", obj.location(*base, "automountServiceAccountToken")
    else:
        found = f"does not set automountServiceAccountToken: false (nor does ServiceAccount {account!r})"
        location = obj.location(*base)
    return [
        rules.UNNEEDED_TOKEN.finding(
            f"{obj.ref} {found}, so its pods get a Kubernetes API token; expected automountServiceAccountToken: "
            "false, as plugin.yaml declares no kubernetes.rules",
            location=location,
            account=account,
        )
    ]
