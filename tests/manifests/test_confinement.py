"""PG-MAN-066..069: seccomp, AppArmor, procMount and SELinux confinement, pod and container level."""

from __future__ import annotations

from typing import Any

import pytest

from plugingate.findings import Finding

from .conftest import Runner, container, deployment, good_objects, ids, plugin_with, pod_spec
from .test_workloads import KINDS, wrap

SAFE_SC = {"allowPrivilegeEscalation": False, "runAsNonRoot": True}
# NOTE: a declaration that grants everything it can: none of it grants these rules away.
EVERYTHING = plugin_with(
    privileges={
        "runAsNonRoot": False,
        "privileged": True,
        "allowPrivilegeEscalation": True,
        "capabilities": ["SYS_ADMIN"],
        "hostNetwork": True,
        "hostPID": True,
        "hostIPC": True,
    }
)


def others() -> list[dict[str, Any]]:
    return [o for o in good_objects() if o["kind"] != "Deployment"]


def with_container_sc(**extra: Any) -> dict[str, Any]:
    return pod_spec(containers=[container(securityContext={**SAFE_SC, **extra})])


def annotated(spec: dict[str, Any], annotations: dict[str, str]) -> dict[str, Any]:
    obj = deployment(spec)
    obj["spec"]["template"]["metadata"] = {"annotations": annotations}
    return obj


def line_of(findings: list[Finding], rule: str) -> int | None:
    found = [f for f in findings if f.rule_id == rule]
    assert len(found) == 1 and found[0].location is not None and found[0].location.path == "deploy/all.yaml"
    return found[0].location.line


