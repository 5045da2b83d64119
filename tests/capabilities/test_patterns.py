"""Host and path globs: one label or segment per '*', one or more per '**', never across a separator."""

from __future__ import annotations

import pytest

from plugingate.capabilities.patterns import host_covered, normalize_path, path_covered, path_reaches


@pytest.mark.parametrize(
    ("host", "pattern", "expected"),
    [
        ("api.acme.example", "*.acme.example", True),
        ("api.acme.example", "*.example", False),  # '*' is exactly one label
        ("api.acme.example", "**.example", True),
        ("example", "**.example", False),  # "**" is one or more labels
        ("acme.example", "**.example", True),
        ("acme.example", "*.example", True),
        ("API.Acme.Example.", "*.acme.example", True),  # case and trailing dot do not matter
        ("api-eu.acme.example", "api-*.acme.example", True),  # a glob inside one label
        ("api.eu.acme.example", "api-*.acme.example", False),
        ("evil.example.com", "*.example", False),
        ("example.evil.com", "example.*", False),
        ("*.acme.example", "*.acme.example", True),  # a declared wildcard is covered by the same one
        ("*.acme.example", "*.example", False),
        ("*.acme.example", "**.example", True),
        ("*.acme.example", "api.acme.example", False),  # a literal never covers a wildcard
        ("**.acme.example", "*.*.example", False),
    ],
)
def test_host_covered(host: str, pattern: str, expected: bool) -> None:
    assert host_covered(host, pattern) is expected


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("/tmp", "/tmp", True),
        ("/tmp/cache", "/tmp", False),
        ("/tmp/cache", "/tmp/**", True),
        ("/tmp", "/tmp/**", False),
        ("/var/run/x", "/var/run/*", True),
        ("/var/run/x/y", "/var/run/*", False),
        ("/tmp/../etc/passwd", "/tmp/**", False),  # normalised before matching
        ("//tmp//a/", "/tmp/**", True),
    ],
)
def test_path_covered(path: str, pattern: str, expected: bool) -> None:
    assert path_covered(path, pattern) is expected


@pytest.mark.parametrize(
    ("declared", "deny", "expected"),
    [
        ("/etc/kubernetes/admin.conf", "/etc/kubernetes/**", True),
        ("/etc", "/etc/kubernetes/**", True),  # reading /etc reads what is under it
        ("/", "/proc/**", True),
        ("/proc/1/environ", "/proc/**", True),
        ("/proc", "/proc/**", True),
        ("/etc/acme", "/etc/kubernetes/**", False),
        ("/var/lib/foo", "/var/lib/*/secrets", True),
        ("/var/lib/foo/data", "/var/lib/*/secrets", False),
        ("/etc/*", "/etc/kubernetes", True),  # a declared glob stands for anything below its literal part
        ("/var/run/docker.sock", "/var/run/docker.sock", True),
        ("/tmp/../var/run/docker.sock", "/var/run/docker.sock", True),
    ],
)
def test_path_reaches(declared: str, deny: str, expected: bool) -> None:
    assert path_reaches(declared, deny) is expected


def test_normalize_path() -> None:
    assert normalize_path("/a/./b/../c//") == "/a/c"
    assert normalize_path("//x") == "/x"
    assert normalize_path("/..") == "/"


def test_overlong_host_is_covered_by_nothing() -> None:
    assert not host_covered("a." * 5000 + "example", "**.example")
