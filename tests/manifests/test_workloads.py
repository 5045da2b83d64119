"""PG-MAN-010..031 and 040..041, 065 on pod templates, for every workload kind."""

from __future__ import annotations

from typing import Any

import pytest

from plugingate.policy.model import CapabilitiesPolicy, ResourcesPolicy

from .conftest import IMAGE, Runner, container, deployment, good_objects, ids, plugin_with, pod_spec


def wrap(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A workload of ``kind`` around a pod spec."""
    template = {"metadata": {"labels": {"app": "demo"}}, "spec": spec}
    meta = {"name": "demo"}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
    if kind == "CronJob":
        return {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta,
            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}},
        }
    group = {"Job": "batch/v1", "ReplicationController": "v1"}.get(kind, "apps/v1")
    return {"apiVersion": group, "kind": kind, "metadata": meta, "spec": {"template": template}}


KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController"]


def others() -> list[dict[str, Any]]:
    return [o for o in good_objects() if o["kind"] != "Deployment"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_checked(run: Runner, kind: str) -> None:
    assert ids(run([*others(), wrap(kind, pod_spec())])) == []
    bad = pod_spec(hostNetwork=True, containers=[container(image="evil.example/miner:latest")])
    findings = run([*others(), wrap(kind, bad)])
    assert ids(findings) == ["PG-MAN-011", "PG-MAN-020"]
    assert all(f.location and f.location.path == "deploy/all.yaml" and f.location.line for f in findings)


def test_init_and_ephemeral_containers_are_checked(run: Runner) -> None:
    spec = pod_spec(
        initContainers=[container(name="init", image="busybox")],
        ephemeralContainers=[{"name": "debug", "image": "busybox", "securityContext": {"privileged": True}}],
    )
    found = ids(run([*others(), deployment(spec)]))
    # init: image; ephemeral: image, privileged, root, escalation, capabilities not dropped (no limits checked for
    # ephemeral containers)
    assert found == ["PG-MAN-012", "PG-MAN-014", "PG-MAN-015", "PG-MAN-020", "PG-MAN-020", "PG-MAN-088"]


def test_host_path(run: Runner) -> None:
    spec = pod_spec(volumes=[{"name": "tmp", "emptyDir": {}}, {"name": "logs", "hostPath": {"path": "/var/log"}}])
    assert ids(run([*others(), deployment(spec)])) == ["PG-MAN-010"]
    declared = plugin_with(privileges={"runAsNonRoot": True, "hostPath": ["/var/log"]})
    assert ids(run([*others(), deployment(spec)], declared)) == []
    # below a declared path is fine, beside it is not
    spec["volumes"][1]["hostPath"]["path"] = "/var/log/pods"
    assert ids(run([*others(), deployment(spec)], declared)) == []
    spec["volumes"][1]["hostPath"]["path"] = "/var/log/../lib/kubelet"
    assert ids(run([*others(), deployment(spec)], declared)) == ["PG-MAN-010"]


@pytest.mark.parametrize("field", ["hostNetwork", "hostPID", "hostIPC"])
def test_host_namespaces(run: Runner, field: str) -> None:
    assert ids(run([*others(), deployment(pod_spec(**{field: True}))])) == ["PG-MAN-011"]
    declared = plugin_with(privileges={"runAsNonRoot": True, field: True})
    assert ids(run([*others(), deployment(pod_spec(**{field: True}))], declared)) == []


def test_privileged(run: Runner) -> None:
    sc = {"privileged": True, "allowPrivilegeEscalation": False, "runAsNonRoot": True}
    assert ids(run([*others(), deployment(pod_spec(containers=[container(securityContext=sc)]))])) == ["PG-MAN-012"]


def test_windows_host_process_is_privileged(run: Runner) -> None:
    spec = pod_spec(securityContext={"runAsNonRoot": True, "windowsOptions": {"hostProcess": True}})
    assert ids(run([*others(), deployment(spec)])) == ["PG-MAN-012"]


def test_added_capability(run: Runner) -> None:
    sc = {
        "allowPrivilegeEscalation": False,
        "runAsNonRoot": True,
        "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
    }
    spec = pod_spec(containers=[container(securityContext=sc)])
    findings = run([*others(), deployment(spec)])
    assert ids(findings) == ["PG-MAN-013"] and "NET_ADMIN" in findings[0].message
    declared = plugin_with(privileges={"runAsNonRoot": True, "capabilities": ["NET_ADMIN"]})
    assert ids(run([*others(), deployment(spec)], declared)) == []


@pytest.mark.parametrize(
    ("pod_sc", "container_sc", "root"),
    [
        ({}, {"runAsUser": 0}, True),
        ({"runAsNonRoot": True}, {"runAsUser": 0}, True),
        ({}, {"runAsNonRoot": False}, True),
        ({}, {}, True),  # the image decides
        ({"runAsNonRoot": True}, {}, False),
        ({"runAsUser": 1000}, {}, False),
        ({"runAsUser": 0}, {"runAsUser": 1000}, False),  # the container overrides the pod
        ({"runAsNonRoot": True}, {"runAsNonRoot": False, "runAsUser": 1000}, False),
    ],
)
def test_root(run: Runner, pod_sc: dict[str, Any], container_sc: dict[str, Any], root: bool) -> None:
    sc = {"allowPrivilegeEscalation": False, **container_sc}
    spec = pod_spec(securityContext=pod_sc, containers=[container(securityContext=sc)])
    assert ids(run([*others(), deployment(spec)])) == (["PG-MAN-014"] if root else [])
    declared = plugin_with(privileges={"runAsNonRoot": False})
    assert ids(run([*others(), deployment(spec)], declared)) == []


def test_privilege_escalation(run: Runner) -> None:
    for sc in ({"runAsNonRoot": True}, {"runAsNonRoot": True, "allowPrivilegeEscalation": True}):
        findings = run([*others(), deployment(pod_spec(containers=[container(securityContext=sc)]))])
        assert ids(findings) == ["PG-MAN-015"]
    declared = plugin_with(privileges={"runAsNonRoot": True, "allowPrivilegeEscalation": True})
    spec = pod_spec(containers=[container(securityContext={"runAsNonRoot": True})])
    assert ids(run([*others(), deployment(spec)], declared)) == []


def test_writable_mount(run: Runner) -> None:
    spec = pod_spec(
        containers=[
            container(volumeMounts=[{"name": "tmp", "mountPath": "/tmp"}, {"name": "data", "mountPath": "/data"}])
        ],
        volumes=[{"name": "tmp", "emptyDir": {}}, {"name": "data", "emptyDir": {}}],
    )
    assert ids(run([*others(), deployment(spec)])) == ["PG-MAN-016"]
    spec["containers"][0]["volumeMounts"][1]["readOnly"] = True
    assert ids(run([*others(), deployment(spec)])) == []


def test_image_must_match_exactly(run: Runner) -> None:
    tag = IMAGE.split("@")[0] + ":latest"
    assert ids(run([*others(), deployment(pod_spec(containers=[container(image=tag)]))])) == ["PG-MAN-020"]
    no_image = container()
    del no_image["image"]
    assert ids(run([*others(), deployment(pod_spec(containers=[no_image]))])) == ["PG-MAN-020"]


def test_huge_values_are_clipped_in_findings(run: Runner) -> None:
    image = "evil.example/" + "x" * 100_000
    findings = run([*others(), deployment(pod_spec(containers=[container(image=image)]))])
    assert ids(findings) == ["PG-MAN-020"]
    assert len(findings[0].message) <= 2000 and findings[0].message.endswith("…")
    assert len(str(findings[0].properties["image"])) <= 500


def test_limits_missing(run: Runner) -> None:
    spec = pod_spec(containers=[container(resources={"limits": {"cpu": "100m"}})])
    findings = run([*others(), deployment(spec)])
    assert ids(findings) == ["PG-MAN-030"] and "memory" in findings[0].message
    relaxed = CapabilitiesPolicy(resources=ResourcesPolicy(require_limits=False))
    assert ids(run([*others(), deployment(spec)], policy=relaxed)) == []


def test_limits_over_declared_or_ceiling(run: Runner) -> None:
    spec = pod_spec(containers=[container(resources={"limits": {"cpu": "1", "memory": "256Mi"}})])
    findings = run([*others(), deployment(spec)])
    assert ids(findings) == ["PG-MAN-031"] and "500m" in findings[0].message
    # not declared: the policy's ceiling applies
    plugin = plugin_with(resources={})
    spec = pod_spec(containers=[container(resources={"limits": {"cpu": "1", "memory": "4Gi"}})])
    findings = run([*others(), deployment(spec)], plugin)
    assert ids(findings) == ["PG-MAN-031"] and "maxMemory" in findings[0].message


@pytest.mark.parametrize(
    ("use", "rule"),
    [
        ({"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "db-root", "key": "password"}}}]}, "PG-MAN-040"),
        ({"envFrom": [{"secretRef": {"name": "db-root"}}]}, "PG-MAN-040"),
        ({"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "demo-token", "key": "admin"}}}]}, "PG-MAN-041"),
        ({"envFrom": [{"secretRef": {"name": "demo-token"}}]}, "PG-MAN-041"),  # every key
    ],
)
def test_env_secrets(run: Runner, use: dict[str, Any], rule: str) -> None:
    spec = pod_spec(containers=[container(**use)])
    assert ids(run([*others(), deployment(spec)])) == [rule]


@pytest.mark.parametrize(
    ("volume", "rule"),
    [
        ({"name": "s", "secret": {"secretName": "db-root"}}, "PG-MAN-040"),
        ({"name": "s", "projected": {"sources": [{"secret": {"name": "db-root"}}]}}, "PG-MAN-040"),
        # declared as env, used as a volume
        ({"name": "s", "secret": {"secretName": "demo-token", "items": [{"key": "token", "path": "t"}]}}, "PG-MAN-041"),
    ],
)
def test_volume_secrets(run: Runner, volume: dict[str, Any], rule: str) -> None:
    spec = pod_spec(volumes=[{"name": "tmp", "emptyDir": {}}, volume])
    assert ids(run([*others(), deployment(spec)])) == [rule]


def test_volume_secret_declared_as_volume(run: Runner) -> None:
    plugin = plugin_with(secrets=[{"name": "tls", "keys": ["tls.crt", "tls.key"], "as": "volume"}])
    spec = pod_spec(
        containers=[container(env=[])],
        volumes=[
            {"name": "tmp", "emptyDir": {}},
            {"name": "s", "secret": {"secretName": "tls", "items": [{"key": "tls.crt", "path": "c"}]}},
        ],
    )
    assert ids(run([*others(), deployment(spec)], plugin)) == []
    spec["volumes"][1]["secret"].pop("items")
    assert ids(run([*others(), deployment(spec)], plugin)) == ["PG-MAN-041"]


def test_image_pull_secrets_are_not_checked(run: Runner) -> None:
    spec = pod_spec(imagePullSecrets=[{"name": "registry-creds"}])
    assert ids(run([*others(), deployment(spec)])) == []


def test_container_port_and_host_port(run: Runner) -> None:
    spec = pod_spec(containers=[container(ports=[{"containerPort": 9999}])])
    assert ids(run([*others(), deployment(spec)])) == ["PG-MAN-050"]
    spec = pod_spec(containers=[container(ports=[{"containerPort": 8080, "hostPort": 8080}])])
    assert ids(run([*others(), deployment(spec)])) == ["PG-MAN-053"]
    spec = pod_spec(containers=[container(ports=[{"containerPort": 8080, "protocol": "UDP"}])])
    assert ids(run([*others(), deployment(spec)])) == ["PG-MAN-050"]


def test_foreign_service_account(run: Runner) -> None:
    assert ids(run([*others(), deployment(pod_spec(serviceAccountName="platform-admin"))])) == ["PG-MAN-065"]
    assert ids(run([*others(), deployment(pod_spec(serviceAccountName="default"))])) == []


def test_host_port_is_reported_as_a_host_port(run: Runner) -> None:
    """A hostPort has its own rule and wording, not the LoadBalancer/NodePort one; hostPort 0 is "not set"."""
    for ports in (
        [{"containerPort": 8080, "hostPort": 18080}],
        [{"containerPort": 8080, "hostPort": 8080, "protocol": "TCP"}],
        [{"containerPort": 8080}, {"containerPort": 8080, "hostPort": 8080, "protocol": "UDP"}],
    ):
        findings = [f for f in run([*others(), deployment(pod_spec(containers=[container(ports=ports)]))]) if f.denies]
        host = [f for f in findings if f.rule_id == "PG-MAN-053"]
        assert len(host) == 1, ports
        assert "hostPort" in host[0].message and "every node" in host[0].message
        assert "LoadBalancer" not in host[0].message and "NodePort" not in host[0].message
        assert not [f for f in findings if f.rule_id == "PG-MAN-051"]
    unset = [{"containerPort": 8080, "hostPort": 0}]
    assert ids(run([*others(), deployment(pod_spec(containers=[container(ports=unset)]))])) == []


def test_host_port_declared_external_passes_the_manifests(run: Runner) -> None:
    plugin = plugin_with(network={"ingress": [{"port": 8080, "external": True, "reason": "node agent"}]})
    spec = pod_spec(containers=[container(ports=[{"containerPort": 8080, "hostPort": 8080}])])
    assert "PG-MAN-053" not in ids(run([*others(), deployment(spec)], plugin))
