"""What a shadow run saw, as plain immutable values (``probe.json`` is made of these).

Each value says where it was seen (``source``): the DNS resolver, the sink's listeners, the API stub
or runsc's trace. ``compare`` reads them; nothing here judges.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Source(StrEnum):
    """Which recorder saw an event."""

    DNS = "dns"
    SINK = "sink"
    KUBE_API = "kube-api"
    TRACE = "trace"


@dataclass(frozen=True, slots=True)
class DnsQuery:
    """A name the plugin asked the resolver for, and the record type."""

    name: str
    qtype: str


@dataclass(frozen=True, slots=True)
class Connection:
    """A connection or datagram the plugin sent.

    ``host`` is the best name known for the destination: the TLS SNI, the HTTP Host header, else the
    address it dialled. ``first_bytes`` are the first bytes it sent (at most 4 KiB, base64 in JSON).
    """

    source: Source
    address: str
    port: int
    protocol: str = "tcp"
    host: str | None = None
    sni: str | None = None
    http_host: str | None = None
    request_line: str | None = None
    first_bytes: bytes = b""
    result: str | None = None

    def to_dict(self) -> dict[str, object]:
        """As in ``probe.json``: bytes as base64, empty fields left out."""
        import base64

        out: dict[str, object] = {}
        for key, value in asdict(self).items():
            if value in (None, b"", ""):
                continue
            name = {"first_bytes": "firstBytes", "http_host": "httpHost", "request_line": "requestLine"}.get(key, key)
            out[name] = base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)
        out["port"] = self.port
        return out


@dataclass(frozen=True, slots=True)
class ApiCall:
    """A request to the Kubernetes API stub, as RBAC sees it."""

    verb: str
    api_group: str
    resource: str
    namespace: str | None
    name: str | None
    path: str
    method: str
    authenticated: bool

    def to_dict(self) -> dict[str, object]:
        """As in ``probe.json``."""
        return {
            "verb": self.verb,
            "apiGroup": self.api_group,
            "resource": self.resource,
            "namespace": self.namespace,
            "name": self.name,
            "path": self.path,
            "method": self.method,
            "authenticated": self.authenticated,
        }


@dataclass(frozen=True, slots=True)
class FileWrite:
    """A write attempt from runsc's trace: the syscall, the absolute path, and its errno when it failed."""

    syscall: str
    path: str
    errno: int | None = None
    via: str | None = None  # the path as the plugin spelled it, when that was a link it had made


@dataclass(frozen=True, slots=True)
class Exec:
    """A program execution (execve) from runsc's trace."""

    path: str
    errno: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """What the sandbox used: the memory peak and CPU time of its cgroup, whether it was OOM-killed."""

    memory_peak_bytes: int = 0
    memory_limit_bytes: int = 0
    cpu_seconds: float = 0.0
    cpu_peak_millicores: int = 0
    oom_killed: bool = False
    pids_limit: int = 0
    sandbox_rss_peak_bytes: int = 0  # the runsc-sandbox process's own high-water mark (VmHWM)


@dataclass(frozen=True, slots=True)
class Trace:
    """What runsc's strace of the sandbox shows."""

    writes: tuple[FileWrite, ...] = ()
    execs: tuple[Exec, ...] = ()
    connects: tuple[Connection, ...] = ()
    syscalls: dict[str, int] = field(default_factory=dict)
    truncated: bool = False  # more traced calls than were read (trace.MAX_CALLS)


@dataclass(frozen=True, slots=True)
class Observation:
    """Everything one image's shadow run recorded."""

    image: str
    duration_seconds: float
    exit_status: str
    dns: tuple[DnsQuery, ...]
    connections: tuple[Connection, ...]
    api_calls: tuple[ApiCall, ...]
    trace: Trace
    usage: Usage
    canaries: dict[str, str]  # "secret/key" -> canary value (random per run)
    output: str = ""
    # NOTE: the sink's and the API stub's addresses: a connection to them went through the resolver.
    recorders: tuple[str, ...] = ()
    digest: str | None = None  # the pinned digest the archive was proven to hold (None: unpinned, unproven)

    def to_dict(self) -> dict[str, object]:
        """As in ``probe.json`` (canary values are left out: they were random and mean nothing now)."""
        return {
            "image": self.image,
            "digest": self.digest,
            "durationSeconds": round(self.duration_seconds, 3),
            "exitStatus": self.exit_status,
            "dns": [{"name": q.name, "type": q.qtype} for q in self.dns],
            "connections": [c.to_dict() for c in (*self.connections, *self.trace.connects)],
            "kubernetesApi": [a.to_dict() for a in self.api_calls],
            "writes": [{k: v for k, v in asdict(w).items() if v is not None} for w in self.trace.writes],
            "executions": [{k: v for k, v in asdict(e).items() if v is not None} for e in self.trace.execs],
            "syscalls": dict(sorted(self.trace.syscalls.items())),
            "traceTruncated": self.trace.truncated,
            "usage": {
                "memoryPeakBytes": self.usage.memory_peak_bytes,
                "memoryLimitBytes": self.usage.memory_limit_bytes,
                "cpuSeconds": round(self.usage.cpu_seconds, 3),
                "cpuPeakMillicores": self.usage.cpu_peak_millicores,
                "oomKilled": self.usage.oom_killed,
                "pidsLimit": self.usage.pids_limit,
                "sandboxRssPeakBytes": self.usage.sandbox_rss_peak_bytes,
            },
            "canaries": sorted(self.canaries),
            "outputTail": self.output[-2000:],
        }
