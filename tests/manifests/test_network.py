"""PG-MAN-050..052: Services, Ingresses and NetworkPolicies against declared ingress and egress."""

from __future__ import annotations

from typing import Any

from .conftest import Runner, good_objects, ids, plugin_with


def replace_kind(kind: str, *new: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in good_objects() if o["kind"] != kind] + list(new)


def service(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "demo"}, "spec": spec}


def netpol(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "demo"}, "spec": spec}


def test_service_port_not_declared(run: Runner) -> None:
    assert ids(run(replace_kind("Service", service(ports=[{"port": 80, "targetPort": 8080}])))) == ["PG-MAN-050"]


def test_external_services(run: Runner) -> None:
    for spec in (
        {"type": "LoadBalancer", "ports": [{"port": 8080}]},
        {"type": "NodePort", "ports": [{"port": 8080, "nodePort": 30080}]},
        {"externalIPs": ["203.0.113.10"], "ports": [{"port": 8080}]},
    ):
        assert ids(run(replace_kind("Service", service(**spec)))) == ["PG-MAN-051"], spec
    external = plugin_with(
        network={
            "egress": [{"host": "api.demo.example", "ports": [443], "reason": "push"}],
            "ingress": [{"port": 8080, "reason": "serve", "external": True}],
        }
    )
    assert ids(run(replace_kind("Service", service(type="LoadBalancer", ports=[{"port": 8080}])), external)) == []


def test_ingress_object_needs_external(run: Runner) -> None:
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "demo"},
        "spec": {
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "demo", "port": {"number": 8080}}},
                            }
                        ]
                    }
                }
            ]
        },
    }
    assert ids(run([*good_objects(), ingress])) == ["PG-MAN-051"]


def test_external_name(run: Runner) -> None:
    assert (
        ids(
            run(
                [
                    *good_objects(),
                    dict(service(type="ExternalName", externalName="api.demo.example"), metadata={"name": "up"}),
                ]
            )
        )
        == []
    )
    bad = dict(service(type="ExternalName", externalName="db.internal.corp"), metadata={"name": "up"})
    assert ids(run([*good_objects(), bad])) == ["PG-MAN-052"]


def test_network_policy_ingress_port(run: Runner) -> None:
    assert ids(run(replace_kind("NetworkPolicy", netpol(ingress=[{"ports": [{"port": 22}]}])))) == ["PG-MAN-050"]


def test_network_policy_egress(run: Runner) -> None:
    assert ids(run(replace_kind("NetworkPolicy", netpol(egress=[{}])))) == ["PG-MAN-052"]  # every port
    assert ids(run(replace_kind("NetworkPolicy", netpol(egress=[{"ports": [{"port": 5432}]}])))) == ["PG-MAN-052"]
    assert ids(run(replace_kind("NetworkPolicy", netpol(egress=[{"ports": [{"port": 400, "endPort": 500}]}])))) == [
        "PG-MAN-052"
    ]
    assert ids(run(replace_kind("NetworkPolicy", netpol(egress=[{"ports": [{"port": 1, "endPort": 65535}]}])))) == [
        "PG-MAN-052"
    ]
    assert ids(run(replace_kind("NetworkPolicy", netpol(egress=[{"ports": [{"port": 443, "endPort": 443}]}])))) == []
    # DNS and the API server ports (RBAC is declared) are fine
    ok = netpol(egress=[{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53}, {"port": 6443}]}])
    assert ids(run(replace_kind("NetworkPolicy", ok))) == []


def test_network_policy_metadata_reach(run: Runner) -> None:
    reach = netpol(egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}])
    findings = run(replace_kind("NetworkPolicy", reach))
    assert ids(findings) == ["PG-MAN-052"] and "169.254.169.254" in findings[0].message
    excepted = netpol(
        egress=[
            {
                "to": [
                    {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16", "100.64.0.0/10", "192.0.0.0/24"]}}
                ],
                "ports": [{"port": 443}],
            }
        ]
    )
    assert ids(run(replace_kind("NetworkPolicy", excepted))) == []
