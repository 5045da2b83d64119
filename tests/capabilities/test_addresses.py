"""Egress hosts: every spelling of an address is the address; metadata and private ranges are known."""

from __future__ import annotations

import pytest

from plugingate.capabilities.addresses import HostKind, in_allowed, is_metadata, is_private, parse_host


@pytest.mark.parametrize(
    "text",
    [
        "169.254.169.254",
        "2852039166",  # the same address as one decimal number
        "0xa9fea9fe",
        "0251.0376.0251.0376",  # octal
        "169.254.43518",  # inet_aton's short form
        "[fd00:ec2::254]",
        "::ffff:169.254.169.254",  # IPv4-mapped IPv6
        "100.100.100.200",
        "metadata.google.internal",
        "METADATA.GOOGLE.INTERNAL.",
        "169.254.169.0/24",  # a range that holds it
    ],
)
def test_metadata_spellings(text: str) -> None:
    host = parse_host(text)
    assert host.kind is not HostKind.INVALID
    assert is_metadata(host)


@pytest.mark.parametrize(
    "text",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "0.0.0.0",
        "::1",
        "fd12:3456::1",
        "fe80::1",
        "100.64.0.1",
        "localhost",
        "db.localhost",
        "kubernetes.default.svc",
        "api.monitoring.svc.cluster.local",
        "printer.local",
        "ip-10-0-0-1.ec2.internal",
        "10.0.0.0/8",
        "0.0.0.0/0",  # overlaps every private range
        "2130706433",  # 127.0.0.1 as a number
    ],
)
def test_private(text: str) -> None:
    host = parse_host(text)
    assert host.kind is not HostKind.INVALID
    assert is_private(host)


@pytest.mark.parametrize("text", ["api.acme.example", "8.8.8.8", "2001:4860:4860::8888", "*.acme.example"])
def test_public(text: str) -> None:
    host = parse_host(text)
    assert host.kind is not HostKind.INVALID
    assert not is_private(host)
    assert not is_metadata(host)


@pytest.mark.parametrize(
    "text",
    [
        "https://api.acme.example",
        "api.acme.example:443",
        "user@host.example",
        "a..b",
        "-a.example",
        "host.123",
        "a.*.example",
        "",
    ],
)
def test_invalid(text: str) -> None:
    assert parse_host(text).kind is HostKind.INVALID


def test_allowed_addresses() -> None:
    assert in_allowed(parse_host("10.1.2.3"), ("10.1.0.0/16",))
    assert not in_allowed(parse_host("10.2.0.1"), ("10.1.0.0/16",))
    assert in_allowed(parse_host("10.1.2.0/24"), ("10.1.0.0/16",))
    assert not in_allowed(parse_host("10.0.0.0/8"), ("10.1.0.0/16",))  # wider than allowed
    assert in_allowed(parse_host("metadata.google.internal"), ("metadata.google.internal",))
    assert not in_allowed(parse_host("::1"), ("127.0.0.0/8",))  # never across IP versions
