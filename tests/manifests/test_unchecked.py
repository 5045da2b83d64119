"""Issue 11, item 4: nothing in the bundle goes unchecked (PG-MAN-001, 004, 064, 071..089), each tried around."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from plugingate.policy.model import (
    CapabilitiesPolicy,
    KubernetesPolicy,
    PrivilegesPolicy,
    UnknownKinds,
)

from .conftest import PLUGIN, Runner, container, deployment, good_objects, ids, plugin_with, pod_spec

WARN_UNKNOWN = CapabilitiesPolicy(kubernetes=KubernetesPolicy(unknown_kinds=UnknownKinds.WARN))
CLUSTER = {"clusterScope": True, "rules": PLUGIN["spec"]["capabilities"]["kubernetes"]["rules"]}


def others() -> list[dict[str, Any]]:
    return [o for o in good_objects() if o["kind"] != "Deployment"]


def bad_pod() -> dict[str, Any]:
    """A pod spec that shares the node's PID namespace (PG-MAN-011) and runs an undeclared image (PG-MAN-020)."""
    return pod_spec(hostPID=True, containers=[container(image="docker.io/attacker/miner:latest")])


def obj(api_version: str, kind: str, name: str = "x", **fields: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, **fields}


def with_namespace(plugin: dict[str, Any], namespace: str) -> dict[str, Any]:
    plugin = copy.deepcopy(plugin)
    plugin["spec"]["namespace"] = namespace
    return plugin


# --- pod specs found by structure -------------------------------------------------------------------------

SHAPES = {
    "argo-rollout": obj("argoproj.io/v1alpha1", "Rollout", spec={"template": {"spec": bad_pod()}}),
    "knative-service": obj("serving.knative.dev/v1", "Service", spec={"template": {"spec": bad_pod()}}),
    "jobset": obj(
        "jobset.x-k8s.io/v1alpha2",
        "JobSet",
        spec={"replicatedJobs": [{"name": "w", "template": {"spec": {"template": {"spec": bad_pod()}}}}]},
    ),
    "openkruise-cloneset": obj("apps.kruise.io/v1alpha1", "CloneSet", spec={"template": {"spec": bad_pod()}}),
    "kruise-advanced-statefulset": obj("apps.kruise.io/v1beta1", "StatefulSet", spec={"template": {"spec": bad_pod()}}),
    "cronjob-like": obj(
        "batch.example/v1", "Schedule", spec={"jobTemplate": {"spec": {"template": {"spec": bad_pod()}}}}
    ),
    "pod-spec-field": obj("ray.io/v1", "RayCluster", spec={"headGroupSpec": {"podSpec": bad_pod()}}),
    "top-level": obj("evil.example/v1", "Thing", **bad_pod()),
    "lower-case-deployment": obj("apps/v1", "deployment", spec={"template": {"spec": bad_pod()}}),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_pod_template_found_by_structure_is_checked(run: Runner, shape: str) -> None:
    findings = run([*good_objects(), SHAPES[shape]])
    assert ids(findings) == ["PG-MAN-011", "PG-MAN-020"], [f.message for f in findings]
    assert all(f.location is not None and f.location.line for f in findings)


def test_pod_template_in_metadata_is_not_a_pod(run: Runner) -> None:
    """Annotations and labels are applied to nothing: a pod-shaped map there is data (and the kind is unknown)."""
    thing = obj("evil.example/v1", "Thing")
    thing["metadata"]["annotations"] = {"x": "y"}
    thing["metadata"]["labels"] = {"containers": "none"}
    assert ids(run([*good_objects(), thing])) == ["PG-MAN-001"]


def test_kubevirt_virtual_machine_is_unchecked(run: Runner) -> None:
    vm = obj(
        "kubevirt.io/v1",
        "VirtualMachine",
        spec={
            "template": {
                "spec": {
                    "domain": {"devices": {"disks": [{"name": "root"}]}, "resources": {"requests": {"memory": "1Gi"}}},
                    "volumes": [{"name": "root", "containerDisk": {"image": "docker.io/attacker/vm:latest"}}],
                }
            }
        },
    )
    findings = run([*good_objects(), vm], policy=WARN_UNKNOWN)
    assert ids(findings) == ["PG-MAN-074", "PG-MAN-074"]  # the domain, and the disk image
    assert any("virtual machine" in f.message for f in findings)


def test_image_outside_a_pod_template_denies_even_with_unknown_kinds_lowered(run: Runner) -> None:
    task = obj("tekton.dev/v1", "Task", spec={"steps": [{"name": "s", "image": "docker.io/attacker/x:1"}]})
    findings = run([*good_objects(), task], policy=WARN_UNKNOWN)
    assert ids(findings) == ["PG-MAN-074"] and "docker.io/attacker/x:1" in findings[0].message
    # beside a pod template, a stray image is still reported
    both = obj("evil.example/v1", "Thing", spec={"template": {"spec": pod_spec()}, "helper": {"image": "x:1"}})
    assert ids(run([*good_objects(), both], policy=WARN_UNKNOWN)) == ["PG-MAN-074"]


def test_unknown_kind_denies_by_default_and_warns_when_lowered(run: Runner) -> None:
    store = obj("external-secrets.io/v1beta1", "ClusterSecretStore", spec={"provider": {}})
    assert ids(run([*good_objects(), store])) == ["PG-MAN-001"]
    findings = run([*good_objects(), store], policy=WARN_UNKNOWN)
    assert ids(findings) == [] and [f.rule_id for f in findings] == ["PG-MAN-001"]


# --- kinds spelled otherwise ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_version", "kind", "rule"),
    [
        ("admissionregistration.k8s.io/v1", "mutatingwebhookconfiguration", "PG-MAN-073"),
        ("admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicyBinding", "PG-MAN-073"),
        ("apiregistration.k8s.io/v1", "apiservice", "PG-MAN-004"),
        ("v1", "NODE", "PG-MAN-004"),
    ],
)
def test_deny_lists_ignore_case_and_version(run: Runner, api_version: str, kind: str, rule: str) -> None:
    assert ids(run([*good_objects(), obj(api_version, kind)], plugin_with(kubernetes=CLUSTER))) == [rule]


