"""Network controls: default deny, then egress for exactly the declared destinations.

Plain NetworkPolicy cannot name a host: under ``cni: plain`` a declared DNS name becomes "public
addresses on the declared ports" (the private and metadata ranges excluded unless the policy allows
them), the closest a NetworkPolicy gets. ``cni: cilium`` adds a CiliumNetworkPolicy with ``toFQDNs``
and ``cni: anp`` a ClusterNetworkPolicy with ``domainNames`` that allow exactly those names.
"""

from __future__ import annotations

from typing import Any

from plugingate.declaration import EgressRule
from plugingate.errors import InputError
from plugingate.policy.model import Cni
from plugingate.runtime.objects import KUBE_DNS_LABELS, KUBE_DNS_NAMESPACE, NAMESPACE_NAME_LABEL, Target
from plugingate.runtime.safety import MAX_RULES, Destination, destination, port_ranges

# NOTE: RFC 1918, CGNAT, IETF protocol assignments, link-local (cloud metadata), and their IPv6 kin.
PRIVATE_V4 = ("10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16")
PRIVATE_V6 = ("fc00::/7",)
METADATA_V4 = ("169.254.0.0/16",)
METADATA_V6 = ("fe80::/10",)
API_SERVER_PORTS = (443, 6443)
# NOTE: ClusterNetworkPolicy caps rules, peers and protocols at 25 each (network-policy-api v0.2.0+).
_CNP_MAX = 25
_ANP_PRIORITY = 100


def _ports(ports: list[int], protocol: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for start, end in port_ranges(ports):
        entry: dict[str, Any] = {"protocol": protocol, "port": start}
        if end != start:
            entry["endPort"] = end
        out.append(entry)
    return out


def _dns_peer() -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: KUBE_DNS_NAMESPACE}},
        "podSelector": {"matchLabels": dict(KUBE_DNS_LABELS)},
    }


def _public(target: Target, version: int) -> dict[str, Any]:
    excluded: list[str] = []
    if not target.allow_private_addresses:
        excluded += PRIVATE_V4 if version == 4 else PRIVATE_V6
    if not target.allow_metadata_addresses:
        excluded += METADATA_V4 if version == 4 else METADATA_V6
    block: dict[str, Any] = {"cidr": "0.0.0.0/0" if version == 4 else "::/0"}
    if excluded:
        block["except"] = sorted(excluded)
    return {"ipBlock": block}


def destinations(target: Target) -> list[tuple[EgressRule, Destination | None]]:
    """Every declared egress rule with its destination (None for an in-cluster Service)."""
    declaration = target.declaration
    rules = declaration.capabilities.egress
    if len(rules) > MAX_RULES:
        raise InputError(f"{len(rules)} egress rules: at most {MAX_RULES} can be rendered", path=declaration.path)
    return [
        (rule, None if rule.service else destination(rule.host, doc=declaration.document, index=n))
        for n, rule in enumerate(rules)
    ]


def render_network(target: Target) -> list[dict[str, Any]]:
    """The NetworkPolicies, plus the CNI's own object for host names when the policy chose one."""
    objects = [_default_deny(target), _allowed(target)]
    names = [(rule, dest) for rule, dest in destinations(target) if dest is not None and dest.name]
    if target.cni is Cni.CILIUM and (names or target.uses_kubernetes_api):
        objects.append(_cilium(target, names))
    elif target.cni is Cni.ANP and names:
        objects.append(_cluster_network_policy(target, names))
    return objects


