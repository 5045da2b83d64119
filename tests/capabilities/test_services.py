"""PG-CAP-008: in-cluster Services as their own kind of egress, allowed only by network.allowedServices."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from plugingate.capabilities.grant import granted_capabilities
from plugingate.capabilities.network import check_network
from plugingate.declaration.model import ServiceRef, service_of_host
from plugingate.errors import InputError
from plugingate.policy import load_policy, parse_policy
from plugingate.policy.model import AllowedService, NetworkPolicy

from .conftest import declaration, rule_ids

REPO = Path(__file__).resolve().parents[2]
POLICY = NetworkPolicy(egress_allow=("*.acme.example",), egress_ports=(443,))
MONITORING = replace(
    POLICY, allowed_services=(AllowedService(namespace="monitoring", name="prometheus", ports=(9090,)),)
)
PROM = ServiceRef(name="prometheus", namespace="monitoring")


def host(text: str, ports: list[int] | None = None) -> dict[str, Any]:
    return {"egress": [{"host": text, "ports": ports or [9090], "reason": "push metrics"}]}


def service(name: str, namespace: str, ports: list[int] | None = None) -> dict[str, Any]:
    entry = {"service": {"name": name, "namespace": namespace}, "ports": ports or [9090], "reason": "push metrics"}
    return {"egress": [entry]}


@pytest.mark.parametrize(
    "text",
    [
        "prometheus.monitoring.svc",
        "prometheus.monitoring.svc.cluster.local",
        "prometheus.monitoring.svc.",
        "prometheus.monitoring.svc.cluster.local.",
        "Prometheus.Monitoring.SVC",
        "PROMETHEUS.MONITORING.SVC.CLUSTER.LOCAL",
    ],
)
def test_host_spellings_of_a_service(text: str) -> None:
    assert service_of_host(text) == PROM
    decl = declaration({"network": host(text)})
    assert decl.capabilities.egress[0].service == PROM
    assert decl.capabilities.egress[0].host == "prometheus.monitoring.svc.cluster.local"


@pytest.mark.parametrize(
    "text",
    [
        "evil.svc.attacker.com",  # a public name that merely contains .svc
        "prometheus.monitoring.svc.attacker.com",
        "prometheus.monitoring.svc.cluster.local.attacker.com",
        "monitoring.svc",  # no Service name
        "pod-0.prometheus.monitoring.svc",  # a pod under a headless Service, not the Service
        "*.monitoring.svc",
        "prometheus.*.svc",
        "prometheus.monitoring.svc.other.domain",
        "9prometheus.monitoring.svc",  # a Service name starts with a letter
        "prometheus.monitoring..svc",
        "10.0.0.1",
        "10.96.0.10.svc",
    ],
)
def test_lookalikes_are_not_services(text: str) -> None:
    assert service_of_host(text) is None


def test_the_issue_case_is_one_clear_error_under_a_policy_that_lists_no_service() -> None:
    """Before, prometheus.monitoring.svc:9090 got three errors (host, private address, port); now one."""
    findings = check_network(declaration({"network": host("prometheus.monitoring.svc")}), POLICY)
    assert rule_ids(findings) == ["PG-CAP-008"]
    message = findings[0].message
    assert "'prometheus' in namespace 'monitoring'" in message and "network.allowedServices" in message
    assert findings[0].location is not None and findings[0].location.line is not None


def test_allowed_by_namespace_name_and_port() -> None:
    for network in (host("prometheus.monitoring.svc"), service("prometheus", "monitoring")):
        assert check_network(declaration({"network": network}), MONITORING) == []
    wrong_port = check_network(declaration({"network": service("prometheus", "monitoring", [9091])}), MONITORING)
    assert rule_ids(wrong_port) == ["PG-CAP-008"] and "port 9091" in wrong_port[0].message
    other_name = check_network(declaration({"network": service("alertmanager", "monitoring")}), MONITORING)
    assert rule_ids(other_name) == ["PG-CAP-008"]
    other_ns = check_network(declaration({"network": service("prometheus", "kube-system")}), MONITORING)
    assert rule_ids(other_ns) == ["PG-CAP-008"]


def test_any_service_of_a_namespace_and_any_port() -> None:
    policy = replace(POLICY, allowed_services=(AllowedService(namespace="monitoring"),))
    assert check_network(declaration({"network": service("alertmanager", "monitoring", [9093, 443])}), policy) == []
    assert rule_ids(check_network(declaration({"network": service("x", "monitoring2")}), policy)) == ["PG-CAP-008"]


def test_services_do_not_open_the_private_ranges_or_the_egress_patterns() -> None:
    """Allowing a Service allows that Service only: other cluster names and addresses stay private."""
    for other in ("prometheus.monitoring.pod.cluster.local", "10.96.0.10"):
        findings = check_network(declaration({"network": host(other, [443])}), MONITORING)
        assert "PG-CAP-003" in rule_ids(findings), other
    # the short in-cluster spelling is no Service form: it is a host, which egressAllow does not cover
    short = check_network(declaration({"network": host("prometheus.monitoring", [443])}), MONITORING)
    assert rule_ids(short) == ["PG-CAP-001"]
    # nor does egressAllow "**" allow a Service
    wide = replace(POLICY, egress_allow=("**",), egress_ports=())
    assert rule_ids(check_network(declaration({"network": host("prometheus.monitoring.svc")}), wide)) == ["PG-CAP-008"]


def test_the_api_server_service_points_at_kubernetes_rules() -> None:
    findings = check_network(declaration({"network": host("kubernetes.default.svc", [443])}), MONITORING)
    assert rule_ids(findings) == ["PG-CAP-008"] and "kubernetes.rules" in findings[0].message


def test_declaration_schema_takes_one_of_host_and_service() -> None:
    both = {
        "egress": [{"host": "a.example", "service": {"name": "a", "namespace": "b"}, "ports": [1], "reason": "xyz"}]
    }
    with pytest.raises(InputError):
        declaration({"network": both})
    for bad in (
        {"name": "Prometheus", "namespace": "monitoring"},
        {"name": "prometheus"},
        {"name": "a", "namespace": "b", "x": 1},
    ):
        entry = {"service": bad, "ports": [9090], "reason": "xyz"}
        with pytest.raises(InputError):
            declaration({"network": {"egress": [entry]}})


def test_granted_set_names_the_service() -> None:
    granted = granted_capabilities(declaration({"network": service("prometheus", "monitoring")}))
    egress = granted["network"]["egress"]  # type: ignore[index]
    assert egress == [
        {
            "host": "prometheus.monitoring.svc.cluster.local",
            "ports": [9090],
            "protocol": "TCP",
            "service": {"name": "prometheus", "namespace": "monitoring"},
        }
    ]


def test_policy_allowed_services_load_and_default_to_none(tmp_path: Path) -> None:
    head = b"apiVersion: plugingate.dev/v1\nkind: GatePolicy\nmetadata: {name: p}\n"
    policy = parse_policy(
        head
        + b"spec:\n  capabilities:\n    network:\n      allowedServices:\n"
        + b"        - {namespace: monitoring, name: prometheus, ports: [9090]}\n        - {namespace: logging}\n",
        source="p.yaml",
        base_dir=tmp_path,
    )
    assert policy.capabilities.network.allowed_services == (
        AllowedService(namespace="monitoring", name="prometheus", ports=(9090,)),
        AllowedService(namespace="logging", name="*", ports=()),
    )
    for bad in (b"{name: prometheus}", b"{namespace: '*'}", b"{namespace: Monitoring}", b"{namespace: m, name: 'p*'}"):
        with pytest.raises(InputError):
            parse_policy(
                head + b"spec:\n  capabilities:\n    network:\n      allowedServices: [" + bad + b"]\n",
                source="p.yaml",
                base_dir=tmp_path,
            )
    default = load_policy(REPO / "policies" / "default.yaml")
    assert default.capabilities.network.allowed_services == ()