@pytest.mark.parametrize(("api_version", "kind"), [("v1", "secret"), ("v1", "serviceaccount"), ("v1", "CONFIGMAP")])
def test_known_kinds_spelled_otherwise_are_not_known(run: Runner, api_version: str, kind: str) -> None:
    """A harmless kind is harmless only as spelled: `secret` must not skip the Secret checks as a known kind."""
    odd = obj(api_version, kind, type="kubernetes.io/service-account-token")
    assert ids(run([*good_objects(), odd])) == ["PG-MAN-001"]


# --- namespaces (PG-MAN-071) --------------------------------------------------------------------------------


def configmap(namespace: str | None) -> dict[str, Any]:
    cm = obj("v1", "ConfigMap", "settings")
    if namespace is not None:
        cm["metadata"]["namespace"] = namespace
    return cm


def test_object_in_another_namespace(run: Runner) -> None:
    findings = run([*good_objects(), configmap("payments")])
    assert ids(findings) == ["PG-MAN-071"] and "'payments'" in findings[0].message
    # the plugin's own namespace, declared or not named at all, is fine
    assert ids(run([*good_objects(), configmap("demo")], with_namespace(PLUGIN, "demo"))) == []
    assert ids(run([*good_objects(), configmap(None)])) == []
    # with the namespace forced at install, naming one is naming another
    assert ids(run([*good_objects(), configmap("demo")])) == ["PG-MAN-071"]


def test_declared_other_namespace_passes_the_manifests(run: Runner) -> None:
    plugin = plugin_with(kubernetes={**CLUSTER, "clusterScope": False, "namespaces": ["monitoring"]})
    assert ids(run([*good_objects(), configmap("monitoring")], plugin)) == []


def test_cluster_scoped_object_with_a_namespace_is_not_placed_there(run: Runner) -> None:
    crd = obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "x.demo.example")
    crd["metadata"]["namespace"] = "payments"
    assert ids(run([*good_objects(), crd], plugin_with(kubernetes=CLUSTER))) == []


# --- cluster-scoped kinds (PG-MAN-072) ----------------------------------------------------------------------


