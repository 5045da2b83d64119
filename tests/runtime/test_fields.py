"""Every field of the declaration model is rendered into some control, or explicitly not (with why).

The first test walks the model's dataclasses; the second shows that a field added to the model
without a mapping is caught; the third changes each mapped field of the example declaration and
checks that the objects of the mapped kinds change (a mapping that renders nothing is caught too).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from plugingate.declaration import model
from plugingate.policy.model import Cni
from plugingate.runtime import RenderedControls
from plugingate.runtime.fields import FIELD_CONTROLS, NOT_RENDERED, model_fields, unmapped_fields

from .conftest import example_data

Render = Callable[..., RenderedControls]


def test_every_model_field_is_mapped_or_explained() -> None:
    assert unmapped_fields() == []
    assert not set(FIELD_CONTROLS) & set(NOT_RENDERED)
    # NOTE: no stale rows: every row names a field that exists.
    assert set(FIELD_CONTROLS) | set(NOT_RENDERED) == set(model_fields())


def test_a_new_field_without_a_mapping_is_caught() -> None:
    grown = dataclasses.make_dataclass(
        "Privileges",
        [("run_as_root_group", bool, dataclasses.field(default=False))],
        bases=(model.Privileges,),
        frozen=True,
    )
    assert unmapped_fields([grown]) == ["Privileges.run_as_root_group"]
    brand_new = dataclasses.make_dataclass("Sandbox", [("runtime_class", str)], frozen=True)
    assert unmapped_fields([brand_new]) == ["Sandbox.runtime_class"]


def _caps(data: dict[str, Any]) -> dict[str, Any]:
    caps: dict[str, Any] = data["spec"]["capabilities"]
    return caps


def _egress(data: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = _caps(data)["network"]["egress"][0]
    return rule


def _service(data: dict[str, Any]) -> None:
    _caps(data)["network"]["egress"].append(
        {"service": {"name": "prometheus", "namespace": "monitoring"}, "ports": [9090], "reason": "queries"}
    )


def _service_namespace(data: dict[str, Any]) -> dict[str, Any]:
    _service(data)
    return data


# NOTE: a change of the example's plugin.yaml for each mapped field; the baseline for the comparison
# is the example itself, or (for fields the example lacks) the example with ``base`` applied.
MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], Any], Callable[[dict[str, Any]], Any] | None]] = {
    "Declaration.name": (lambda d: d["metadata"].update(name="acme-exporter2"), None),
    "Declaration.version": (lambda d: d["metadata"].update(version="1.4.3"), None),
    "Declaration.publisher": (lambda d: d["metadata"].update(publisher="other.example"), None),
    "Declaration.source": (lambda d: d["metadata"].update(source="github.com/acme/other"), None),
    "Declaration.description": (lambda d: d["metadata"].update(description="another description"), None),
    "Declaration.namespace": (lambda d: d["spec"].update(namespace="acme-system"), None),
    "Declaration.manifests": (lambda d: d["spec"].update(manifests="deploy/other/"), None),
    "Declaration.images": (
        lambda d: d["spec"]["images"].append({"name": "side", "ref": "r.example/side@sha256:" + "1" * 64}),
        None,
    ),
    "Declaration.capabilities": (lambda d: _caps(d)["privileges"].update(privileged=True), None),
    "ImageRef.ref": (lambda d: d["spec"]["images"][0].update(ref="r.example/x@sha256:" + "2" * 64), None),
    "Capabilities.egress": (
        lambda d: _caps(d)["network"]["egress"].append({"host": "203.0.113.9", "ports": [22], "reason": "sftp"}),
        None,
    ),
    "Capabilities.ingress": (lambda d: _caps(d)["network"]["ingress"].append({"port": 8080, "reason": "health"}), None),
    "Capabilities.fs_read": (lambda d: _caps(d)["filesystem"]["read"].append("/etc/other"), None),
    "Capabilities.fs_write": (lambda d: _caps(d)["filesystem"]["write"].append("/var/cache/acme"), None),
    "Capabilities.secrets": (lambda d: _caps(d)["secrets"].append({"name": "other"}), None),
    "Capabilities.rbac_rules": (
        lambda d: _caps(d)["kubernetes"]["rules"].append(
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}
        ),
        None,
    ),
    "Capabilities.cluster_scope": (lambda d: _caps(d)["kubernetes"].update(clusterScope=True), None),
    "Capabilities.namespaces": (lambda d: _caps(d)["kubernetes"].update(namespaces=["monitoring"]), None),
    "Capabilities.admission_policies": (lambda d: _caps(d)["kubernetes"].update(admissionPolicies=True), None),
    "Capabilities.privileges": (lambda d: _caps(d)["privileges"].update(hostPID=True), None),
    "Capabilities.resources": (lambda d: _caps(d)["resources"].update(cpu="250m"), None),
    "EgressRule.host": (lambda d: _egress(d).update(host="api2-acme.example"), None),
    "EgressRule.ports": (lambda d: _egress(d).update(ports=[8443]), None),
    "EgressRule.protocol": (lambda d: _egress(d).update(protocol="UDP"), None),
    "EgressRule.service": (_service, None),
    "IngressRule.port": (lambda d: _caps(d)["network"]["ingress"][0].update(port=9101), None),
    "IngressRule.protocol": (lambda d: _caps(d)["network"]["ingress"][0].update(protocol="UDP"), None),
    "IngressRule.external": (lambda d: _caps(d)["network"]["ingress"][0].update(external=True), None),
    "SecretRef.name": (lambda d: _caps(d)["secrets"][0].update(name="acme-token-2"), None),
    "SecretRef.keys": (lambda d: _caps(d)["secrets"][0].update(keys=["token", "ca"]), None),
    "RbacRule.verbs": (lambda d: _caps(d)["kubernetes"]["rules"][0].update(verbs=["get"]), None),
    "RbacRule.api_groups": (lambda d: _caps(d)["kubernetes"]["rules"][0].update(apiGroups=["apps"]), None),
    "RbacRule.resources": (lambda d: _caps(d)["kubernetes"]["rules"][0].update(resources=["pods"]), None),
    "RbacRule.resource_names": (lambda d: _caps(d)["kubernetes"]["rules"][0].update(resourceNames=["one"]), None),
    "RbacRule.non_resource_urls": (
        lambda d: _caps(d)["kubernetes"]["rules"].append({"nonResourceURLs": ["/healthz"], "verbs": ["get"]}),
        None,
    ),
    "Privileges.run_as_non_root": (lambda d: _caps(d)["privileges"].update(runAsNonRoot=False), None),
    "Privileges.privileged": (lambda d: _caps(d)["privileges"].update(privileged=True), None),
    "Privileges.allow_privilege_escalation": (
        lambda d: _caps(d)["privileges"].update(allowPrivilegeEscalation=True),
        None,
    ),
    "Privileges.capabilities": (
        lambda d: _caps(d)["privileges"].update(capabilities=["NET_BIND_SERVICE", "CHOWN"]),
        None,
    ),
    "Privileges.host_network": (lambda d: _caps(d)["privileges"].update(hostNetwork=True), None),
    "Privileges.host_pid": (lambda d: _caps(d)["privileges"].update(hostPID=True), None),
    "Privileges.host_ipc": (lambda d: _caps(d)["privileges"].update(hostIPC=True), None),
    "Privileges.host_path": (lambda d: _caps(d)["privileges"].update(hostPath=["/var/log"]), None),
    "Privileges.volume_types": (lambda d: _caps(d)["privileges"].update(volumeTypes=["nfs"]), None),
    "Resources.cpu_millicores": (lambda d: _caps(d)["resources"].update(cpu="1"), None),
    "Resources.memory_bytes": (lambda d: _caps(d)["resources"].update(memory="512Mi"), None),
    "ServiceRef.namespace": (
        lambda d: _caps(d)["network"]["egress"][-1]["service"].update(namespace="metrics"),
        _service,
    ),
}


def test_every_mapped_field_has_a_change() -> None:
    assert set(MUTATIONS) == set(FIELD_CONTROLS)


def _by_kind(rendered: RenderedControls, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    return [o for o in rendered.objects if o["kind"] in kinds]


@pytest.mark.parametrize("field", sorted(FIELD_CONTROLS))
def test_changing_a_field_changes_its_controls(render: Render, field: str) -> None:
    change, base = MUTATIONS[field]
    before, after = example_data(), example_data()
    if base is not None:
        base(before)
        base(after)
    change(after)
    # NOTE: cilium renders every network kind it can (names as toFQDNs); anp the ClusterNetworkPolicy.
    kinds = FIELD_CONTROLS[field].kinds
    changed = False
    for cni in (Cni.PLAIN, Cni.CILIUM, Cni.ANP):
        if _by_kind(render(before, cni=cni), kinds) != _by_kind(render(after, cni=cni), kinds):
            changed = True
            break
    assert changed, f"changing {field} changed none of {kinds}"
