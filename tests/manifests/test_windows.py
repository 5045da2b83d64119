"""Windows pods: judged by the rules that apply to them, never told to set a field the API server forbids."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Runner, container, deployment, good_objects, ids, pod_spec


def others() -> list[dict[str, Any]]:
    return [o for o in good_objects() if o["kind"] != "Deployment"]


def windows_container(**overrides: Any) -> dict[str, Any]:
    """A container of a Windows pod: no Linux-only securityContext field, a non-administrator user."""
    wanted = {"runAsNonRoot": True, **overrides.pop("securityContext", {})}
    made = container(**{"securityContext": dict(wanted), **overrides})
    # NOTE: the shared helper drops ALL capabilities for Linux pods; on Windows the field is forbidden.
    made["securityContext"] = wanted
    return made


def windows_pod(*containers: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    spec = pod_spec(containers=list(containers) or [windows_container()], **overrides)
    # NOTE: likewise the pod's RuntimeDefault seccomp profile the shared helper adds, unless the test set one.
    wanted = overrides.get("securityContext")
    if isinstance(wanted, dict):
        spec["securityContext"] = dict(wanted)
    else:
        spec.pop("securityContext", None)
    spec["os"] = {"name": "windows"}
    return spec


def test_a_windows_pod_is_not_told_to_set_linux_fields(run: Runner) -> None:
    """No allowPrivilegeEscalation, seccomp or capabilities demanded: they are forbidden on Windows pods."""
    findings = run([*others(), deployment(windows_pod())])
    assert ids(findings) == []
    assert not [f for f in findings if "allowPrivilegeEscalation" in f.message]


def test_the_same_pod_on_linux_is_told(run: Runner) -> None:
    spec = pod_spec(containers=[windows_container()])
    assert ids(run([*others(), deployment(spec)])) == [
        "PG-MAN-015",
        "PG-MAN-088",
    ]
    spec["os"] = {"name": "linux"}
    assert ids(run([*others(), deployment(spec)])) == [
        "PG-MAN-015",
        "PG-MAN-088",
    ]


@pytest.mark.parametrize("spelling", ["Windows", "WINDOWS", "windows ", "win"])
def test_only_the_exact_spelling_is_windows(run: Runner, spelling: str) -> None:
    """The API server accepts only ``windows``: any other spelling keeps every Linux check."""
    spec = pod_spec(containers=[windows_container()])
    spec["os"] = {"name": spelling}
    assert ids(run([*others(), deployment(spec)])) == [
        "PG-MAN-015",
        "PG-MAN-088",
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowPrivilegeEscalation", False),
        ("allowPrivilegeEscalation", True),
        ("seccompProfile", {"type": "RuntimeDefault"}),
        ("seccompProfile", {"type": "Unconfined"}),
        ("capabilities", {"drop": ["ALL"]}),
        ("privileged", False),
        ("procMount", "Unmasked"),
        ("seLinuxOptions", {"type": "spc_t"}),
        ("appArmorProfile", {"type": "RuntimeDefault"}),
        ("readOnlyRootFilesystem", True),
        ("runAsUser", 1000),
        ("runAsGroup", 1000),
    ],
)
def test_linux_only_container_fields_on_a_windows_pod(run: Runner, field: str, value: Any) -> None:
    """Whatever its value, a Linux-only field makes the API server reject the pod: one PG-MAN-019, nothing else."""
    spec = windows_pod(windows_container(securityContext={"runAsNonRoot": True, field: value}))
    findings = run([*others(), deployment(spec)])
    assert ids(findings) == ["PG-MAN-019"], field
    message = next(f.message for f in findings if f.rule_id == "PG-MAN-019")
    assert f"securityContext.{field}" in message and "API server would reject" in message
    assert findings[0].location is not None and findings[0].location.line is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seccompProfile", {"type": "RuntimeDefault"}),
        ("runAsUser", 1000),
        ("fsGroup", 2000),
        ("supplementalGroups", [3000]),
        ("sysctls", [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}]),
        ("seLinuxOptions", {"level": "s0:c1"}),
    ],
)
def test_linux_only_pod_fields_on_a_windows_pod(run: Runner, field: str, value: Any) -> None:
    spec = windows_pod(securityContext={field: value})
    assert ids(run([*others(), deployment(spec)])) == ["PG-MAN-019"], field
    empty_list = windows_pod(securityContext={"supplementalGroups": []})
    assert ids(run([*others(), deployment(empty_list)])) == []


def test_host_users_on_a_windows_pod(run: Runner) -> None:
    assert ids(run([*others(), deployment(windows_pod(hostUsers=False))])) == ["PG-MAN-019"]


def test_root_on_windows_is_runasnonroot_and_the_user_name(run: Runner) -> None:
    """runAsNonRoot still applies on Windows; the message never asks for runAsUser, which Windows forbids."""
    unset = run([*others(), deployment(windows_pod({**container(), "securityContext": {}}))])
    assert ids(unset) == ["PG-MAN-014"]
    message = unset[0].message
    assert "runAsNonRoot: true" in message and "ContainerUser" in message
    assert "non-zero runAsUser" not in message and "allowPrivilegeEscalation" not in message
    admin = windows_container(
        securityContext={"runAsNonRoot": True, "windowsOptions": {"runAsUserName": "containeradministrator"}}
    )
    findings = run([*others(), deployment(windows_pod(admin))])
    assert ids(findings) == ["PG-MAN-014"] and "ContainerAdministrator" in findings[0].message
    pod_level = windows_pod({**container(), "securityContext": {}}, securityContext={"runAsNonRoot": True})
    assert ids(run([*others(), deployment(pod_level)])) == []


def test_host_process_is_still_privileged_on_windows(run: Runner) -> None:
    host = windows_container(securityContext={"runAsNonRoot": True, "windowsOptions": {"hostProcess": True}})
    assert ids(run([*others(), deployment(windows_pod(host, hostNetwork=True))])) == ["PG-MAN-011", "PG-MAN-012"]