def test_persistent_volume_needs_the_policy(run: Runner) -> None:
    pv = obj("v1", "PersistentVolume", spec={"hostPath": {"path": "/"}, "capacity": {"storage": "1Gi"}})
    plugin = plugin_with(kubernetes=CLUSTER, privileges={"runAsNonRoot": True, "hostPath": ["/"]})
    assert ids(run([*good_objects(), pv], plugin)) == ["PG-MAN-072"]
    listed = CapabilitiesPolicy(kubernetes=KubernetesPolicy(allowed_cluster_kinds=("persistentvolume",)))
    assert ids(run([*good_objects(), pv], plugin, listed)) == []
    # listed but not declared: still cluster scope (and a host folder) the plugin did not ask for
    assert ids(run([*good_objects(), pv], None, listed)) == ["PG-MAN-004", "PG-MAN-010"]


def test_persistent_volume_of_a_node_folder_is_a_host_path(run: Runner) -> None:
    listed = CapabilitiesPolicy(kubernetes=KubernetesPolicy(allowed_cluster_kinds=("PersistentVolume",)))
    for source in ("hostPath", "local"):
        pv = obj("v1", "PersistentVolume", spec={source: {"path": "/var/lib/kubelet"}, "capacity": {"storage": "1Gi"}})
        assert ids(run([*good_objects(), pv], plugin_with(kubernetes=CLUSTER), listed)) == ["PG-MAN-010"]
        declared = plugin_with(kubernetes=CLUSTER, privileges={"runAsNonRoot": True, "hostPath": ["/var/lib"]})
        assert ids(run([*good_objects(), pv], declared, listed)) == []
    nfs = obj("v1", "PersistentVolume", spec={"nfs": {"server": "10.0.0.5", "path": "/"}})
    assert ids(run([*good_objects(), nfs], plugin_with(kubernetes=CLUSTER), listed)) == []


def test_namespace_object_is_cluster_scoped(run: Runner) -> None:
    ns = obj("v1", "Namespace", "plugin-extra")
    assert ids(run([*good_objects(), ns], plugin_with(kubernetes=CLUSTER))) == ["PG-MAN-072"]


def test_policy_without_cluster_roles_in_the_list(run: Runner) -> None:
    role = obj("rbac.authorization.k8s.io/v1", "ClusterRole", "demo-read", rules=[])
    narrow = CapabilitiesPolicy(kubernetes=KubernetesPolicy(allowed_cluster_kinds=()))
    assert ids(run([*good_objects(), role], None, narrow)) == ["PG-MAN-072"]


# --- admission engines (PG-MAN-073) -------------------------------------------------------------------------

ENGINES = [
    ("kyverno.io/v1", "ClusterPolicy"),
    ("kyverno.io/v2", "PolicyException"),
    ("policies.kyverno.io/v1alpha1", "ValidatingPolicy"),
    ("policies.kyverno.io/v1alpha1", "ImageValidatingPolicy"),
    ("policy.sigstore.dev/v1beta1", "ClusterImagePolicy"),
    ("constraints.gatekeeper.sh/v1beta1", "K8sAllowedRepos"),
    ("templates.gatekeeper.sh/v1", "ConstraintTemplate"),
    ("mutations.gatekeeper.sh/v1", "Assign"),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
    ("policies.kubewarden.io/v1", "ClusterAdmissionPolicy"),
]


@pytest.mark.parametrize(("api_version", "kind"), ENGINES)
def test_admission_engine_objects(run: Runner, api_version: str, kind: str) -> None:
    engine = obj(api_version, kind)
    assert ids(run([*good_objects(), engine])) == ["PG-MAN-073"]
    declared = plugin_with(kubernetes={**CLUSTER, "clusterScope": False, "admissionPolicies": True})
    assert ids(run([*good_objects(), engine], declared)) == []


def test_admission_declared_needs_the_policy(run: Runner) -> None:
    declared = plugin_with(kubernetes={**CLUSTER, "clusterScope": False, "admissionPolicies": True})
    assert [f.rule_id for f in run.all(good_objects(), declared) if f.denies] == ["PG-CAP-036"]


# --- names ---------------------------------------------------------------------------------------------------


def test_token_secret_even_when_declared(run: Runner) -> None:
    secret = obj("v1", "Secret", "demo-token", type="kubernetes.io/service-account-token")
    secret["metadata"]["annotations"] = {"kubernetes.io/service-account.name": "demo"}
    assert ids(run([*good_objects(), secret])) == ["PG-MAN-076"]


