"""Manifests: the bundle's Kubernetes objects, held against what plugin.yaml declares.

Anything an object uses that the declaration does not grant is a violation: the declaration is the
promise the policy judged, so the manifests may not reach one thing beyond it.
"""

from __future__ import annotations

from dataclasses import replace

from plugingate.declaration import Declaration
from plugingate.findings import Finding
from plugingate.manifests.confinement import check_confinement
from plugingate.manifests.inventory import bundle_volumes, check_inventory
from plugingate.manifests.kinds import pod_specs
from plugingate.manifests.loader import ManifestLimits, load_manifests
from plugingate.manifests.model import ManifestObject, ManifestSet
from plugingate.manifests.network import check_ingresses, check_network_policies, check_services
from plugingate.manifests.podsecurity import PodSecurity
from plugingate.manifests.rbac import (
    check_bindings,
    check_pod_service_account,
    check_pod_token,
    check_roles,
    service_accounts,
    token_automounts,
)
from plugingate.manifests.windows import check_windows
from plugingate.manifests.workloads import PodChecker, check_secret_uses
from plugingate.policy.model import CapabilitiesPolicy


def check_manifests(manifests: ManifestSet, declaration: Declaration, policy: CapabilitiesPolicy) -> list[Finding]:
    """Every finding of the manifests against the declaration (the policy sets only requireLimits and ceilings).

    A rendered form that was refused gives its refusals alone; findings on rendered objects are moved
    to the bundle file (base, patch or ClusterServiceVersion field) each came from.
    """
    if manifests.form_findings and not manifests.objects:
        return list(manifests.form_findings)
    findings = [*manifests.form_findings, *check_inventory(manifests, declaration, policy)]
    pods = PodChecker(declaration, policy)
    security = PodSecurity(declaration, policy, bundle_volumes(manifests))
    accounts = service_accounts(manifests)
    automounts = token_automounts(manifests)
    for obj in manifests.objects:
        for spec, base in pod_specs(obj):
            findings += pods.check(obj, spec, base)
            findings += check_confinement(obj, spec, base)
            findings += security.check(obj, spec, base)
            findings += check_windows(obj, spec, base)
            findings += check_pod_service_account(obj, spec, base, accounts)
            findings += check_pod_token(obj, spec, base, declaration, automounts)
    findings += check_secret_uses(pods.secret_uses, declaration)
    findings += check_roles(manifests, declaration)
    findings += check_bindings(manifests, declaration)
    findings += check_services(manifests, declaration)
    findings += check_ingresses(manifests, declaration)
    findings += check_network_policies(manifests, declaration)
    if manifests.origins:
        findings = _relocated(findings, manifests)
    return [_clipped(f) for f in findings]


def _relocated(findings: list[Finding], manifests: ManifestSet) -> list[Finding]:
    from plugingate.packaging.origin import RenderedObjectRef, relocate

    rendered = {
        obj.path: RenderedObjectRef(obj.document, obj.prefix, manifests.origins[obj.path])
        for obj in manifests.objects
        if obj.path in manifests.origins
    }
    return relocate(findings, rendered)


MAX_MESSAGE = 2000
MAX_PROPERTY = 500


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clipped(finding: Finding) -> Finding:
    """The finding with manifest-supplied text cut short: a 4 MiB image name must not fill every report."""
    if len(finding.message) <= MAX_MESSAGE and all(
        not isinstance(v, str) or len(v) <= MAX_PROPERTY for v in finding.properties.values()
    ):
        return finding
    properties = {k: _clip(v, MAX_PROPERTY) if isinstance(v, str) else v for k, v in finding.properties.items()}
    return replace(finding, message=_clip(finding.message, MAX_MESSAGE), properties=properties)


__all__ = [
    "ManifestLimits",
    "ManifestObject",
    "ManifestSet",
    "check_manifests",
    "load_manifests",
]
