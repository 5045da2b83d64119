"""Services, Ingresses and NetworkPolicies against the declared ingress and egress."""

from __future__ import annotations

from typing import Any

from plugingate.capabilities.addresses import METADATA_ADDRESSES, network_of, parse_host, within
from plugingate.capabilities.patterns import host_covered
from plugingate.declaration import Declaration
from plugingate.declaration.model import service_of_host
from plugingate.findings import Finding
from plugingate.manifests import rules
from plugingate.manifests.model import ManifestObject, ManifestSet

DNS_PORT = 53
# NOTE: a plugin granted Kubernetes API rights must reach the API server, whose address differs per
# cluster (443 through the kubernetes Service, 6443 on the endpoints NetworkPolicy actually sees).
API_SERVER_PORTS = ((443, "TCP"), (6443, "TCP"))


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def check_services(manifests: ManifestSet, declaration: Declaration) -> list[Finding]:
    """Service ports must be declared ingress; exposure outside the cluster must be declared external."""
    caps = declaration.capabilities
    declared = {(i.port, i.protocol) for i in caps.ingress}
    external = {(i.port, i.protocol) for i in caps.ingress if i.external}
    out = []
    for obj in manifests.objects:
        if obj.group != "" or obj.kind != "Service":
            continue
        spec = _map(obj.data.get("spec"))
        kind = str(spec.get("type", "ClusterIP"))
        if kind == "ExternalName":
            out += _external_name(obj, spec, declaration)
            continue
        exposed = kind in ("LoadBalancer", "NodePort")
        if _list(spec.get("externalIPs")):
            exposed = True
        for k, port in enumerate(_list(spec.get("ports"))):
            port = _map(port)
            number, protocol = port.get("port"), str(port.get("protocol", "TCP"))
            if (number, protocol) not in declared:
                out.append(
                    rules.PORT.finding(
                        f"{obj.ref} serves port {number}/{protocol}; expected only ports declared in network.ingress",
                        location=obj.location("spec", "ports", k),
                        port=str(number),
                    )
                )
            if exposed and (number, protocol) not in external:
                how = kind if kind != "ClusterIP" else "externalIPs"
                out.append(
                    rules.EXTERNAL.finding(
                        f"{obj.ref} exposes port {number}/{protocol} outside the cluster ({how}); expected "
                        "network.ingress to declare it with external: true",
                        location=obj.location("spec", "type") if "type" in spec else obj.location("spec"),
                        port=str(number),
                    )
                )
    return out


def _external_name(obj: ManifestObject, spec: dict[str, Any], declaration: Declaration) -> list[Finding]:
    host = str(spec.get("externalName", ""))
    # NOTE: an ExternalName may spell a declared Service short (prometheus.monitoring.svc).
    service = service_of_host(host)
    if any(host_covered(host, e.host) or (service and e.service == service) for e in declaration.capabilities.egress):
        return []
    return [
        rules.EGRESS.finding(
            f"{obj.ref} is an ExternalName for {host!r}; expected a host declared in network.egress",
            location=obj.location("spec", "externalName"),
            host=host,
        )
    ]


def check_ingresses(manifests: ManifestSet, declaration: Declaration) -> list[Finding]:
    """An Ingress exposes the plugin outside the cluster: some external ingress must be declared."""
    if any(i.external for i in declaration.capabilities.ingress):
        return []
    return [
        rules.EXTERNAL.finding(
            f"{obj.ref} exposes the plugin outside the cluster; expected network.ingress to declare a port "
            "with external: true",
            location=obj.location("kind"),
        )
        for obj in manifests.objects
        if obj.kind == "Ingress" and obj.group in ("networking.k8s.io", "extensions")
    ]


def check_network_policies(manifests: ManifestSet, declaration: Declaration) -> list[Finding]:
    """NetworkPolicy ingress ports must be declared; egress must stay within the declared ports."""
    caps = declaration.capabilities
    ingress = {(i.port, i.protocol) for i in caps.ingress}
    egress = {(p, e.protocol) for e in caps.egress for p in e.ports}
    if caps.rbac_rules:
        egress.update(API_SERVER_PORTS)
    metadata_declared = [parse_host(e.host) for e in caps.egress]
    out = []
    for obj in manifests.objects:
        if obj.group != "networking.k8s.io" or obj.kind != "NetworkPolicy":
            continue
        spec = _map(obj.data.get("spec"))
        for i, rule in enumerate(_list(spec.get("ingress"))):
            for k, port in enumerate(_list(_map(rule).get("ports"))):
                port = _map(port)
                number, protocol = port.get("port"), str(port.get("protocol", "TCP"))
                if isinstance(number, int) and (number, protocol) not in ingress:
                    out.append(
                        rules.PORT.finding(
                            f"{obj.ref} admits ingress on {number}/{protocol}; expected only ports declared in "
                            "network.ingress",
                            location=obj.location("spec", "ingress", i, "ports", k),
                            port=str(number),
                        )
                    )
        for i, rule in enumerate(_list(spec.get("egress"))):
            rule = _map(rule)
            ports = _list(rule.get("ports"))
            if not ports:
                out.append(
                    rules.EGRESS.finding(
                        f"{obj.ref} egress rule #{i + 1} allows every port; expected ports declared in "
                        "network.egress (and 53 for DNS)",
                        location=obj.location("spec", "egress", i),
                    )
                )
            for k, port in enumerate(ports):
                port = _map(port)
                number, protocol = port.get("port"), str(port.get("protocol", "TCP"))
                end = port.get("endPort", number)
                if not isinstance(number, int) or not isinstance(end, int):
                    out.append(
                        rules.EGRESS.finding(
                            f"{obj.ref} egress rule #{i + 1} allows port {number!r}; expected a declared port number",
                            location=obj.location("spec", "egress", i, "ports", k),
                        )
                    )
                    continue
                # NOTE: count the allowed ports inside the range instead of walking it (up to 65,535 a port).
                allowed = {p for p, proto in egress if proto == protocol and number <= p <= end}
                if number <= DNS_PORT <= end:
                    allowed.add(DNS_PORT)
                if end < number or end - number + 1 > len(allowed):
                    shown = f"{number}-{end}" if end != number else str(number)
                    out.append(
                        rules.EGRESS.finding(
                            f"{obj.ref} egress rule #{i + 1} allows {shown}/{protocol}; expected only ports declared "
                            "in network.egress (and 53 for DNS)",
                            location=obj.location("spec", "egress", i, "ports", k),
                            port=shown,
                        )
                    )
            for k, peer in enumerate(_list(rule.get("to"))):
                block = _map(_map(peer).get("ipBlock"))
                if not block:
                    continue
                cidr = network_of(str(block.get("cidr", "")))
                excepted = [n for n in (network_of(str(e)) for e in _list(block.get("except"))) if n is not None]
                if cidr is None:
                    continue
                for meta in METADATA_ADDRESSES:
                    if not within(meta, cidr) or any(within(meta, e) for e in excepted):
                        continue
                    if any(h.network is not None and within(meta, h.network) for h in metadata_declared):
                        continue
                    out.append(
                        rules.EGRESS.finding(
                            f"{obj.ref} egress rule #{i + 1} reaches cloud metadata address {meta.network_address} "
                            f"through {block.get('cidr')}; expected it listed under except",
                            location=obj.location("spec", "egress", i, "to", k),
                        )
                    )
                    break
    return out
