"""What a declared egress host really is: a DNS name, an address, a range; private or metadata.

Attackers spell addresses in many ways (``2852039166``, ``0xa9fea9fe``, ``169.254.43518``,
``[::ffff:169.254.169.254]``); every spelling a C resolver accepts is turned into the address it
means before it is judged, so a metadata endpoint cannot slip through as "a host name".
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum

from plugingate.capabilities.patterns import host_labels

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

METADATA_ADDRESSES: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.169.254/32",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2/32",  # AWS ECS task metadata
        "169.254.169.123/32",  # AWS time sync, same link-local service block
        "fd00:ec2::254/128",  # AWS IMDS over IPv6
        "100.100.100.200/32",  # Alibaba Cloud
        "192.0.0.192/32",  # Oracle Cloud (legacy)
    )
)
METADATA_NAMES: tuple[str, ...] = (
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
    "metadata.tencentyun.com",
)
PRIVATE_RANGES: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # RFC 6598 carrier-grade NAT, often pod or node networks
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)
# NOTE: names that only resolve inside a host or a cluster: the loopback name, mDNS, cloud-internal
# DNS zones and Kubernetes service names.
PRIVATE_SUFFIXES: tuple[str, ...] = ("localhost", "local", "internal", "svc", "cluster.local", "localdomain")
PRIVATE_NAMES: tuple[str, ...] = ("localhost", "kubernetes", "kubernetes.default")


class HostKind(StrEnum):
    """How a declared egress host is written."""

    NAME = "name"
    ADDRESS = "address"
    NETWORK = "network"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Host:
    """A parsed egress host: a (maybe wildcard) DNS name, or the network it denotes (/32 for an address)."""

    text: str
    kind: HostKind
    network: IPNetwork | None = None

    @property
    def is_ip(self) -> bool:
        """Whether the host is an address or a CIDR."""
        return self.network is not None


def parse_host(text: str) -> Host:
    """Parse a declared host; unknown shapes are ``INVALID`` (never guessed to be harmless)."""
    raw = text.strip().lower().rstrip(".")
    if raw.startswith("[") and raw.endswith("]"):
        raw = raw[1:-1]
    if "/" in raw:
        try:
            return Host(text, HostKind.NETWORK, _unmap(ipaddress.ip_network(raw, strict=False)))
        except ValueError:
            return Host(text, HostKind.INVALID)
    try:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        return Host(text, HostKind.ADDRESS, _unmap(ipaddress.ip_network(address)))
    except ValueError:
        pass
    legacy = _legacy_ipv4(raw)
    if legacy is not None:
        return Host(text, HostKind.ADDRESS, ipaddress.ip_network(legacy))
    labels = host_labels(raw)
    if not raw or len(raw) > 253:
        return Host(text, HostKind.INVALID)
    for n, label in enumerate(labels):
        wildcard = n == 0 and label in ("*", "**") and len(labels) > 1
        if not wildcard and not _LABEL.match(label):
            return Host(text, HostKind.INVALID)
    if labels[-1].isdigit():
        # NOTE: no top-level domain is numeric; such a name is an address in disguise or a typo.
        return Host(text, HostKind.INVALID)
    return Host(text, HostKind.NAME)


def _legacy_ipv4(raw: str) -> ipaddress.IPv4Address | None:
    """The address inet_aton would make of ``raw`` (``2852039166``, ``0xa9.0xfe.43518``), if any."""
    if not re.fullmatch(r"[0-9a-fx.]+", raw) or not any(c.isdigit() for c in raw):
        return None
    import socket  # NOTE: only for this rare form; socket costs a few milliseconds to import

    try:
        return ipaddress.IPv4Address(socket.inet_aton(raw))
    except (OSError, ValueError):
        return None


def _unmap(network: IPNetwork) -> IPNetwork:
    """``::ffff:a.b.c.d`` (IPv4-mapped) as the IPv4 network it is."""
    if isinstance(network, ipaddress.IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen >= 96:
            return ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}", strict=False)
    return network


def _overlaps(network: IPNetwork, ranges: tuple[IPNetwork, ...]) -> bool:
    return any(network.version == r.version and network.overlaps(r) for r in ranges)


def is_metadata(host: Host) -> bool:
    """Whether the host is, or a range that holds, a cloud metadata endpoint."""
    if host.network is not None:
        return _overlaps(host.network, METADATA_ADDRESSES)
    name = host.text.strip().lower().rstrip(".")
    return name in METADATA_NAMES


def is_private(host: Host) -> bool:
    """Whether the host is in, or overlaps, a private, loopback or link-local range, or is a local-only name."""
    if host.network is not None:
        return _overlaps(host.network, PRIVATE_RANGES)
    name = host.text.strip().lower().rstrip(".")
    if name in PRIVATE_NAMES:
        return True
    return any(name == s or name.endswith("." + s) for s in PRIVATE_SUFFIXES)


def in_allowed(host: Host, allowed: tuple[str, ...]) -> bool:
    """Whether the host lies inside one of the policy's ``allowedAddresses`` (CIDRs, or names verbatim)."""
    name = host.text.strip().lower().rstrip(".")
    for entry in allowed:
        text = entry.strip().lower()
        if host.network is None:
            if text == name:
                return True
            continue
        try:
            net = _unmap(ipaddress.ip_network(text, strict=False))
        except ValueError:
            continue
        if within(host.network, net):
            return True
    return False


def within(inner: IPNetwork, outer: IPNetwork) -> bool:
    """Whether ``inner`` lies inside ``outer`` (never across IP versions)."""
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False


def network_of(text: str) -> IPNetwork | None:
    """A CIDR or address as a network; ``None`` when it is neither."""
    try:
        return _unmap(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        return None
