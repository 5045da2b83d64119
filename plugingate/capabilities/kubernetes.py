"""Declared Kubernetes API rights (RBAC rules) against the policy."""

from __future__ import annotations

from fnmatch import fnmatchcase

from plugingate.capabilities import rules
from plugingate.capabilities._where import CAPS, at
from plugingate.capabilities.rbac import has_wildcard, reaches_secrets, resource_matches
from plugingate.declaration import Declaration
from plugingate.findings import Finding
from plugingate.policy.model import KubernetesPolicy


def check_kubernetes(declaration: Declaration, policy: KubernetesPolicy) -> list[Finding]:
    """Wildcards, cluster-wide secrets, forbidden verbs and resources, and cluster scope.

    A verb or resource reached only through a wildcard is reported by the wildcard rule when
    wildcards are denied, and by the verb/resource rules when the policy allows wildcards (the
    wildcard then still must not smuggle in ``escalate`` or ``pods/exec``).
    """
    findings: list[Finding] = []
    caps = declaration.capabilities
    if caps.cluster_scope and not policy.allow_cluster_roles:
        findings.append(
            rules.RBAC_CLUSTER_SCOPE.finding(
                "kubernetes.clusterScope is true; expected namespaced rights only (kubernetes.allowClusterRoles "
                "is false)",
                location=at(declaration, *CAPS, "kubernetes", "clusterScope"),
            )
        )
    for n, rule in enumerate(caps.rbac_rules):
        where = (*CAPS, "kubernetes", "rules", n)
        wild = has_wildcard(rule)
        if wild and not policy.allow_wildcards:
            findings.append(
                rules.RBAC_WILDCARD.finding(
                    f"rule #{n + 1} has '*' in {', '.join(wild)}; expected explicit api groups, resources and "
                    "verbs (kubernetes.allowWildcards is false)",
                    location=at(declaration, *where, wild[0]),
                )
            )
        cluster_secrets = caps.cluster_scope and not policy.allow_cluster_wide_secrets
        if cluster_secrets and reaches_secrets(rule) and not rule.resource_names:
            findings.append(
                rules.RBAC_CLUSTER_SECRETS.finding(
                    f"rule #{n + 1} reaches secrets with clusterScope: true and no resourceNames, i.e. every "
                    "secret in every namespace; expected namespaced access or named secrets",
                    location=at(declaration, *where, "resources"),
                )
            )
        explicit_verbs = [v for v in rule.verbs if v in policy.forbidden_verbs]
        implied_verbs = list(policy.forbidden_verbs) if "*" in rule.verbs and policy.allow_wildcards else []
        verbs = sorted(set(explicit_verbs + implied_verbs))
        if verbs:
            findings.append(
                rules.RBAC_FORBIDDEN_VERB.finding(
                    f"rule #{n + 1} grants {', '.join(verbs)}; expected none of kubernetes.forbiddenVerbs",
                    location=at(declaration, *where, "verbs"),
                    verbs=verbs,
                )
            )
        reached = sorted(
            {
                forbidden
                for forbidden in policy.forbidden_resources
                for granted in rule.resources
                if granted == forbidden
                or ("*" in granted and policy.allow_wildcards and resource_matches(granted, forbidden))
            }
        )
        if reached:
            findings.append(
                rules.RBAC_FORBIDDEN_RESOURCE.finding(
                    f"rule #{n + 1} reaches {', '.join(reached)}; expected none of kubernetes.forbiddenResources",
                    location=at(declaration, *where, "resources"),
                    resources=reached,
                )
            )
    findings += check_namespaces(declaration, policy)
    if caps.admission_policies and not policy.allow_admission_policies:
        findings.append(
            rules.ADMISSION_NOT_ALLOWED.finding(
                "kubernetes.admissionPolicies is true; expected no admission or policy-engine objects "
                "(kubernetes.allowAdmissionPolicies is false)",
                location=at(declaration, *CAPS, "kubernetes", "admissionPolicies"),
            )
        )
    return findings


# NOTE: kept here rather than imported from manifests, which depends on this package.
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


def check_namespaces(declaration: Declaration, policy: KubernetesPolicy) -> list[Finding]:
    """The plugin's own namespace is not a system one; every other declared one is allowed by the policy."""
    findings: list[Finding] = []
    own = declaration.namespace
    if own in SYSTEM_NAMESPACES:
        findings.append(
            rules.NAMESPACE_NOT_ALLOWED.finding(
                f"spec.namespace is the system namespace {own}; expected a namespace of the plugin's own",
                location=at(declaration, "spec", "namespace"),
                namespace=own,
            )
        )
    for n, namespace in enumerate(declaration.capabilities.namespaces):
        if namespace == own:
            continue
        if namespace in SYSTEM_NAMESPACES or not any(fnmatchcase(namespace, p) for p in policy.allowed_namespaces):
            findings.append(
                rules.NAMESPACE_NOT_ALLOWED.finding(
                    f"kubernetes.namespaces declares {namespace!r}; expected only namespaces the policy's "
                    f"kubernetes.allowedNamespaces allows ({', '.join(policy.allowed_namespaces) or 'none'}), "
                    "never a system namespace",
                    location=at(declaration, *CAPS, "kubernetes", "namespaces", n),
                    namespace=namespace,
                )
            )
    return findings