def field_line(run: Runner, text: str) -> int:
    """The 1-based line of the first line of deploy/all.yaml holding ``text``."""
    lines = (run.root / "deploy" / "all.yaml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


# --- PG-MAN-066 seccomp ---------------------------------------------------------------------------------


def test_seccomp_unconfined_container(run: Runner) -> None:
    findings = run([*others(), deployment(with_container_sc(seccompProfile={"type": "Unconfined"}))])
    assert ids(findings) == ["PG-MAN-066"]
    message = findings[0].message
    assert "container app" in message and "Unconfined" in message and "expected RuntimeDefault" in message
    # the line of seccompProfile.type ("type: Unconfined" is the only such line)
    assert line_of(findings, "PG-MAN-066") == field_line(run, "type: Unconfined")


def test_seccomp_unconfined_pod(run: Runner) -> None:
    spec = pod_spec(securityContext={"seccompProfile": {"type": "Unconfined"}})
    findings = run([*others(), deployment(spec)])
    assert ids(findings) == ["PG-MAN-066"] and "Deployment/demo pod sets" in findings[0].message
    assert line_of(findings, "PG-MAN-066") == field_line(run, "type: Unconfined")


def test_seccomp_unconfined_pod_is_reported_even_when_containers_override(run: Runner) -> None:
    spec = with_container_sc(seccompProfile={"type": "RuntimeDefault"})
    spec["securityContext"] = {"seccompProfile": {"type": "Unconfined"}}
    assert ids(run([*others(), deployment(spec)])) == ["PG-MAN-066"]


@pytest.mark.parametrize(
    "profile",
    [{"type": "RuntimeDefault"}, {"type": "Localhost", "localhostProfile": "profiles/plugin.json"}],
)
def test_seccomp_confined_is_fine(run: Runner, profile: dict[str, str]) -> None:
    spec = with_container_sc(seccompProfile=profile)
    spec["securityContext"] = {"seccompProfile": profile}
    assert ids(run([*others(), deployment(spec)])) == []


@pytest.mark.parametrize(
    "key", ["seccomp.security.alpha.kubernetes.io/pod", "container.seccomp.security.alpha.kubernetes.io/app"]
)
def test_seccomp_legacy_annotation(run: Runner, key: str) -> None:
    findings = run([*others(), annotated(pod_spec(), {key: "unconfined"})])
    assert ids(findings) == ["PG-MAN-066"] and key in findings[0].message
    assert findings[0].properties["annotation"] == key
    assert line_of(findings, "PG-MAN-066") == field_line(run, key)
    assert ids(run([*others(), annotated(pod_spec(), {key: "runtime/default"})])) == []


def test_seccomp_annotation_on_the_workload_itself_is_not_the_pods(run: Runner) -> None:
    """Only the pod template's annotations reach the pod; the Deployment's own are not applied to it."""
    obj = deployment()
    obj["metadata"]["annotations"] = {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}
    assert ids(run([*others(), obj])) == []


# --- PG-MAN-067 AppArmor --------------------------------------------------------------------------------


def test_apparmor_unconfined_container(run: Runner) -> None:
    findings = run([*others(), deployment(with_container_sc(appArmorProfile={"type": "Unconfined"}))])
    assert ids(findings) == ["PG-MAN-067"] and "container app" in findings[0].message
    assert line_of(findings, "PG-MAN-067") == field_line(run, "type: Unconfined")


def test_apparmor_unconfined_pod(run: Runner) -> None:
    spec = pod_spec(securityContext={"appArmorProfile": {"type": "Unconfined"}})
    findings = run([*others(), deployment(spec)])
    assert ids(findings) == ["PG-MAN-067"] and "pod sets appArmorProfile.type: Unconfined" in findings[0].message


def test_apparmor_confined_is_fine(run: Runner) -> None:
    spec = with_container_sc(appArmorProfile={"type": "RuntimeDefault"})
    spec["securityContext"] = {
        "appArmorProfile": {"type": "Localhost", "localhostProfile": "plugin"},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert ids(run([*others(), deployment(spec)])) == []


def test_apparmor_legacy_annotation(run: Runner) -> None:
    key = "container.apparmor.security.beta.kubernetes.io/app"
    findings = run([*others(), annotated(pod_spec(), {key: "unconfined"})])
    assert ids(findings) == ["PG-MAN-067"] and key in findings[0].message
    assert line_of(findings, "PG-MAN-067") == field_line(run, key)
    assert ids(run([*others(), annotated(pod_spec(), {key: "runtime/default"})])) == []
    assert ids(run([*others(), annotated(pod_spec(), {key: "localhost/plugin"})])) == []


# --- PG-MAN-068 procMount -------------------------------------------------------------------------------


def test_proc_mount_unmasked(run: Runner) -> None:
    findings = run([*others(), deployment(with_container_sc(procMount="Unmasked"))])
    assert ids(findings) == ["PG-MAN-068"] and "procMount: Unmasked" in findings[0].message
    assert "expected Default" in findings[0].message
    assert line_of(findings, "PG-MAN-068") == field_line(run, "procMount: Unmasked")


def test_proc_mount_default_is_fine(run: Runner) -> None:
    assert ids(run([*others(), deployment(with_container_sc(procMount="Default"))])) == []


# --- PG-MAN-069 SELinux ---------------------------------------------------------------------------------


def test_selinux_spc_container(run: Runner) -> None:
    findings = run([*others(), deployment(with_container_sc(seLinuxOptions={"type": "spc_t"}))])
    assert ids(findings) == ["PG-MAN-069"] and "container app" in findings[0].message
    assert line_of(findings, "PG-MAN-069") == field_line(run, "type: spc_t")


def test_selinux_spc_pod(run: Runner) -> None:
    spec = pod_spec(securityContext={"runAsNonRoot": True, "seLinuxOptions": {"type": "spc_t", "level": "s0"}})
    findings = run([*others(), deployment(spec)])
    assert ids(findings) == ["PG-MAN-069"] and "pod sets seLinuxOptions.type: spc_t" in findings[0].message


@pytest.mark.parametrize("options", [{"type": "container_t"}, {"level": "s0:c123,c456"}, {}])
def test_selinux_confined_is_fine(run: Runner, options: dict[str, str]) -> None:
    spec = with_container_sc(seLinuxOptions=options)
    spec["securityContext"] = {"seLinuxOptions": options, "seccompProfile": {"type": "RuntimeDefault"}}
    assert ids(run([*others(), deployment(spec)])) == []


# --- every container field, every kind, no declaration grants them ------------------------------------


@pytest.mark.parametrize("field", ["initContainers", "ephemeralContainers"])
def test_init_and_ephemeral_containers(run: Runner, field: str) -> None:
    extra = container(
        name="extra",
        securityContext={
            **SAFE_SC,
            "seccompProfile": {"type": "Unconfined"},
            "appArmorProfile": {"type": "Unconfined"},
            "procMount": "Unmasked",
            "seLinuxOptions": {"type": "spc_t"},
        },
    )
    if field == "ephemeralContainers":
        extra.pop("resources")
        extra.pop("ports")
    findings = run([*others(), deployment(pod_spec(**{field: [extra]}))])
    assert ids(findings) == ["PG-MAN-066", "PG-MAN-067", "PG-MAN-068", "PG-MAN-069"]
    assert all(f"{field[:-1]} extra" in f.message for f in findings if f.denies)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind(run: Runner, kind: str) -> None:
    spec = with_container_sc(procMount="Unmasked")
    spec["securityContext"] = {"seccompProfile": {"type": "Unconfined"}}
    obj = wrap(kind, spec)
    if kind == "Pod":
        obj["metadata"]["annotations"] = {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}
    else:
        template = obj["spec"]["jobTemplate"]["spec"]["template"] if kind == "CronJob" else obj["spec"]["template"]
        template["metadata"]["annotations"] = {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}
    findings = run([*others(), obj])
    assert ids(findings) == ["PG-MAN-066", "PG-MAN-067", "PG-MAN-068"]
    assert all(f.location and f.location.line for f in findings)


def test_no_declaration_grants_them(run: Runner) -> None:
    spec = with_container_sc(
        privileged=True,
        capabilities={"add": ["SYS_ADMIN"], "drop": ["ALL"]},
        appArmorProfile={"type": "Unconfined"},
        procMount="Unmasked",
        seLinuxOptions={"type": "spc_t"},
    )
    spec["securityContext"] = {"seccompProfile": {"type": "Unconfined"}}
    assert ids(run([*others(), deployment(spec)], EVERYTHING)) == [
        "PG-MAN-066",
        "PG-MAN-067",
        "PG-MAN-068",
        "PG-MAN-069",
    ]
