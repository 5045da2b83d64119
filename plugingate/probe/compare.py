"""What the shadow run saw, compared with the declaration: each thing beyond it is a ``PG-PRB-*`` finding.

The comparison is the same for every image: hosts (from DNS queries, SNI, Host headers and the
addresses dialled) against ``network.egress``; ports against the ports of the matching entries;
canaries against everything that left (DNS names, and bytes sent to any host that is not declared);
writes against ``filesystem.write``; API calls against ``kubernetes.rules`` in the plugin's namespaces;
the memory limit and the executions against the policy's ``probe`` section.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from plugingate.capabilities.patterns import host_covered, path_within
from plugingate.declaration.model import Declaration, EgressRule
from plugingate.findings import Finding, Location
from plugingate.policy.model import ProbePolicy
from plugingate.probe import rules
from plugingate.probe.dns import KUBERNETES_NAMES
from plugingate.probe.kubeapi import Scope, allowed
from plugingate.probe.observation import Connection, Observation
from plugingate.probe.trace import PRIVILEGED_CALLS

# NOTE: device files every program may write (its output, the bit bucket); /dev is a private tmpfs.
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/stdout", "/dev/stderr", "/dev/pts", "/dev/shm")


def canary_spellings(value: str) -> tuple[bytes, ...]:
    """A canary as it may leave: raw, hex, base64 (standard and URL-safe, unpadded) and base32."""
    raw = value.encode()
    return (
        raw,
        raw.hex().encode(),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        base64.b32encode(raw).rstrip(b"="),
    )


def _leaks(data: bytes, value: str) -> str | None:
    """How ``data`` carries the canary, or None. Hex and base32 are matched without regard to case."""
    lowered = data.lower()
    for spelling, how in zip(canary_spellings(value), ("raw", "hex", "base64", "base64url", "base32"), strict=True):
        if spelling in data or (how in ("raw", "hex", "base32") and spelling.lower() in lowered):
            return how
    return None


class _Findings:
    def __init__(self, declaration: Declaration) -> None:
        self.declaration = declaration
        self.items: list[Finding] = []
        self._seen: set[tuple[str, ...]] = set()
        self.where = Location(declaration.path, declaration.line("spec", "capabilities"))

    def add(self, key: tuple[str, ...], finding: Finding) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self.items.append(finding)


def _declared(declaration: Declaration, host: str) -> list[EgressRule]:
    return [rule for rule in declaration.capabilities.egress if host_covered(host, rule.host)]


def _egress(out: _Findings, obs: Observation, host: str | None, port: int, how: str, protocol: str = "tcp") -> None:
    egress = out.declaration.capabilities.egress
    if host is None:
        if not any(port in rule.ports for rule in egress):
            out.add(
                ("port", "", str(port)),
                rules.UNDECLARED_PORT.finding(
                    f"image {obs.image}: {how} port {port}/{protocol} with no host name, and no egress entry "
                    "declares that port",
                    location=out.where,
                    image=obs.image,
                    port=port,
                ),
            )
        return
    matching = _declared(out.declaration, host)
    if not matching:
        out.add(
            ("host", host.lower()),
            rules.UNDECLARED_HOST.finding(
                f"image {obs.image}: {how} {host} (port {port}/{protocol}), which no "
                "spec.capabilities.network.egress entry declares",
                location=out.where,
                image=obs.image,
                host=host,
                port=port,
            ),
        )
    elif not any(port in rule.ports for rule in matching):
        declared_ports = sorted({p for rule in matching for p in rule.ports})
        out.add(
            ("port", host.lower(), str(port)),
            rules.UNDECLARED_PORT.finding(
                f"image {obs.image}: {how} {host} on port {port}/{protocol}; its egress entry declares "
                f"{declared_ports}",
                location=out.where,
                image=obs.image,
                host=host,
                port=port,
            ),
        )


def _network(out: _Findings, obs: Observation) -> None:
    for query in obs.dns:
        if query.name.lower() in KUBERNETES_NAMES:
            continue
        if not _declared(out.declaration, query.name):
            out.add(
                ("host", query.name.lower()),
                rules.UNDECLARED_HOST.finding(
                    f"image {obs.image}: resolved {query.name} ({query.qtype}), which no "
                    "spec.capabilities.network.egress entry declares",
                    location=out.where,
                    image=obs.image,
                    host=query.name,
                ),
            )
    for conn in obs.connections:
        dialled_ip = conn.address not in obs.recorders
        host = conn.host or (conn.address if dialled_ip else None)
        _egress(out, obs, host, conn.port, "connected to", conn.protocol)
    recorded = {c.port for c in obs.connections if c.address == (obs.recorders or ("",))[0]}
    for conn in obs.trace.connects:
        if conn.address.startswith("127.") or conn.address == "::1":
            continue  # NOTE: the sandbox's own loopback (its netstack's, not the host's)
        if conn.address not in obs.recorders:
            _egress(out, obs, conn.address, conn.port, "dialled the address", conn.protocol)
        elif conn.port != 53 and conn.address == obs.recorders[0] and conn.port not in recorded:
            # NOTE: a port the sink had no listener on: only the trace saw it, and no name was sent.
            _egress(out, obs, None, conn.port, "connected to", conn.protocol)


def _canaries(out: _Findings, obs: Observation) -> None:
    for name, value in obs.canaries.items():
        for query in obs.dns:
            how = _leaks(query.name.replace(".", "").encode(), value)
            if how:
                out.add(
                    ("canary", name, "dns"),
                    rules.CANARY_LEAKED.finding(
                        f"image {obs.image}: the canary of secret {name} left in a DNS query ({how}): {query.name}",
                        location=out.where,
                        image=obs.image,
                        secret=name,
                        channel="dns",
                    ),
                )
        for conn in _sent(obs.connections):
            host = conn.host or conn.address
            if _declared(out.declaration, host):
                continue  # NOTE: a plugin sends its token to the API it declares; that is what it is for
            how = _leaks(conn.first_bytes, value)
            if how:
                out.add(
                    ("canary", name, host),
                    rules.CANARY_LEAKED.finding(
                        f"image {obs.image}: the canary of secret {name} was sent ({how}) to {host}:{conn.port}, "
                        "which the plugin does not declare",
                        location=out.where,
                        image=obs.image,
                        secret=name,
                        channel=f"{host}:{conn.port}",
                    ),
                )


def _sent(connections: Iterable[Connection]) -> Iterable[Connection]:
    return (c for c in connections if c.first_bytes)


def _writes(out: _Findings, obs: Observation) -> None:
    writable = out.declaration.capabilities.fs_write
    for write in obs.trace.writes:
        if any(path_within(write.path, p) for p in (*writable, *_DEVICES)):
            continue
        result = "failed" if write.errno else "succeeded in the sandbox's overlay"
        if write.via:
            result += f", through the link {write.via} it had made"
        out.add(
            ("write", write.path),
            rules.UNDECLARED_WRITE.finding(
                f"image {obs.image}: {write.syscall} of {write.path} ({result}), outside the declared writable "
                f"paths {list(writable)}",
                location=Location(out.declaration.path, out.declaration.line("spec", "capabilities", "filesystem")),
                image=obs.image,
                path=write.path,
                syscall=write.syscall,
            ),
        )


def _api(out: _Findings, obs: Observation, namespace: str) -> None:
    caps = out.declaration.capabilities
    scope = Scope(namespace=namespace, others=caps.namespaces, cluster=caps.cluster_scope)
    for call in obs.api_calls:
        if allowed(caps.rbac_rules, call, scope):
            continue
        what = f"{call.verb} {call.resource or call.path}"
        if call.api_group:
            what += f".{call.api_group}"
        where = f"namespace {call.namespace}" if call.namespace else "cluster-wide"
        out.add(
            (
                "api",
                call.verb,
                call.api_group,
                call.resource,
                call.namespace or "",
                call.path if not call.resource else "",
            ),
            rules.API_BEYOND_RBAC.finding(
                f"image {obs.image}: called the Kubernetes API: {what} ({where}, {call.method} {call.path}), "
                "which the declared RBAC rules do not grant",
                location=Location(out.declaration.path, out.declaration.line("spec", "capabilities", "kubernetes")),
                image=obs.image,
                verb=call.verb,
                resource=call.resource,
                apiGroup=call.api_group,
            ),
        )


def compare(observation: Observation, declaration: Declaration, settings: ProbePolicy, namespace: str) -> list[Finding]:
    """The findings of one image's shadow run."""
    out = _Findings(declaration)
    _network(out, observation)
    _canaries(out, observation)
    _writes(out, observation)
    _api(out, observation, namespace)
    usage = observation.usage
    if usage.oom_killed:
        out.add(
            ("memory",),
            rules.OVER_MEMORY.finding(
                f"image {observation.image}: killed for running out of memory at the sandbox's limit of "
                f"{usage.memory_limit_bytes >> 20} MiB (declared memory plus "
                f"{settings.memory_overhead_bytes >> 20} MiB for the sandbox); "
                f"peak {usage.memory_peak_bytes >> 20} MiB",
                location=Location(declaration.path, declaration.line("spec", "capabilities", "resources")),
                image=observation.image,
                peakBytes=usage.memory_peak_bytes,
            ),
        )
    tried = {name: n for name, n in observation.trace.syscalls.items() if name in PRIVILEGED_CALLS}
    if tried and not declaration.capabilities.privileges.privileged:
        out.add(
            ("privileged",),
            rules.PRIVILEGED_CALL.finding(
                f"image {observation.image}: tried {', '.join(f'{k} ({v}x)' for k, v in sorted(tried.items()))}; "
                "the plugin does not declare privileges.privileged",
                location=Location(declaration.path, declaration.line("spec", "capabilities", "privileges")),
                image=observation.image,
                syscalls=sorted(tried),
            ),
        )
    execs = observation.trace.execs
    if len(execs) > settings.max_execs:
        shown = sorted({e.path for e in execs})[:5]
        out.add(
            ("exec",),
            rules.EXECUTED.finding(
                f"image {observation.image}: {len(execs)} program execution(s) ({', '.join(shown)}); the policy "
                f"allows {settings.max_execs} (probe.maxExecs)",
                location=out.where,
                image=observation.image,
                executions=len(execs),
            ),
        )
    return out.items
