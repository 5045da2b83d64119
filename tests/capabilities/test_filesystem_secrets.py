"""PG-CAP-010, 011 (filesystem) and PG-CAP-020 (secret names)."""

from __future__ import annotations

from plugingate.capabilities.filesystem import check_filesystem
from plugingate.capabilities.secrets import check_secrets
from plugingate.policy.model import FilesystemPolicy, SecretsPolicy

from .conftest import declaration, rule_ids

FS = FilesystemPolicy(writable_allow=("/tmp", "/tmp/**", "/var/run/plugin"), read_deny=FilesystemPolicy().read_deny)


def test_writable_allowed() -> None:
    caps = {"filesystem": {"write": ["/tmp", "/tmp/cache", "/var/run/plugin"], "read": ["/etc/acme"]}}
    assert check_filesystem(declaration(caps), FS) == []


def test_writable_outside_allow_list() -> None:
    findings = check_filesystem(declaration({"filesystem": {"write": ["/tmp", "/var/lib/data"]}}), FS)
    assert rule_ids(findings) == ["PG-CAP-010"]
    assert "/var/lib/data" in findings[0].message
    assert findings[0].location is not None and findings[0].location.line is not None


def test_writable_dot_dot_escape() -> None:
    findings = check_filesystem(declaration({"filesystem": {"write": ["/tmp/../etc"]}}), FS)
    # /etc is not writable, and writing /etc reaches /etc/kubernetes
    assert rule_ids(findings) == ["PG-CAP-010", "PG-CAP-011"]
    assert "/etc" in findings[0].message


def test_read_denied_and_parent_of_denied() -> None:
    for path in ("/etc/kubernetes/admin.conf", "/etc", "/", "/proc/self/environ", "/var/lib/kubelet/pki"):
        findings = check_filesystem(declaration({"filesystem": {"read": [path]}}), FS)
        assert rule_ids(findings) == ["PG-CAP-011"], path


def test_write_into_denied_path_is_also_a_read_violation() -> None:
    policy = FilesystemPolicy(writable_allow=("/**",), read_deny=("/var/run/docker.sock",))
    findings = check_filesystem(declaration({"filesystem": {"write": ["/var/run"]}}), policy)
    assert rule_ids(findings) == ["PG-CAP-011"]


def test_secret_names() -> None:
    policy = SecretsPolicy(name_patterns=("acme-*",), deny_patterns=("*-admin*",))
    assert check_secrets(declaration({"secrets": [{"name": "acme-token"}]}), policy) == []
    findings = check_secrets(declaration({"secrets": [{"name": "other-token"}]}), policy)
    assert rule_ids(findings) == ["PG-CAP-020"] and "namePatterns" in findings[0].message
    findings = check_secrets(declaration({"secrets": [{"name": "acme-admin-token"}]}), policy)
    assert rule_ids(findings) == ["PG-CAP-020"] and "denyPatterns" in findings[0].message