def test_default_service_account(run: Runner) -> None:
    assert ids(run([*good_objects(), obj("v1", "ServiceAccount", "default")])) == ["PG-MAN-077"]


@pytest.mark.parametrize(("kind", "name"), [("ClusterRole", "view"), ("Role", "edit"), ("ClusterRole", "System:x")])
def test_role_named_like_a_built_in(run: Runner, kind: str, name: str) -> None:
    role = obj("rbac.authorization.k8s.io/v1", kind, name, rules=[])
    assert ids(run([*good_objects(), role])) == ["PG-MAN-078"]


# --- binding subjects: name and namespace -----------------------------------------------------------------


def with_binding_subject(subject: dict[str, Any], kind: str = "RoleBinding") -> list[dict[str, Any]]:
    objects = [o for o in good_objects() if o["kind"] != "RoleBinding"]
    binding = next(o for o in good_objects() if o["kind"] == "RoleBinding")
    binding["kind"] = kind
    binding["subjects"] = [subject]
    return [*objects, binding]


def test_same_name_in_another_namespace_is_not_the_plugins(run: Runner) -> None:
    other = with_binding_subject({"kind": "ServiceAccount", "name": "demo", "namespace": "payments"})
    findings = run(other)
    assert ids(findings) == ["PG-MAN-064"]
    own = with_binding_subject({"kind": "ServiceAccount", "name": "demo", "namespace": "demo"})
    assert ids(run(own, with_namespace(PLUGIN, "demo"))) == []
    assert ids(run(own)) == ["PG-MAN-064"]  # namespace forced at install: "demo" is not known to be it


def test_cluster_role_binding_subject_needs_its_namespace(run: Runner) -> None:
    plugin = with_namespace(plugin_with(kubernetes=CLUSTER), "demo")
    bare = with_binding_subject({"kind": "ServiceAccount", "name": "demo"}, "ClusterRoleBinding")
    assert ids(run(bare, plugin)) == ["PG-MAN-064"]
    named = with_binding_subject({"kind": "ServiceAccount", "name": "demo", "namespace": "demo"}, "ClusterRoleBinding")
    assert ids(run(named, plugin)) == []


# --- pod fields --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"nodeName": "cp-1"},
        {"nodeSelector": {"node-role.kubernetes.io/master": ""}},
        {"tolerations": [{"operator": "Exists"}]},
        {"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
        {
            "affinity": {
                "nodeAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 1,
                            "preference": {
                                "matchExpressions": [
                                    {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}
                                ]
                            },
                        }
                    ]
                }
            }
        },
        {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["cp-1"]}]}
                        ]
                    }
                }
            }
        },
    ],
)
def test_control_plane_targeting(run: Runner, fields: dict[str, Any]) -> None:
    assert ids(run([*others(), deployment(pod_spec(**fields))])) == ["PG-MAN-079"]


def test_ordinary_scheduling_is_fine(run: Runner) -> None:
    spec = pod_spec(
        nodeSelector={"kubernetes.io/os": "linux"},
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "plugins", "effect": "NoSchedule"}],
    )
    assert ids(run([*others(), deployment(spec)])) == []


def test_runtime_class(run: Runner) -> None:
    spec = pod_spec(runtimeClassName="runc-unconfined")
    assert ids(run([*others(), deployment(spec)])) == ["PG-MAN-080"]
    allowed = CapabilitiesPolicy(privileges=PrivilegesPolicy(allowed_runtime_classes=("runc-unconfined",)))
    assert ids(run([*others(), deployment(spec)], None, allowed)) == []


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"priorityClassName": "system-cluster-critical"}, "PG-MAN-081"),
        ({"hostAliases": [{"ip": "169.254.169.254", "hostnames": ["api.demo.example"]}]}, "PG-MAN-082"),
        ({"shareProcessNamespace": True}, "PG-MAN-083"),
    ],
)
def test_pod_fields(run: Runner, fields: dict[str, Any], rule: str) -> None:
    assert ids(run([*others(), deployment(pod_spec(**fields))])) == [rule]


