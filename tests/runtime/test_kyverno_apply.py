"""The rendered Kyverno policies, both forms, run by the real Kyverno CLI (``kyverno apply``) against the
example plugin's own manifests placed in the rendered namespace (no violation), and against pods that
exceed its grant (each refused, by the check that names what was exceeded)."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugingate.policy.model import GatePolicy
from plugingate.runtime import RenderedControls
from tests.admission.conftest import tool

from .conftest import EXAMPLE, example_data, render_data

pytestmark = pytest.mark.integration

VERSION = "v1.19.1"
FORMS = ("ClusterPolicy", "ValidatingPolicy")


def kyverno_apply(
    policy: dict[str, Any], resources: list[dict[str, Any]], work: Path
) -> subprocess.CompletedProcess[str]:
    binary = tool("PLUGINGATE_KYVERNO", "kyverno", VERSION)
    work.mkdir(parents=True, exist_ok=True)
    (work / "home").mkdir(exist_ok=True)
    (work / "policy.yaml").write_text(yaml.safe_dump(policy))
    (work / "resources.yaml").write_text(yaml.safe_dump_all(resources))
    return subprocess.run(
        [binary, "apply", "policy.yaml", "--resource", "resources.yaml", "--policy-report=false"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=work,
        env={"HOME": str(work / "home"), "PATH": "/usr/bin:/bin", "KYVERNO_EXPERIMENTAL": "false"},
        check=False,
    )


def summary(output: str) -> dict[str, int]:
    line = next(raw for raw in output.splitlines() if raw.startswith("pass:"))
    return {k.strip(): int(v) for k, v in (part.split(":") for part in line.strip().rstrip(",").split(","))}


def policy_of(rendered: RenderedControls, kind: str) -> dict[str, Any]:
    return next(o for o in rendered.objects if o["kind"] == kind)


def bundle_manifests(namespace: str) -> list[dict[str, Any]]:
    """The example's own manifests, each placed in the rendered namespace."""
    out = []
    for path in sorted((EXAMPLE / "deploy").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                doc["metadata"]["namespace"] = namespace
                out.append(doc)
    return out


def example_pod(namespace: str, name: str = "acme-exporter") -> dict[str, Any]:
    deployment = next(d for d in bundle_manifests(namespace) if d["kind"] == "Deployment")
    template = copy.deepcopy(deployment["spec"]["template"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": template["metadata"]["labels"]},
        "spec": template["spec"],
    }


@pytest.fixture(scope="module")
def rendered(policy: GatePolicy) -> RenderedControls:
    return render_data(example_data(), policy)


@pytest.mark.parametrize("form", FORMS)
def test_the_bundles_own_manifests_violate_nothing(rendered: RenderedControls, form: str, tmp_path: Path) -> None:
    resources = [*bundle_manifests(rendered.namespace), example_pod(rendered.namespace)]
    done = kyverno_apply(policy_of(rendered, form), resources, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    counts = summary(done.stdout)
    # NOTE: the Deployment (through autogen) and the Pod were both evaluated, and passed.
    assert counts["fail"] == 0 and counts["error"] == 0 and counts["pass"] >= 2, done.stdout


def _privileged(pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = True


def _undeclared_image(pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["image"] = "registry.example.com/acme/exporter:latest"


def _other_digest(pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["image"] = "registry.example.com/acme/exporter@sha256:" + "0" * 64


def _sidecar(pod: dict[str, Any]) -> None:
    pod["spec"].setdefault("initContainers", []).append(
        {
            "name": "init",
            "image": "busybox:1.36",
            "securityContext": copy.deepcopy(pod["spec"]["containers"][0]["securityContext"]),
        }
    )


def _host_network(pod: dict[str, Any]) -> None:
    pod["spec"]["hostNetwork"] = True


def _undeclared_secret(pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["env"].append(
        {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "database-admin", "key": "password"}}}
    )


def _undeclared_key(pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["key"] = "admin-token"


def _capability(pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"].append("SYS_ADMIN")


def _writable_elsewhere(pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["volumeMounts"].append({"name": "tmp", "mountPath": "/var/lib/acme"})


def _tmp_prefix(pod: dict[str, Any]) -> None:
    # NOTE: another spelling: /tmpfoo starts with /tmp but is not under it.
    pod["spec"]["containers"][0]["volumeMounts"].append({"name": "tmp", "mountPath": "/tmpfoo"})


def _host_path(pod: dict[str, Any]) -> None:
    pod["spec"]["volumes"].append({"name": "host", "hostPath": {"path": "/etc/kubernetes"}})


def _root(pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["securityContext"]["runAsUser"] = 0


def _unconfined(pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["securityContext"]["seccompProfile"] = {"type": "Unconfined"}


def _other_account(pod: dict[str, Any]) -> None:
    pod["spec"]["serviceAccountName"] = "default"


def _escalation(pod: dict[str, Any]) -> None:
    del pod["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"]


EXCEEDING = {
    "privileged": (_privileged, "privileged was not granted"),
    "undeclared-image": (_undeclared_image, "runs only its declared images"),
    "other-digest": (_other_digest, "runs only its declared images"),
    "undeclared-init-container": (_sidecar, "runs only its declared images"),
    "host-network": (_host_network, "hostNetwork was not granted"),
    "undeclared-secret": (_undeclared_secret, "only the declared Secrets"),
    "undeclared-secret-key": (_undeclared_key, "only the declared Secrets"),
    "capability": (_capability, "only the granted capabilities"),
    "writable-elsewhere": (_writable_elsewhere, "mounted only at declared paths"),
    "path-prefix": (_tmp_prefix, "mounted only at declared paths"),
    "host-path": (_host_path, "only the granted types"),
    "root": (_root, "runs as non-root"),
    "unconfined": (_unconfined, "RuntimeDefault seccomp"),
    "other-service-account": (_other_account, "run as its ServiceAccount"),
    "privilege-escalation": (_escalation, "allowPrivilegeEscalation was not granted"),
}


@pytest.mark.parametrize("form", FORMS)
def test_pods_that_exceed_the_grant_are_refused(rendered: RenderedControls, form: str, tmp_path: Path) -> None:
    pods = []
    for case, (change, _) in EXCEEDING.items():
        pod = example_pod(rendered.namespace, name=case)
        change(pod)
        pods.append(pod)
    done = kyverno_apply(policy_of(rendered, form), pods, tmp_path)
    counts = summary(done.stdout)
    assert counts["pass"] == 0 and counts["fail"] == len(EXCEEDING), done.stdout + done.stderr
    for case, (_, message) in EXCEEDING.items():
        block = done.stdout.split(f"/Pod/{case} failed:", 1)
        assert len(block) == 2, f"{case} not refused:\n{done.stdout}"
        assert message in block[1].split("policy ", 1)[0], f"{case}: expected {message!r}:\n{block[1][:400]}"


@pytest.mark.parametrize("form", FORMS)
def test_pods_elsewhere_are_not_the_plugins(rendered: RenderedControls, form: str, tmp_path: Path) -> None:
    pod = example_pod("another-team")
    _privileged(pod)
    done = kyverno_apply(policy_of(rendered, form), [pod], tmp_path)
    assert summary(done.stdout)["fail"] == 0, done.stdout


@pytest.mark.parametrize("form", FORMS)
def test_a_deployment_that_exceeds_the_grant_is_refused(rendered: RenderedControls, form: str, tmp_path: Path) -> None:
    deployment = next(d for d in bundle_manifests(rendered.namespace) if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example.com/acme/exporter:latest"
    done = kyverno_apply(policy_of(rendered, form), [deployment], tmp_path)
    assert summary(done.stdout)["fail"] >= 1, done.stdout + done.stderr
    assert "runs only its declared images" in done.stdout


@pytest.mark.parametrize("form", FORMS)
def test_no_api_rules_no_token(policy: GatePolicy, form: str, tmp_path: Path) -> None:
    data = example_data()
    del data["spec"]["capabilities"]["kubernetes"]
    rendered = render_data(data, policy)
    pod = example_pod(rendered.namespace, name="token")
    pod["spec"]["automountServiceAccountToken"] = True
    injected = example_pod(rendered.namespace, name="injected")
    # NOTE: what the ServiceAccount admission plugin adds when the account's automount is on.
    injected["spec"]["volumes"].append(
        {"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}
    )
    done = kyverno_apply(policy_of(rendered, form), [pod, injected, example_pod(rendered.namespace)], tmp_path)
    counts = summary(done.stdout)
    assert counts["fail"] == 2 and counts["pass"] == 1, done.stdout + done.stderr
    assert done.stdout.count("mount no ServiceAccount token") == 2


@pytest.mark.parametrize("form", FORMS)
def test_the_plugins_pods_in_its_other_namespaces_are_confined(policy: GatePolicy, form: str, tmp_path: Path) -> None:
    data = example_data()
    data["spec"]["capabilities"]["kubernetes"]["namespaces"] = ["monitoring"]
    rendered = render_data(data, policy)
    labelled = example_pod("monitoring", name="labelled")
    labelled["metadata"]["labels"]["plugingate.dev/plugin"] = "acme-exporter"
    _privileged(labelled)
    unlabelled = example_pod("monitoring", name="someone-else")
    _privileged(unlabelled)
    done = kyverno_apply(policy_of(rendered, form), [labelled, unlabelled], tmp_path)
    assert summary(done.stdout)["fail"] == 1, done.stdout + done.stderr
    assert "/Pod/labelled failed" in done.stdout


def test_the_bundles_pods_meet_the_pinned_pod_security_level(rendered: RenderedControls, tmp_path: Path) -> None:
    """The rendered Namespace's PSA label, evaluated by Kyverno's podSecurity (the same library as PSA)."""
    labels = next(o for o in rendered.objects if o["kind"] == "Namespace")["metadata"]["labels"]
    level = labels["pod-security.kubernetes.io/enforce"]
    version = labels["pod-security.kubernetes.io/enforce-version"]
    psa = {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "pinned-pod-security"},
        "spec": {
            "background": True,
            "rules": [
                {
                    "name": "pod-security",
                    "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                    "validate": {"failureAction": "Enforce", "podSecurity": {"level": level, "version": version}},
                }
            ],
        },
    }
    bad = example_pod(rendered.namespace, name="root")
    _unconfined(bad)
    done = kyverno_apply(psa, [*bundle_manifests(rendered.namespace), example_pod(rendered.namespace), bad], tmp_path)
    counts = summary(done.stdout)
    # NOTE: the Deployment (autogen) and the pod pass; the unconfined pod shows the profile is really applied.
    assert counts["pass"] >= 2 and counts["fail"] == 1, done.stdout + done.stderr
    assert f'PodSecurity "{level}:{version}"' in done.stdout
