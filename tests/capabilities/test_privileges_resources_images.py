"""PG-CAP-040..045 (privileges), 050..051 (resources), 060..061 (images)."""

from __future__ import annotations

from dataclasses import replace

from plugingate.capabilities.images import check_images, normalized_repository
from plugingate.capabilities.privileges import check_privileges, check_resources
from plugingate.policy.model import FilesystemPolicy, ImagesPolicy, PrivilegesPolicy, ResourcesPolicy

from .conftest import DIGEST, declaration, rule_ids

PRIV = PrivilegesPolicy()
FS = FilesystemPolicy()


def priv(**fields: object) -> list[str]:
    return rule_ids(check_privileges(declaration({"privileges": fields}), PRIV, FS))


def test_least_privileges_pass() -> None:
    assert priv(runAsNonRoot=True, capabilities=["NET_BIND_SERVICE"]) == []


def test_each_privilege() -> None:
    assert priv(privileged=True) == ["PG-CAP-040"]
    assert priv(hostNetwork=True) == ["PG-CAP-041"]
    assert priv(hostPID=True, hostIPC=True) == ["PG-CAP-041", "PG-CAP-041"]
    assert priv(hostPath=["/var/log"]) == ["PG-CAP-042"]
    assert priv(capabilities=["SYS_ADMIN", "CAP_NET_BIND_SERVICE"]) == ["PG-CAP-043"]
    assert priv(runAsNonRoot=False) == ["PG-CAP-044"]
    assert priv(allowPrivilegeEscalation=True) == ["PG-CAP-045"]


def test_allowed_privileges() -> None:
    policy = PrivilegesPolicy(
        allow_privileged=True,
        allow_host_network=True,
        allow_host_pid=True,
        allow_host_ipc=True,
        allow_host_path=True,
        allowed_capabilities=("SYS_ADMIN",),
        allow_root=True,
        allow_privilege_escalation=True,
    )
    caps = {
        "privileges": {
            "privileged": True,
            "hostNetwork": True,
            "hostPID": True,
            "hostIPC": True,
            "hostPath": ["/var/log"],
            "capabilities": ["CAP_SYS_ADMIN"],
            "runAsNonRoot": False,
            "allowPrivilegeEscalation": True,
        }
    }
    assert check_privileges(declaration(caps), policy, FS) == []


def test_allowed_host_path_still_respects_read_deny() -> None:
    policy = replace(PRIV, allow_host_path=True)
    findings = check_privileges(declaration({"privileges": {"hostPath": ["/var/lib/kubelet"]}}), policy, FS)
    assert rule_ids(findings) == ["PG-CAP-042"] and "readDeny" in findings[0].message


def test_resources() -> None:
    policy = ResourcesPolicy(require_limits=True, max_cpu_millicores=1000, max_memory_bytes=512 << 20)
    assert check_resources(declaration({"resources": {"cpu": "500m", "memory": "256Mi"}}), policy) == []
    findings = check_resources(declaration({"resources": {"cpu": "500m"}}), policy)
    assert rule_ids(findings) == ["PG-CAP-050"] and "memory" in findings[0].message
    findings = check_resources(declaration({"resources": {"cpu": "1.5", "memory": "1Gi"}}), policy)
    assert rule_ids(findings) == ["PG-CAP-051", "PG-CAP-051"]
    assert check_resources(declaration({"resources": {}}), replace(policy, require_limits=False)) == []


def test_images() -> None:
    policy = ImagesPolicy(require_digest=True, allowed_registries=("registry.example.com/acme",))
    good = [{"name": "app", "ref": f"registry.example.com/acme/app@{DIGEST}"}]
    assert check_images(declaration(images=good), policy) == []
    tagged = [{"name": "app", "ref": "registry.example.com/acme/app:1.0"}]
    assert rule_ids(check_images(declaration(images=tagged), policy)) == ["PG-CAP-060"]
    # NOTE: a malformed digest ("@sha256:abc") never gets here: plugin.yaml's loader refuses it as bad
    # input (tests/core/test_declaration.py).
    elsewhere = [{"name": "app", "ref": f"registry.example.com/acmeevil/app@{DIGEST}"}]
    assert rule_ids(check_images(declaration(images=elsewhere), policy)) == ["PG-CAP-061"]
    hub = [{"name": "app", "ref": "nginx:1.27"}]
    assert rule_ids(check_images(declaration(images=hub), policy)) == ["PG-CAP-060", "PG-CAP-061"]
    assert check_images(declaration(images=hub), ImagesPolicy(require_digest=False)) == []


def test_normalized_repository() -> None:
    assert normalized_repository("nginx") == "docker.io/library/nginx"
    assert normalized_repository("nginx:1.27") == "docker.io/library/nginx"
    assert normalized_repository("acme/app@" + DIGEST) == "docker.io/acme/app"
    assert normalized_repository("localhost:5000/app:1") == "localhost:5000/app"
    assert normalized_repository("ghcr.io/Acme/App:1@" + DIGEST) == "ghcr.io/acme/app"
