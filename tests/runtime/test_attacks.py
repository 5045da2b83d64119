"""Declarations that try to get out of the objects they are rendered into: refused, or rendered harmlessly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from plugingate.errors import InputError
from plugingate.policy.model import Cni
from plugingate.runtime import RenderedControls

from .conftest import example_data, one

Render = Callable[..., RenderedControls]


@pytest.mark.parametrize(
    "host",
    [
        "*",
        "*.*",
        "api.acme.example\nkind: ClusterRoleBinding",
        "api.acme.example: {x: 1}",
        "a..example",
        "api.*.example",
        "-leading.example",
        "api.acme.example/../x",
        "0.0.0.0/0\n- 10.0.0.0/8",
        "a" * 64 + ".example",
        "010.1.1.1",
        "0x7f.1",
        "2130706433",
        "kubernetes",
        "api-*.acme.example",
    ],
)
def test_hosts_that_are_not_destinations_are_refused(render: Render, host: str) -> None:
    data = example_data()
    data["spec"]["capabilities"]["network"]["egress"][0]["host"] = host
    with pytest.raises(InputError, match=r"egress\[0\]\.host"):
        render(data, cni=Cni.CILIUM)


@pytest.mark.parametrize("host", ["API-ACME.Example.", "  api-acme.example  "])
def test_other_spellings_of_a_host_render_the_same(render: Render, host: str) -> None:
    data = example_data()
    data["spec"]["capabilities"]["network"]["egress"][0]["host"] = host
    assert one(render(data, cni=Cni.CILIUM), "CiliumNetworkPolicy") == one(
        render(cni=Cni.CILIUM), "CiliumNetworkPolicy"
    )


@pytest.mark.parametrize(
    "namespace", ["Acme", "acme_exporter", "acme\nexporter", "-acme", "a" * 64, "kube-system/x", ""]
)
def test_namespaces_that_are_not_dns_labels_are_refused(render: Render, namespace: str) -> None:
    if namespace == "":
        # NOTE: an empty --namespace falls back to spec.namespace / the name, which are schema-checked labels.
        assert render(namespace=namespace).namespace == "acme-exporter"
        return
    with pytest.raises(InputError, match="namespace"):
        render(namespace=namespace)


def test_a_huge_port_list_renders_as_ranges(render: Render) -> None:
    data = example_data()
    rules = data["spec"]["capabilities"]["network"]["egress"]
    rules[0]["ports"] = list(range(1000, 1064))
    rules += [{"host": f"198.51.100.{n}", "ports": list(range(2000, 2064)), "reason": "a range"} for n in range(200)]
    rendered = render(data)
    egress = one(rendered, "NetworkPolicy", "-allow-declared")["spec"]["egress"]
    assert len(egress) == 1 + 1 + 200 + 1  # DNS, the name, 200 addresses, the API server
    assert {"protocol": "TCP", "port": 2000, "endPort": 2063} in egress[5]["ports"]
    assert len(rendered.stream) < 200_000


def test_too_many_name_rules_for_a_cluster_network_policy_are_refused(render: Render) -> None:
    data = example_data()
    data["spec"]["capabilities"]["network"]["egress"] = [
        {"host": f"h{n}.acme.example", "ports": [443], "reason": "many names"} for n in range(26)
    ]
    with pytest.raises(InputError, match="at most 25"):
        render(data, cni=Cni.ANP)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("filesystem", "write"), '/tmp"] || true || ["'),
        (("filesystem", "read"), "/etc/acme') || true || ('"),
        (("filesystem", "write"), "/tmp/../etc"),
        (("filesystem", "read"), "/etc/acme\n- /"),
        (("privileges", "hostPath"), '/var/log"]'),
    ],
)
def test_paths_that_would_change_the_cel_are_refused(render: Render, where: tuple[str, str], value: str) -> None:
    data = example_data()
    section, key = where
    data["spec"]["capabilities"][section].setdefault(key, []).append(value)
    with pytest.raises(InputError, match="path"):
        render(data)


def test_a_secret_key_that_would_change_the_cel_is_refused(render: Render) -> None:
    data = example_data()
    data["spec"]["capabilities"]["secrets"][0]["keys"] = ['token"] || true || ["']
    with pytest.raises(InputError, match="Secret key"):
        render(data)


def test_descriptions_with_yaml_in_them_stay_strings(render: Render) -> None:
    data = example_data()
    evil = "x\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: pwn}"
    data["metadata"]["description"] = evil
    data["spec"]["capabilities"]["network"]["egress"][0]["reason"] = evil
    rendered = render(data)
    documents = list(yaml.safe_load_all(rendered.stream))
    assert len(documents) == len(rendered.objects)
    assert [d["kind"] for d in documents] == [o["kind"] for o in rendered.objects]
    assert one(rendered, "Namespace")["metadata"]["annotations"]["plugingate.dev/description"] == evil
    assert "ClusterRoleBinding" not in {d["kind"] for d in documents}


def test_rendered_objects_never_hold_anchors_or_tags(render: Render) -> None:
    data: dict[str, Any] = example_data()
    stream = render(data).stream.decode()
    assert "&id" not in stream and "*id" not in stream and "!!" not in stream


def test_api_server_addresses_must_be_addresses(policy: Any) -> None:
    import dataclasses

    from .conftest import render_data

    bad = dataclasses.replace(policy, runtime=dataclasses.replace(policy.runtime, api_server_cidrs=("1:2:3/999",)))
    with pytest.raises(InputError, match=r"apiServerCIDRs.*not an address or CIDR"):
        render_data(example_data(), bad, api_server_cidrs=())
