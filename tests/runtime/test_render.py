"""What ``render_controls`` writes for the example plugin and for declarations that ask for more or less."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from plugingate.errors import InputError
from plugingate.policy.model import Cni
from plugingate.runtime import RenderedControls
from plugingate.runtime.render import canonical_stream

from .conftest import GOLDEN, example_data, objects_of, one

Render = Callable[..., RenderedControls]
# NOTE: PLUGINGATE_UPDATE_GOLDEN=1 rewrites the golden files from the renderer (review the diff).
UPDATE = os.environ.get("PLUGINGATE_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("cni", list(Cni))
def test_golden_files_of_the_example_plugin(render: Render, cni: Cni) -> None:
    rendered = render(cni=cni)
    golden = GOLDEN / f"acme-exporter-{cni}.yaml"
    if UPDATE:
        golden.write_bytes(rendered.stream)
    assert rendered.stream.decode() == golden.read_text(), f"run with PLUGINGATE_UPDATE_GOLDEN=1 to update {golden}"


def test_the_stream_is_canonical_and_its_digest_is_of_the_bytes(render: Render) -> None:
    import hashlib

    first, second = render(), render()
    assert first.stream == second.stream
    assert first.digest == "sha256:" + hashlib.sha256(first.stream).hexdigest()
    reread = list(yaml.safe_load_all(first.stream))
    assert reread == list(first.objects)
    assert canonical_stream(reread) == first.stream


def test_the_digest_changes_with_the_declaration(render: Render) -> None:
    data = example_data()
    data["spec"]["capabilities"]["network"]["egress"][0]["ports"] = [443, 8443]
    assert render(data).digest != render().digest


def test_namespace_is_restricted_with_pinned_version(render: Render) -> None:
    ns = one(render(), "Namespace")
    labels = ns["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.32"
    assert ns["metadata"]["name"] == "acme-exporter"


@pytest.mark.parametrize(
    ("privileges", "level"),
    [
        ({"runAsNonRoot": False}, "baseline"),
        ({"allowPrivilegeEscalation": True}, "baseline"),
        ({"capabilities": ["CHOWN"]}, "baseline"),
        ({"capabilities": ["NET_ADMIN"]}, "privileged"),
        ({"privileged": True}, "privileged"),
        ({"hostNetwork": True}, "privileged"),
        ({"hostPath": ["/var/log"]}, "privileged"),
        ({"volumeTypes": ["nfs"]}, "privileged"),
    ],
)
def test_more_privileges_lower_the_pod_security_level(render: Render, privileges: dict[str, Any], level: str) -> None:
    data = example_data()
    data["spec"]["capabilities"]["privileges"].update(privileges)
    labels = one(render(data), "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == level


def test_default_deny_and_dns_only_to_the_cluster_resolver(render: Render) -> None:
    rendered = render()
    deny = one(rendered, "NetworkPolicy", "-default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    allowed = one(rendered, "NetworkPolicy", "-allow-declared")["spec"]
    dns = [rule for rule in allowed["egress"] if {"port": 53, "protocol": "UDP"} in rule["ports"]]
    assert len(dns) == 1
    assert dns[0]["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert {"port": 53, "protocol": "TCP"} in dns[0]["ports"]
    # NOTE: no other rule opens port 53 (to any resolver elsewhere).
    assert all(p["port"] != 53 for rule in allowed["egress"] if rule is not dns[0] for p in rule["ports"])


def test_no_egress_declared_means_no_egress_at_all(render: Render) -> None:
    data = example_data()
    del data["spec"]["capabilities"]["network"]["egress"]
    del data["spec"]["capabilities"]["kubernetes"]
    allowed = one(render(data), "NetworkPolicy", "-allow-declared")["spec"]
    assert "egress" not in allowed
    assert "Egress" in allowed["policyTypes"]


def test_addresses_services_and_names(render: Render) -> None:
    data = example_data()
    data["spec"]["capabilities"]["network"]["egress"] += [
        {"host": "203.0.113.7", "ports": [8443], "reason": "a partner endpoint"},
        {"host": "198.51.100.0/24", "ports": [9000, 9001, 9002], "protocol": "UDP", "reason": "a range"},
        {"service": {"name": "prometheus", "namespace": "monitoring"}, "ports": [9090], "reason": "queries"},
    ]
    egress = one(render(data), "NetworkPolicy", "-allow-declared")["spec"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": "203.0.113.7/32"}}], "ports": [{"protocol": "TCP", "port": 8443}]} in egress
    assert {
        "to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}],
        "ports": [{"protocol": "UDP", "port": 9000, "endPort": 9002}],
    } in egress
    assert {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        "ports": [{"protocol": "TCP", "port": 9090}],
    } in egress


def test_plain_names_become_public_addresses_only(render: Render) -> None:
    egress = one(render(), "NetworkPolicy", "-allow-declared")["spec"]["egress"]
    public = [r for r in egress if r["ports"] == [{"protocol": "TCP", "port": 443}]]
    assert len(public) == 1
    v4 = public[0]["to"][0]["ipBlock"]
    assert v4["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"} <= set(v4["except"])


def test_cilium_names_are_fqdns_and_dns_is_proxied(render: Render) -> None:
    rendered = render(cni=Cni.CILIUM)
    cnp = one(rendered, "CiliumNetworkPolicy")
    rules = cnp["spec"]["egress"]
    assert {
        "toFQDNs": [{"matchName": "api-acme.example"}],
        "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
    } in rules
    assert rules[0]["toPorts"][0]["rules"] == {"dns": [{"matchPattern": "*"}]}
    assert {"toEntities": ["kube-apiserver"]} in rules
    # NOTE: no address rule for the name in the NetworkPolicy: only Cilium's toFQDNs allows it.
    egress = one(rendered, "NetworkPolicy", "-allow-declared")["spec"]["egress"]
    assert not any("ipBlock" in peer and peer["ipBlock"]["cidr"] == "0.0.0.0/0" for r in egress for peer in r["to"])


def test_wildcard_names(render: Render) -> None:
    data = example_data()
    data["spec"]["capabilities"]["network"]["egress"][0]["host"] = "*.acme.example"
    cnp = one(render(data, cni=Cni.CILIUM), "CiliumNetworkPolicy")
    assert {"matchPattern": "*.acme.example"} in [f for r in cnp["spec"]["egress"] for f in r.get("toFQDNs", [])]
    anp = one(render(data, cni=Cni.ANP), "ClusterNetworkPolicy")
    assert anp["spec"]["egress"][0]["to"] == [{"domainNames": ["*.acme.example"]}]


def test_anp_is_an_admin_tier_cluster_network_policy(render: Render) -> None:
    anp = one(render(cni=Cni.ANP), "ClusterNetworkPolicy")
    assert anp["apiVersion"] == "policy.networking.k8s.io/v1beta1"
    spec = anp["spec"]
    assert spec["tier"] == "Admin"
    assert spec["subject"] == {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "acme-exporter"}}}
    assert spec["egress"] == [
        {
            "name": "declared-0-0",
            "action": "Accept",
            "to": [{"domainNames": ["api-acme.example"]}],
            "protocols": [{"tcp": {"destinationPort": {"number": 443}}}],
        }
    ]


def test_ingress_only_as_declared(render: Render) -> None:
    data = example_data()
    data["spec"]["capabilities"]["network"]["ingress"].append({"port": 8443, "external": True, "reason": "webhook"})
    rendered = render(data)
    ingress = one(rendered, "NetworkPolicy", "-allow-declared")["spec"]["ingress"]
    assert ingress == [
        {"from": [{"namespaceSelector": {}}], "ports": [{"protocol": "TCP", "port": 9100}]},
        {"ports": [{"protocol": "TCP", "port": 8443}]},
    ]
    assert "services.loadbalancers" not in one(rendered, "ResourceQuota")["spec"]["hard"]
    assert one(render(), "ResourceQuota")["spec"]["hard"]["services.loadbalancers"] == "0"


def test_service_account_and_rbac_exactly_as_declared(render: Render) -> None:
    rendered = render()
    sa = one(rendered, "ServiceAccount")
    assert sa["automountServiceAccountToken"] is True
    role = one(rendered, "Role")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch"]}]
    binding = one(rendered, "RoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "acme-exporter", "namespace": "acme-exporter"}]
    assert not objects_of(rendered, "ClusterRole")


def test_no_rules_no_token_no_role(render: Render) -> None:
    data = example_data()
    del data["spec"]["capabilities"]["kubernetes"]
    rendered = render(data)
    assert one(rendered, "ServiceAccount")["automountServiceAccountToken"] is False
    assert not objects_of(rendered, "Role") and not objects_of(rendered, "RoleBinding")
    checks = one(rendered, "ClusterPolicy")["metadata"]["annotations"]["plugingate.dev/checks"].split(",")
    assert "no-token" in checks


def test_cluster_scope_and_non_resource_urls_go_to_a_cluster_role(render: Render) -> None:
    data = example_data()
    data["spec"]["capabilities"]["kubernetes"]["clusterScope"] = True
    data["spec"]["capabilities"]["kubernetes"]["rules"].append({"nonResourceURLs": ["/metrics"], "verbs": ["get"]})
    rendered = render(data)
    assert not objects_of(rendered, "Role")
    cluster_role = one(rendered, "ClusterRole")
    assert cluster_role["rules"] == [
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch"]},
    ]
    assert one(rendered, "ClusterRoleBinding")["roleRef"]["name"] == cluster_role["metadata"]["name"]


def test_quota_and_limit_range(render: Render) -> None:
    rendered = render()
    limits = one(rendered, "LimitRange")["spec"]["limits"][0]
    assert limits["max"] == {"cpu": "500m", "memory": "256Mi"}
    hard = one(rendered, "ResourceQuota")["spec"]["hard"]
    assert hard["limits.cpu"] == "1500m" and hard["limits.memory"] == "768Mi" and hard["pods"] == "3"


def test_the_namespace_option_and_spec_namespace(render: Render) -> None:
    assert render(namespace="plugins-acme").namespace == "plugins-acme"
    data = example_data()
    data["spec"]["namespace"] = "acme-system"
    rendered = render(data)
    assert {o["metadata"].get("namespace", "acme-system") for o in rendered.objects} == {"acme-system"}
    with pytest.raises(InputError, match="not a valid namespace"):
        render(namespace="Plugins_Acme")


def test_the_api_server_must_be_named_for_plain_network_policies(policy: Any) -> None:
    from plugingate.declaration import parse_declaration
    from plugingate.runtime import RenderOptions, render_controls

    declaration = parse_declaration(yaml.safe_dump(example_data()).encode())
    with pytest.raises(InputError, match="apiServerCIDRs"):
        render_controls(declaration, policy, RenderOptions())
    rendered = render_controls(declaration, policy, RenderOptions(cni=Cni.CILIUM))
    assert {"toEntities": ["kube-apiserver"]} in one(rendered, "CiliumNetworkPolicy")["spec"]["egress"]


def test_the_bundles_containers_fit_the_limit_range_and_quota(render: Render) -> None:
    from plugingate.units import parse_bytes, parse_millicores

    from .conftest import EXAMPLE

    rendered = render()
    maximum = one(rendered, "LimitRange")["spec"]["limits"][0]["max"]
    hard = one(rendered, "ResourceQuota")["spec"]["hard"]
    deployment = yaml.safe_load((EXAMPLE / "deploy" / "deployment.yaml").read_text())
    pods = deployment["spec"]["replicas"]
    assert pods <= int(hard["pods"])
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        limits = container["resources"]["limits"]
        assert parse_millicores(limits["cpu"]) <= parse_millicores(maximum["cpu"])
        assert parse_bytes(limits["memory"]) <= parse_bytes(maximum["memory"])
        assert parse_millicores(limits["cpu"]) * pods <= parse_millicores(hard["limits.cpu"])
        assert parse_bytes(limits["memory"]) * pods <= parse_bytes(hard["limits.memory"])