@pytest.mark.parametrize(
    "fields",
    [
        {"dnsConfig": {"nameservers": ["203.0.113.53"]}},
        {"dnsPolicy": "None", "dnsConfig": {"searches": ["svc.cluster.local"]}},
    ],
)
def test_pod_dns_of_its_own(run: Runner, fields: dict[str, Any]) -> None:
    assert "PG-MAN-082" in ids(run([*others(), deployment(pod_spec(**fields))]))


def test_cluster_dns_settings_are_fine(run: Runner) -> None:
    spec = pod_spec(dnsPolicy="ClusterFirst", dnsConfig={"options": [{"name": "ndots", "value": "2"}]})
    assert ids(run([*others(), deployment(spec)])) == []


def test_claims_of_volumes_outside_the_bundle(run: Runner) -> None:
    claim = obj("v1", "PersistentVolumeClaim", "data", spec={"volumeName": "payments-db", "resources": {}})
    assert ids(run([*good_objects(), claim])) == ["PG-MAN-090"]
    copied = obj(
        "v1",
        "PersistentVolumeClaim",
        "data",
        spec={"dataSourceRef": {"kind": "PersistentVolumeClaim", "name": "db", "namespace": "payments"}},
    )
    assert ids(run([*good_objects(), copied])) == ["PG-MAN-090"]
    provisioned = obj("v1", "PersistentVolumeClaim", "data", spec={"storageClassName": "standard"})
    assert ids(run([*good_objects(), provisioned])) == []
    template = {"volumeClaimTemplate": {"spec": {"volumeName": "payments-db"}}}
    spec = pod_spec(volumes=[{"name": "tmp", "emptyDir": {}}, {"name": "e", "ephemeral": template}])
    assert ids(run([*others(), deployment(spec)])) == ["PG-MAN-090"]


def test_ordinary_priority_and_no_sharing_are_fine(run: Runner) -> None:
    spec = pod_spec(priorityClassName="plugins-high", shareProcessNamespace=False, hostAliases=[])
    assert ids(run([*others(), deployment(spec)])) == []


@pytest.mark.parametrize(
    ("name", "denied"),
    [
        ("net.ipv4.tcp_syncookies", False),
        ("net/ipv4/ip_local_port_range", False),
        ("kernel.core_pattern", True),
        ("kernel/msgmax", True),
        ("net.ipv4.ip_forward", True),
    ],
)
def test_sysctls(run: Runner, name: str, denied: bool) -> None:
    spec = pod_spec(securityContext={"sysctls": [{"name": name, "value": "1"}]})
    assert ids(run([*others(), deployment(spec)])) == (["PG-MAN-084"] if denied else [])


# --- volumes and tokens -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "volume",
    [
        {"nfs": {"server": "10.0.0.5", "path": "/"}},
        {"csi": {"driver": "hostpath.csi.k8s.io"}},
        {"gitRepo": {"repository": "https://example.com/x.git"}},
        {"iscsi": {"targetPortal": "10.0.0.5:3260", "iqn": "iqn.x", "lun": 0}},
        {"image": {"reference": "docker.io/attacker/data:1"}},
        {"someFutureType": {}},
    ],
)
def test_volume_types_not_declared(run: Runner, volume: dict[str, Any]) -> None:
    spec = pod_spec(volumes=[{"name": "tmp", "emptyDir": {}}, {"name": "extra", **volume}])
    assert ids(run([*others(), deployment(spec)])) == ["PG-MAN-075"]
    declared = plugin_with(privileges={"runAsNonRoot": True, "volumeTypes": list(volume)})
    assert ids(run([*others(), deployment(spec)], declared)) == []


