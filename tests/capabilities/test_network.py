"""PG-CAP-001..007: declared egress and ingress against the policy's network section."""

from __future__ import annotations

from dataclasses import replace

from plugingate.capabilities import check_capabilities
from plugingate.capabilities.network import check_network
from plugingate.policy.model import CapabilitiesPolicy, NetworkPolicy

from .conftest import declaration, rule_ids

POLICY = NetworkPolicy(egress_allow=("*.acme.example", "api.github.com", "203.0.113.0/24"), egress_ports=(443,))


def egress(host: str, ports: list[int] | None = None) -> dict[str, object]:
    return {"egress": [{"host": host, "ports": ports or [443], "reason": "test"}]}


def test_allowed_host_passes() -> None:
    assert check_network(declaration({"network": egress("api.acme.example")}), POLICY) == []


def test_host_outside_patterns_denied_with_location() -> None:
    findings = check_network(declaration({"network": egress("api.evil.example")}), POLICY)
    assert rule_ids(findings) == ["PG-CAP-001"]
    finding = findings[0]
    assert finding.location is not None and finding.location.path == "plugin.yaml"
    assert finding.location.line is not None and finding.location.line > 1
    assert "api.evil.example" in finding.message and "*.acme.example" in finding.message


def test_one_label_star_does_not_match_two_labels() -> None:
    findings = check_network(declaration({"network": egress("a.b.acme.example")}), POLICY)
    assert rule_ids(findings) == ["PG-CAP-001"]


def test_ip_host_only_matches_cidr_patterns() -> None:
    assert check_network(declaration({"network": egress("203.0.113.7")}), POLICY) == []
    assert rule_ids(check_network(declaration({"network": egress("198.51.100.7")}), POLICY)) == ["PG-CAP-001"]
    # NOTE: '**' must never let an address through as if its octets were labels.
    wide = NetworkPolicy(egress_allow=("**",), egress_ports=())
    assert rule_ids(check_network(declaration({"network": egress("198.51.100.7")}), wide)) == ["PG-CAP-001"]


def test_port_not_allowed() -> None:
    findings = check_network(declaration({"network": egress("api.acme.example", [443, 8443])}), POLICY)
    assert rule_ids(findings) == ["PG-CAP-002"]
    assert "8443" in findings[0].message


def test_empty_port_list_allows_any_port() -> None:
    policy = replace(POLICY, egress_ports=())
    assert check_network(declaration({"network": egress("api.acme.example", [8443])}), policy) == []


def test_private_address_denied_even_when_patterns_match() -> None:
    policy = replace(POLICY, egress_allow=("**", "10.0.0.0/8"))
    findings = check_network(declaration({"network": egress("10.0.0.5")}), policy)
    assert rule_ids(findings) == ["PG-CAP-003"]
    assert rule_ids(check_network(declaration({"network": egress("kubernetes.default")}), policy)) == ["PG-CAP-003"]
    # NAME.NAMESPACE.svc is an in-cluster Service: judged by allowedServices, none by default
    api = check_network(declaration({"network": egress("kubernetes.default.svc")}), policy)
    assert rule_ids(api) == ["PG-CAP-008"] and "API server" in api[0].message


def test_private_allowed_by_policy() -> None:
    policy = replace(POLICY, egress_allow=("10.0.0.0/8",), allow_private_addresses=True)
    assert check_network(declaration({"network": egress("10.0.0.5")}), policy) == []
    policy = replace(POLICY, egress_allow=("10.0.0.0/8",), allowed_addresses=("10.0.0.0/24",))
    assert check_network(declaration({"network": egress("10.0.0.5")}), policy) == []


def test_metadata_denied_in_any_spelling() -> None:
    policy = replace(POLICY, egress_allow=("**", "0.0.0.0/0", "::/0"), egress_ports=())
    for host in ("169.254.169.254", "0xa9fea9fe", "metadata.google.internal", "fd00:ec2::254", "100.100.100.200"):
        findings = check_network(declaration({"network": egress(host)}), policy)
        assert rule_ids(findings) == ["PG-CAP-004"], host


def test_metadata_allowed_by_policy() -> None:
    policy = replace(
        POLICY, egress_allow=("169.254.169.254/32",), allow_metadata_addresses=True, allow_private_addresses=True
    )
    assert check_network(declaration({"network": egress("169.254.169.254")}), policy) == []


def test_invalid_host() -> None:
    findings = check_network(declaration({"network": egress("https://api.acme.example/v1")}), POLICY)
    assert rule_ids(findings) == ["PG-CAP-005"]


def test_ingress_not_allowed() -> None:
    caps = {"network": {"ingress": [{"port": 9100, "reason": "scrape"}]}}
    assert check_network(declaration(caps), POLICY) == []
    findings = check_network(declaration(caps), replace(POLICY, allow_ingress=False))
    assert rule_ids(findings) == ["PG-CAP-006"]


def test_external_ingress_not_allowed() -> None:
    caps = {"network": {"ingress": [{"port": 443, "reason": "webhook", "external": True}]}}
    assert rule_ids(check_network(declaration(caps), POLICY)) == ["PG-CAP-007"]
    assert check_network(declaration(caps), replace(POLICY, allow_external_services=True)) == []


def test_check_capabilities_gathers_sections() -> None:
    policy = CapabilitiesPolicy(network=POLICY)
    caps = {"network": egress("169.254.169.254"), "privileges": {"privileged": True}}
    assert rule_ids(check_capabilities(declaration(caps), policy)) == ["PG-CAP-001", "PG-CAP-004", "PG-CAP-040"]
