"""Every rendered object is valid: built-in kinds against the Kubernetes OpenAPI schemas (PyPI
``kubernetes-validate``, strict, at the Kubernetes version the PSA labels pin), the other kinds
against their CRDs' ``openAPIV3Schema`` (Cilium and ClusterNetworkPolicy from testdata/runtime/crds,
Kyverno from the Go module cache as tests/admission reads them), closed to unknown fields.

The CRDs' CEL rules (``x-kubernetes-validations``) are not evaluated here: the API server would; the
Kyverno CLI test covers what the Kyverno policies mean.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from plugingate.policy.model import Cni, GatePolicy
from plugingate.runtime import RenderedControls
from plugingate.runtime.namespace import KUBERNETES_VERSION
from tests.admission.test_crd_schemas import CRDS

from .conftest import GOLDEN, example_data, render_data

CRD_FILES: dict[str, Path] = {
    "CiliumNetworkPolicy": GOLDEN / "crds" / "ciliumnetworkpolicies.yaml",
    "ClusterNetworkPolicy": GOLDEN / "crds" / "policy.networking.k8s.io_clusternetworkpolicies.yaml",
    "ClusterPolicy": CRDS["ClusterPolicy"],
    "ValidatingPolicy": CRDS["ImageValidatingPolicy"].parent / "policies.kyverno.io_validatingpolicies.yaml",
}


@functools.cache
def crd_schema(kind: str, api_version: str) -> dict[str, Any]:
    path = CRD_FILES[kind]
    if not path.exists():
        pytest.skip(f"{path} not in the Go module cache: run scripts/setup-admission-tools")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for doc in yaml.load_all(path.read_text(), Loader=loader):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        for version in doc["spec"]["versions"]:
            if f"{doc['spec']['group']}/{version['name']}" == api_version:
                schema: dict[str, Any] = _python_patterns(_closed(version["schema"]["openAPIV3Schema"]))
                # NOTE: metadata is ObjectMeta, checked by the API server, not in the CRD.
                schema["properties"]["metadata"] = {"type": "object"}
                return schema
    raise AssertionError(f"{api_version} {kind} not found in {path}")


def _closed(schema: Any, *, in_combinator: bool = False) -> Any:
    """Close every object schema that lists its properties (the API server prunes unknown fields: we
    refuse them), except the branches of anyOf/oneOf/allOf/not, which only say which keys must be set."""
    if isinstance(schema, dict):
        out = {k: _closed(v, in_combinator=k in ("anyOf", "oneOf", "allOf", "not")) for k, v in schema.items()}
        if (
            "properties" in out
            and not in_combinator
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_closed(v, in_combinator=in_combinator) for v in schema]
    return schema


def _python_patterns(schema: Any) -> Any:
    """Go's ``\\PC`` (not a control character), which Python's re lacks, as the character class it means."""
    if isinstance(schema, dict):
        out = {k: _python_patterns(v) for k, v in schema.items()}
        if isinstance(out.get("pattern"), str):
            out["pattern"] = out["pattern"].replace("\\PC", "[^\\x00-\\x1f\\x7f-\\x9f]")
        return out
    if isinstance(schema, list):
        return [_python_patterns(v) for v in schema]
    return schema


def validate(obj: dict[str, Any]) -> None:
    """Raise when ``obj`` is not valid for its kind."""
    if obj["kind"] in CRD_FILES:
        jsonschema.validate(obj, crd_schema(obj["kind"], obj["apiVersion"]))
    else:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION.removeprefix("v") + ".0", strict=True)


def maximal() -> dict[str, Any]:
    """A declaration that asks for a bit of everything the renderer renders differently."""
    data = example_data()
    caps = data["spec"]["capabilities"]
    caps["network"]["egress"] += [
        {"host": "*.acme.example", "ports": [443, 8443, 8444, 8445], "reason": "regional endpoints"},
        {"host": "203.0.113.7", "ports": [8443], "protocol": "UDP", "reason": "a partner endpoint"},
        {"host": "2001:db8::/64", "ports": [443], "reason": "IPv6 partner"},
        {"service": {"name": "prometheus", "namespace": "monitoring"}, "ports": [9090], "reason": "queries"},
    ]
    caps["network"]["ingress"].append({"port": 8443, "external": True, "reason": "webhook"})
    caps["kubernetes"]["clusterScope"] = True
    caps["kubernetes"]["namespaces"] = ["monitoring"]
    caps["kubernetes"]["rules"].append({"nonResourceURLs": ["/metrics"], "verbs": ["get"]})
    caps["privileges"].update({"hostPath": ["/var/log"], "volumeTypes": ["nfs"], "hostNetwork": True})
    return data


CASES = [(name, cni) for name in ("example", "maximal") for cni in Cni]


@pytest.mark.parametrize(("case", "cni"), CASES)
def test_every_rendered_object_is_valid(policy: GatePolicy, case: str, cni: Cni) -> None:
    rendered: RenderedControls = render_data(example_data() if case == "example" else maximal(), policy, cni=cni)
    kinds = {o["kind"] for o in rendered.objects}
    assert {"Namespace", "NetworkPolicy", "ServiceAccount", "ClusterPolicy", "ValidatingPolicy"} <= kinds
    for obj in rendered.objects:
        validate(obj)


@pytest.mark.parametrize(
    "broken",
    [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}, "spec": {"bogus": 1}},
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "x"},
            "spec": {"egress": [{"to": [{"fqdn": "a"}]}]},
        },
        {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "x"},
            "spec": {"egress": [{"toFQDN": []}]},
        },
        {
            "apiVersion": "policy.networking.k8s.io/v1beta1",
            "kind": "ClusterNetworkPolicy",
            "metadata": {"name": "x"},
            "spec": {"tier": "Admin", "priority": 1, "subject": {}, "egress": [{"action": "Allow", "to": []}]},
        },
        {
            "apiVersion": "policies.kyverno.io/v1",
            "kind": "ValidatingPolicy",
            "metadata": {"name": "x"},
            "spec": {"validation": []},
        },
    ],
)
def test_the_validation_refuses_a_broken_object(broken: dict[str, Any]) -> None:
    with pytest.raises((jsonschema.ValidationError, kubernetes_validate.ValidationError)):
        validate(broken)
