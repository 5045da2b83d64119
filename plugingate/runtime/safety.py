"""What the renderer accepts from a declaration: values that cannot break out of the YAML or CEL they land in.

The declaration's JSON Schema already bounds most fields; these checks are the renderer's own, so
that a value the schema lets through (a host with a newline, a bare ``*``, a path with a quote) is
refused with a clear message rather than rendered into an object that means something else.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from plugingate.errors import InputError
from plugingate.safeyaml import YamlDocument

# NOTE: a DNS-1123 label, as Kubernetes wants for namespace names.
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_NAME_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
# NOTE: a DNS name, optionally with one leading ``*.`` (a whole left-most label), nothing else.
_HOST = re.compile(rf"(\*\.)?({_NAME_LABEL}\.)*{_NAME_LABEL}")
# NOTE: paths land in CEL string literals: only characters with no meaning in CEL, JSON or YAML.
_PATH = re.compile(r"/[A-Za-z0-9._@+/-]{0,1023}")
_CAPABILITY = re.compile(r"[A-Z_]{2,40}")
# NOTE: image references land in CEL string literals too: the OCI reference grammar's characters.
_IMAGE = re.compile(r"[a-z0-9][a-z0-9._:/@-]{0,511}")
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")
MAX_RULES = 256


@dataclass(frozen=True, slots=True)
class Destination:
    """A declared egress host, read as either a network (``cidr``) or a DNS name (``name``)."""

    cidr: str | None = None
    name: str | None = None

    @property
    def wildcard(self) -> bool:
        """Whether the name covers every name under a domain (``*.example.com``)."""
        return bool(self.name and self.name.startswith("*."))


def namespace_name(value: str, *, where: str) -> str:
    """``value`` when it is a DNS-1123 label (what a Namespace may be named), else an InputError."""
    if not _LABEL.fullmatch(value):
        raise InputError(
            f"{value!r} is not a valid namespace name",
            field=where,
            hint="a namespace is a DNS label: at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit",
        )
    return value


def destination(host: str, *, doc: YamlDocument, index: int) -> Destination:
    """A declared egress host as a network or a DNS name; a bare ``*`` or a malformed name is refused."""
    where = ("spec", "capabilities", "network", "egress", index, "host")
    text = host.strip().lower().rstrip(".")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        network = None
    if network is not None:
        return Destination(cidr=str(network))
    labels = text.split(".")
    # NOTE: a name needs a dot (a single label resolves through the cluster's search domains, e.g.
    # ``kubernetes``) and a last label that is not all digits (``010.1.1.1`` is an address some resolvers
    # read in octal, not a name).
    if len(text) <= 253 and _HOST.fullmatch(text) and len(labels) > 1 and not labels[-1].isdigit():
        return Destination(name=text)
    raise InputError(
        f"egress host {host!r} cannot be rendered as a network policy destination",
        path=doc.path,
        line=doc.line_of(where),
        field=f"spec.capabilities.network.egress[{index}].host",
        hint="write a fully qualified DNS name (optionally '*.' then a domain: one label), an IP address or a "
        "CIDR; '*' alone would allow every destination",
    )


def network_cidr(value: str, *, field: str) -> str:
    """An address or CIDR in its canonical form (``10.0.0.1/32``), else an InputError naming ``field``."""
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError as exc:
        raise InputError(f"{value!r} is not an address or CIDR", field=field) from exc


def safe_path(value: str, *, field: str) -> str:
    """A filesystem path made only of characters that mean nothing in CEL, JSON or YAML."""
    if not _PATH.fullmatch(value) or "/../" in f"{value}/" or "//" in value:
        raise InputError(
            f"path {value!r} cannot be rendered into an admission policy",
            field=field,
            hint="an absolute path of letters, digits and . _ @ + - / (no '..', no '//')",
        )
    return value.rstrip("/") or "/"


def safe_capability(value: str, *, field: str) -> str:
    """A Linux capability name (``NET_BIND_SERVICE``)."""
    if not _CAPABILITY.fullmatch(value):
        raise InputError(f"{value!r} is not a Linux capability name", field=field, hint="e.g. NET_BIND_SERVICE")
    return value


def safe_image(value: str, *, field: str) -> str:
    """An image reference made only of the OCI reference grammar's characters."""
    if not _IMAGE.fullmatch(value):
        raise InputError(
            f"image reference {value!r} cannot be rendered into an admission policy",
            field=field,
            hint="REGISTRY/REPOSITORY@sha256:<64 hex> in lowercase",
        )
    return value


def safe_secret_key(value: str, *, field: str) -> str:
    """A Secret key (letters, digits, '-', '_', '.'), as Kubernetes itself requires."""
    if not _SECRET_KEY.fullmatch(value):
        raise InputError(f"{value!r} is not a valid Secret key", field=field, hint="letters, digits, '-', '_' and '.'")
    return value


def port_ranges(ports: list[int]) -> list[tuple[int, int]]:
    """Ports merged into inclusive ranges, so that a long list of ports renders as a few rules."""
    ranges: list[tuple[int, int]] = []
    for port in sorted(set(ports)):
        if ranges and port == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], port)
        else:
            ranges.append((port, port))
    return ranges
