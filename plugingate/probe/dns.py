"""The recording resolver: dnsmasq answering every name with the sink's address, and its query log read back.

dnsmasq (the Debian package the issue names) runs inside the sink's own network namespace with no
upstream server: it never resolves anything for real, it logs each query (``--log-queries``) and
answers every name with the sink (``--address=/#/SINK``), and the Kubernetes API's names with the API
stub's address, so that whatever the plugin connects to next lands on a recorder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from plugingate.probe.observation import DnsQuery

# NOTE: the names a pod's client uses for the API server; all resolve to the stub.
KUBERNETES_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
_QUERY = re.compile(r"query\[(\w+)\] (\S+) from ")


def dnsmasq_args(dnsmasq: Path, *, sink: str, api: str, log: Path, pid_file: Path) -> list[str]:
    """The dnsmasq command line of one run."""
    args = [
        str(dnsmasq),
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        "--log-queries",
        f"--log-facility={log}",
        f"--pid-file={pid_file}",
        "--port=53",
        "--cache-size=0",
        # NOTE: root inside the sink's namespace, which has no route anywhere: it writes the log file.
        "--user=root",
        f"--address=/#/{sink}",
    ]
    args += [f"--address=/{name}/{api}" for name in KUBERNETES_NAMES if "." in name]
    return args


def read_queries(lines: Iterable[str]) -> tuple[DnsQuery, ...]:
    """Every query in dnsmasq's log, once each, in order (a resolver retries; the repeats say nothing)."""
    seen: dict[DnsQuery, None] = {}
    for line in lines:
        match = _QUERY.search(line)
        if match:
            # NOTE: the case is kept as sent (DNS ignores it, a base64 canary does not); hosts are compared without it.
            name = match.group(2).rstrip(".")
            seen.setdefault(DnsQuery(name=name, qtype=match.group(1)), None)
    return tuple(seen)