def test_granted_volume_types(run: Runner) -> None:
    volumes = [
        {"name": "tmp", "emptyDir": {}},
        {"name": "c", "configMap": {"name": "x"}},
        {"name": "d", "downwardAPI": {"items": []}},
        {"name": "p", "persistentVolumeClaim": {"claimName": "x"}},
        {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
    ]
    assert ids(run([*others(), deployment(pod_spec(volumes=volumes))])) == []


def test_projected_token_audience(run: Runner) -> None:
    def spec(audience: str | None) -> dict[str, Any]:
        token: dict[str, Any] = {"path": "token"}
        if audience is not None:
            token["audience"] = audience
        volume = {"name": "t", "projected": {"sources": [{"serviceAccountToken": token}]}}
        return pod_spec(volumes=[{"name": "tmp", "emptyDir": {}}, volume])

    assert ids(run([*others(), deployment(spec("vault"))])) == ["PG-MAN-085"]
    assert ids(run([*others(), deployment(spec(None))])) == []
    allowed = CapabilitiesPolicy(kubernetes=KubernetesPolicy(allowed_token_audiences=("vault",)))
    assert ids(run([*others(), deployment(spec("vault"))], None, allowed)) == []


# --- containers: probe hosts, seccomp, capabilities, SELinux -----------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"livenessProbe": {"httpGet": {"host": "169.254.169.254", "port": 80}}},
        {"startupProbe": {"tcpSocket": {"host": "10.0.0.1", "port": 10250}}},
        {"lifecycle": {"postStart": {"httpGet": {"host": "kubernetes.default", "port": 443}}}},
    ],
)
def test_probe_and_hook_hosts(run: Runner, fields: dict[str, Any]) -> None:
    sidecar = container(name="proxy", restartPolicy="Always", ports=[], **fields)
    assert ids(run([*others(), deployment(pod_spec(initContainers=[sidecar]))])) == ["PG-MAN-086"]
    assert ids(run([*others(), deployment(pod_spec(containers=[container(**fields)]))])) == ["PG-MAN-086"]


def test_probe_without_host_is_fine(run: Runner) -> None:
    probe = {"httpGet": {"path": "/healthz", "port": 8080, "host": ""}}
    assert ids(run([*others(), deployment(pod_spec(containers=[container(readinessProbe=probe)]))])) == []


def test_seccomp_missing(run: Runner) -> None:
    no_pod_profile = {"seccompProfile": None}
    assert ids(run([*others(), deployment(pod_spec(securityContext=no_pod_profile))])) == ["PG-MAN-087"]
    # every container's own profile is as good as the pod's ...
    each = container(
        securityContext={
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
    )
    spec = pod_spec(securityContext=no_pod_profile, containers=[each])
    assert ids(run([*others(), deployment(spec)])) == []
    # ... but an init (or ephemeral) container without one runs unconfined
    spec = pod_spec(
        securityContext=no_pod_profile, containers=[each], initContainers=[container(name="init", ports=[])]
    )
    findings = run([*others(), deployment(spec)])
    assert ids(findings) == ["PG-MAN-087"] and "init" in findings[0].message


def test_capabilities_drop_all_exactly(run: Runner) -> None:
    lower = container(
        securityContext={"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["all"]}}
    )
    assert ids(run([*others(), deployment(pod_spec(containers=[lower]))])) == ["PG-MAN-088"]
    debug = {
        "name": "debug",
        "image": PLUGIN["spec"]["images"][0]["ref"],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["NET_RAW"]},
        },
    }
    assert ids(run([*others(), deployment(pod_spec(ephemeralContainers=[debug]))])) == ["PG-MAN-088"]


def test_windows_pod_is_exempt_from_linux_controls(run: Runner) -> None:
    bare = container(securityContext={"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": None})
    spec = pod_spec(os={"name": "windows"}, securityContext={"seccompProfile": None}, containers=[bare])
    assert "PG-MAN-087" not in ids(run([*others(), deployment(spec)]))
    assert "PG-MAN-088" not in ids(run([*others(), deployment(spec)]))
    linux = pod_spec(os={"name": "linux"}, securityContext={"seccompProfile": None}, containers=[bare])
    assert ids(run([*others(), deployment(linux)])) == ["PG-MAN-087", "PG-MAN-088"]


@pytest.mark.parametrize(
    ("options", "denied"),
    [
        ({"user": "system_u"}, True),
        ({"role": "system_r"}, True),
        ({"type": "unconfined_t"}, True),
        ({"type": "container_init_t"}, False),
        ({"type": "container_kvm_t", "level": "s0:c1,c2"}, False),
    ],
)
def test_selinux_options(run: Runner, options: dict[str, str], denied: bool) -> None:
    pod_level = pod_spec(securityContext={"seLinuxOptions": options})
    assert ids(run([*others(), deployment(pod_level)])) == (["PG-MAN-089"] if denied else [])
    sc = {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "seLinuxOptions": options}
    in_container = pod_spec(containers=[container(securityContext=sc)])
    assert ids(run([*others(), deployment(in_container)])) == (["PG-MAN-089"] if denied else [])
