"""PG-CAP-035, 036, 046: declared namespaces, admission objects and volume types against the policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugingate.capabilities import check_capabilities, granted_capabilities
from plugingate.capabilities.kubernetes import check_kubernetes
from plugingate.capabilities.privileges import check_privileges
from plugingate.errors import InputError
from plugingate.policy import parse_policy
from plugingate.policy.lint import lint_policy
from plugingate.policy.model import (
    CapabilitiesPolicy,
    FilesystemPolicy,
    KubernetesPolicy,
    PrivilegesPolicy,
    UnknownKinds,
)

from .conftest import declaration, rule_ids


def namespaces(*names: str) -> dict[str, object]:
    return {"kubernetes": {"namespaces": list(names)}}


def test_other_namespaces_need_the_policy() -> None:
    decl = declaration(namespaces("monitoring"))
    findings = check_kubernetes(decl, KubernetesPolicy())
    assert rule_ids(findings) == ["PG-CAP-035"] and "'monitoring'" in findings[0].message
    assert findings[0].location is not None and findings[0].location.line
    assert check_kubernetes(decl, KubernetesPolicy(allowed_namespaces=("monitoring",))) == []
    assert check_kubernetes(decl, KubernetesPolicy(allowed_namespaces=("monitor*",))) == []
    assert rule_ids(check_kubernetes(decl, KubernetesPolicy(allowed_namespaces=("Monitoring",)))) == ["PG-CAP-035"]


def test_system_namespaces_never() -> None:
    everything = KubernetesPolicy(allowed_namespaces=("*",))
    assert rule_ids(check_kubernetes(declaration(namespaces("kube-system")), everything)) == ["PG-CAP-035"]
    own = declaration(namespace="kube-system")
    assert rule_ids(check_kubernetes(own, everything)) == ["PG-CAP-035"]
    # its own namespace listed again is no other namespace
    assert check_kubernetes(declaration(namespaces("demo"), namespace="demo"), KubernetesPolicy()) == []


@pytest.mark.parametrize("bad", ["Payments", "a_b", "-x", "x" * 64])
def test_namespace_must_be_a_dns_label(bad: str) -> None:
    with pytest.raises(InputError):
        declaration(namespaces(bad))
    with pytest.raises(InputError):
        declaration(namespace=bad)


def test_admission_objects_need_the_policy() -> None:
    decl = declaration({"kubernetes": {"admissionPolicies": True}})
    assert rule_ids(check_kubernetes(decl, KubernetesPolicy())) == ["PG-CAP-036"]
    assert check_kubernetes(decl, KubernetesPolicy(allow_admission_policies=True)) == []


def test_volume_types_need_the_policy() -> None:
    decl = declaration({"privileges": {"volumeTypes": ["csi", "nfs"]}})
    findings = check_privileges(decl, PrivilegesPolicy(allowed_volume_types=("csi",)), FilesystemPolicy())
    assert rule_ids(findings) == ["PG-CAP-046"] and "nfs" in findings[0].message


def test_new_grants_are_recorded_only_when_declared() -> None:
    plain = granted_capabilities(declaration())
    assert "namespace" not in plain and "namespaces" not in plain["kubernetes"]  # type: ignore[operator]
    decl = declaration(
        {
            "kubernetes": {"namespaces": ["monitoring"], "admissionPolicies": True},
            "privileges": {"volumeTypes": ["csi"]},
        },
        namespace="demo",
    )
    granted = granted_capabilities(decl)
    assert granted["namespace"] == "demo"
    assert granted["kubernetes"]["namespaces"] == ["monitoring"]  # type: ignore[index]
    assert granted["kubernetes"]["admissionPolicies"] is True  # type: ignore[index]
    assert granted["privileges"]["volumeTypes"] == ["csi"]  # type: ignore[index]
    found = {f.rule_id for f in check_capabilities(decl, CapabilitiesPolicy())}
    assert {"PG-CAP-035", "PG-CAP-036", "PG-CAP-046"} <= found


POLICY_YAML = """\
apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: p}
spec:
  capabilities:
    kubernetes:
      allowedNamespaces: ["*"]
      allowedClusterKinds: [PersistentVolume, Namespace, CustomResourceDefinition.apiextensions.k8s.io]
      allowAdmissionPolicies: true
      unknownKinds: warn
      allowedTokenAudiences: [vault]
    privileges:
      allowedVolumeTypes: [csi]
      allowedRuntimeClasses: [gvisor]
"""


def test_policy_knobs_are_read_and_linted() -> None:
    policy = parse_policy(POLICY_YAML.encode(), source="p.yaml", base_dir=Path("."))
    kube = policy.capabilities.kubernetes
    assert kube.unknown_kinds is UnknownKinds.WARN and kube.allow_admission_policies
    assert kube.allowed_namespaces == ("*",) and kube.allowed_token_audiences == ("vault",)
    assert policy.capabilities.privileges.allowed_volume_types == ("csi",)
    assert policy.capabilities.privileges.allowed_runtime_classes == ("gvisor",)
    codes = [i.code for i in lint_policy(policy)]
    assert codes.count("PL031") == 1 and codes.count("PL032") == 2


@pytest.mark.parametrize("bad", ["unknownKinds: allow", "allowedNamespaces: monitoring", "allowAdmission: true"])
def test_policy_knobs_reject_bad_input(bad: str) -> None:
    raw = POLICY_YAML.replace("      unknownKinds: warn\n", f"      {bad}\n")
    with pytest.raises(InputError):
        parse_policy(raw.encode(), source="p.yaml", base_dir=Path("."))
