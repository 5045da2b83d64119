"""Declared network access against the policy: egress hosts, ports and forbidden ranges; ingress."""

from __future__ import annotations

from plugingate.capabilities import rules
from plugingate.capabilities._where import CAPS, at
from plugingate.capabilities.addresses import (
    HostKind,
    in_allowed,
    is_metadata,
    is_private,
    network_of,
    parse_host,
    within,
)
from plugingate.capabilities.patterns import host_covered
from plugingate.declaration import Declaration, EgressRule
from plugingate.findings import Finding
from plugingate.policy.model import NetworkPolicy


def check_network(declaration: Declaration, policy: NetworkPolicy) -> list[Finding]:
    """Every egress host and port, and the ingress the plugin declares."""
    findings: list[Finding] = []
    caps = declaration.capabilities
    for n, rule in enumerate(caps.egress):
        where = (*CAPS, "network", "egress", n)
        if rule.service is not None:
            findings += _check_service(declaration, rule, policy, where)
            continue
        host = parse_host(rule.host)
        if host.kind is HostKind.INVALID:
            findings.append(
                rules.EGRESS_HOST_INVALID.finding(
                    f"egress host {rule.host!r} is not a DNS name, an IP address or a CIDR; expected a bare host "
                    "such as api.acme.example (no scheme, port or path)",
                    location=at(declaration, *where, "host"),
                )
            )
            continue
        if not _allowed_by_patterns(rule.host, policy.egress_allow):
            allowed = ", ".join(policy.egress_allow) or "(none)"
            findings.append(
                rules.EGRESS_HOST.finding(
                    f"egress host {rule.host!r} is not allowed; expected a host matching "
                    f"network.egressAllow: {allowed}",
                    location=at(declaration, *where, "host"),
                    host=rule.host,
                )
            )
        excused = in_allowed(host, policy.allowed_addresses)
        if is_metadata(host) and not policy.allow_metadata_addresses and not excused:
            findings.append(
                rules.EGRESS_METADATA.finding(
                    f"egress host {rule.host!r} is a cloud metadata endpoint, which hands out node credentials; "
                    "expected no egress to metadata services",
                    location=at(declaration, *where, "host"),
                    host=rule.host,
                )
            )
        elif is_private(host) and not policy.allow_private_addresses and not excused:
            findings.append(
                rules.EGRESS_PRIVATE.finding(
                    f"egress host {rule.host!r} is in a private, loopback or link-local range or is a "
                    "cluster-local name; expected a public host (or the range in network.allowedAddresses)",
                    location=at(declaration, *where, "host"),
                    host=rule.host,
                )
            )
        if policy.egress_ports:
            for m, port in enumerate(rule.ports):
                if port not in policy.egress_ports:
                    allowed_ports = ", ".join(str(p) for p in policy.egress_ports)
                    findings.append(
                        rules.EGRESS_PORT.finding(
                            f"egress to {rule.host} on port {port} is not allowed; expected one of "
                            f"network.egressPorts: {allowed_ports}",
                            location=at(declaration, *where, "ports", m),
                            host=rule.host,
                            port=port,
                        )
                    )
    for n, ingress in enumerate(caps.ingress):
        where = (*CAPS, "network", "ingress", n)
        if not policy.allow_ingress:
            findings.append(
                rules.INGRESS_NOT_ALLOWED.finding(
                    f"ingress on port {ingress.port} is declared; expected none (network.allowIngress is false)",
                    location=at(declaration, *where),
                    port=ingress.port,
                )
            )
        elif ingress.external and not policy.allow_external_services:
            findings.append(
                rules.EXTERNAL_INGRESS.finding(
                    f"ingress on port {ingress.port} is declared external (reachable from outside the cluster: "
                    "a LoadBalancer/NodePort Service, externalIPs, an Ingress or a container hostPort); expected "
                    "in-cluster ingress only (network.allowExternalServices is false)",
                    location=at(declaration, *where, "external"),
                    port=ingress.port,
                )
            )
    return findings


def _allowed_by_patterns(host_text: str, patterns: tuple[str, ...]) -> bool:
    """Whether some egressAllow pattern covers the host: addresses by CIDR, names by label globs."""
    host = parse_host(host_text)
    for pattern in patterns:
        net = network_of(pattern)
        if host.network is not None:
            if net is not None and within(host.network, net):
                return True
            continue
        if net is None and host_covered(host_text, pattern):
            return True
    return False


def _check_service(
    declaration: Declaration, rule: EgressRule, policy: NetworkPolicy, where: tuple[str | int, ...]
) -> list[Finding]:
    """An in-cluster Service: allowed by ``network.allowedServices`` (namespace exact), on the ports it lists.

    Not by egressAllow, egressPorts or the private-address rules: those are about leaving the cluster, and a
    Service is by definition a cluster-local name on a cluster address.
    """
    service = rule.service
    assert service is not None
    entries = [e for e in policy.allowed_services if e.allows(service.name, service.namespace)]
    listed = ", ".join(f"{e.namespace}/{e.name}" for e in policy.allowed_services) or "none"
    if not entries:
        # NOTE: kubernetes.default is the API server, whose use kubernetes.rules declares.
        api = (
            " (the Kubernetes API server: declare kubernetes.rules instead)"
            if str(service) == "default/kubernetes"
            else ""
        )
        return [
            rules.SERVICE_NOT_ALLOWED.finding(
                f"egress to Service {service.name!r} in namespace {service.namespace!r}{api} is not allowed; expected "
                f"a Service of network.allowedServices in the policy ({listed})",
                location=at(declaration, *where),
                service=str(service),
            )
        ]
    out = []
    for m, port in enumerate(rule.ports):
        if not any(not e.ports or port in e.ports for e in entries):
            ports = ", ".join(str(p) for e in entries for p in e.ports)
            out.append(
                rules.SERVICE_NOT_ALLOWED.finding(
                    f"egress to Service {service.name!r} in namespace {service.namespace!r} on port {port} is not "
                    f"allowed; expected one of the ports network.allowedServices lists for it ({ports})",
                    location=at(declaration, *where, "ports", m),
                    service=str(service),
                    port=port,
                )
            )
    return out