def _default_deny(target: Target) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": target.metadata(f"{target.name}-default-deny"),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def _allowed(target: Target) -> dict[str, Any]:
    """What the plugin's pods may reach and be reached from, as one NetworkPolicy."""
    caps = target.declaration.capabilities
    egress: list[dict[str, Any]] = []
    if caps.egress:
        # NOTE: DNS to the cluster resolver only; names are then allowed by the CNI's own object.
        egress.append({"to": [_dns_peer()], "ports": _ports([53], "UDP") + _ports([53], "TCP")})
    for rule, dest in destinations(target):
        ports = _ports(list(rule.ports), rule.protocol)
        if rule.service is not None:
            peer = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: rule.service.namespace}}}
            egress.append({"to": [peer], "ports": ports})
        elif dest is not None and dest.cidr is not None:
            egress.append({"to": [{"ipBlock": {"cidr": dest.cidr}}], "ports": ports})
        elif target.cni is Cni.PLAIN:
            egress.append({"to": [_public(target, 4), _public(target, 6)], "ports": ports})
    if target.uses_kubernetes_api and target.cni is not Cni.CILIUM:
        if not target.api_server_cidrs:
            raise InputError(
                "the declaration uses the Kubernetes API (capabilities.kubernetes.rules), and a NetworkPolicy "
                "can reach the API server only by its addresses",
                field="spec.runtime.apiServerCIDRs",
                hint="set the policy's runtime.apiServerCIDRs (or --api-server-cidr) to the API server's "
                "endpoint addresses (`kubectl get endpoints kubernetes -n default`), or render for cni: cilium",
            )
        peers = [{"ipBlock": {"cidr": cidr}} for cidr in target.api_server_cidrs]
        egress.append({"to": peers, "ports": _ports(list(API_SERVER_PORTS), "TCP")})
    ingress = [
        {"ports": _ports([rule.port], rule.protocol)}
        if rule.external
        else {"from": [{"namespaceSelector": {}}], "ports": _ports([rule.port], rule.protocol)}
        for rule in caps.ingress
    ]
    spec: dict[str, Any] = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": target.metadata(f"{target.name}-allow-declared"),
        "spec": spec,
    }


def _cilium(target: Target, names: list[tuple[EgressRule, Destination]]) -> dict[str, Any]:
    """``toFQDNs`` for the declared names; Cilium learns their addresses from the DNS answers it proxies."""
    egress: list[dict[str, Any]] = [
        {
            "toEndpoints": [
                {
                    "matchLabels": {
                        "k8s:io.kubernetes.pod.namespace": KUBE_DNS_NAMESPACE,
                        **{f"k8s:{k}": v for k, v in KUBE_DNS_LABELS.items()},
                    }
                }
            ],
            "toPorts": [
                {
                    "ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}],
                    # NOTE: DNS visibility is what lets toFQDNs work; the names asked are still only resolved.
                    "rules": {"dns": [{"matchPattern": "*"}]},
                }
            ],
        }
    ]
    for rule, dest in names:
        assert dest.name is not None
        match = {"matchPattern": dest.name} if dest.wildcard else {"matchName": dest.name}
        ports = []
        for start, end in port_ranges(list(rule.ports)):
            port: dict[str, Any] = {"port": str(start), "protocol": rule.protocol}
            if end != start:
                port["endPort"] = end
            ports.append(port)
        egress.append({"toFQDNs": [match], "toPorts": [{"ports": ports}]})
    if target.uses_kubernetes_api:
        egress.append({"toEntities": ["kube-apiserver"]})
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": target.metadata(f"{target.name}-egress-names"),
        "spec": {"endpointSelector": {}, "egress": egress},
    }


def _cluster_network_policy(target: Target, names: list[tuple[EgressRule, Destination]]) -> dict[str, Any]:
    """An Admin-tier ClusterNetworkPolicy accepting the declared names (its Accept overrides the default deny)."""
    rules: list[dict[str, Any]] = []
    for n, (rule, dest) in enumerate(names):
        assert dest.name is not None
        key = "tcp" if rule.protocol == "TCP" else "udp"
        protocols: list[dict[str, Any]] = []
        for start, end in port_ranges(list(rule.ports)):
            port: dict[str, Any] = {"number": start} if start == end else {"range": {"start": start, "end": end}}
            protocols.append({key: {"destinationPort": port}})
        for chunk in range(0, len(protocols), _CNP_MAX):
            rules.append(
                {
                    "name": f"declared-{n}-{chunk // _CNP_MAX}",
                    "action": "Accept",
                    "to": [{"domainNames": [dest.name]}],
                    "protocols": protocols[chunk : chunk + _CNP_MAX],
                }
            )
    if len(rules) > _CNP_MAX:
        raise InputError(
            f"{len(rules)} domain-name rules: a ClusterNetworkPolicy holds at most {_CNP_MAX}",
            path=target.declaration.path,
            field="spec.capabilities.network.egress",
            hint="declare fewer host names or port ranges, or render for cni: cilium",
        )
    return {
        "apiVersion": "policy.networking.k8s.io/v1beta1",
        "kind": "ClusterNetworkPolicy",
        "metadata": target.metadata(target.cluster_name, namespaced=False),
        "spec": {
            "tier": "Admin",
            "priority": _ANP_PRIORITY,
            "subject": {"namespaces": {"matchLabels": {NAMESPACE_NAME_LABEL: target.namespace}}},
            "egress": rules,
        },
    }
