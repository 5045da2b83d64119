"""One image's shadow run: build its sandbox, start the recorders, run it for the policy's time, read back.

The order matters: the recorders (sink, resolver) are listening before the plugin starts, and the
cgroup is read before the container is deleted (deleting it removes the counters). Everything is torn
down in ``finally``: the namespaces, the recorders, the container, the run's private folder.
"""

from __future__ import annotations

import base64
import json
import os
import posixpath
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from plugingate.declaration.model import Declaration
from plugingate.errors import ToolError
from plugingate.files import read_tail
from plugingate.policy.model import ProbePolicy
from plugingate.probe.certs import write_api_certificates
from plugingate.probe.dns import dnsmasq_args, read_queries
from plugingate.probe.kubeapi import parse_request
from plugingate.probe.observation import Connection, Observation, Source
from plugingate.probe.rootfs import ImageConfig
from plugingate.probe.sandbox import CgroupMeter, Link, ProbeTools, Runsc
from plugingate.probe.sink import SinkConfig
from plugingate.probe.trace import read_trace
from plugingate.probe.wiring import Wiring

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SECRETS_DIR = "/var/run/secrets/plugingate"
API_PORT = 443
# NOTE: ports the sink always listens on (web, TLS, common alternates, DNS over TCP); declared ports are added.
SINK_PORTS = (53, 80, 443, 8080, 8443)
_SAMPLE_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class Canary:
    """A declared secret key's stand-in value, and where the sandbox finds it (variables and files)."""

    secret: str
    key: str
    value: str
    env: tuple[str, ...]
    files: tuple[str, ...]


def env_name(secret: str, key: str) -> str:
    """The probe's own variable for a secret key: ``acme-token``/``token`` → ``ACME_TOKEN_TOKEN``."""
    return "".join(c if c.isalnum() else "_" for c in f"{secret}_{key}").upper()


def make_canaries(declaration: Declaration, wiring: Wiring | None = None) -> tuple[Canary, ...]:
    """A fresh random value for every declared secret key (a secret with no keys listed gets ``data``).

    Each is put where the manifests put it for this image (``wiring``) and also where the probe's
    convention puts it: ``NAME_KEY`` (``as: env``) and ``/var/run/secrets/plugingate/NAME/KEY``
    (``as: volume``; both when ``as`` is not given).
    """
    wiring = wiring or Wiring()
    out = []
    for ref in declaration.capabilities.secrets:
        for key in ref.keys or ("data",):
            env = set(wiring.env.get((ref.name, key), ()))
            files = set(wiring.files.get((ref.name, key), ()))
            if ref.as_ in (None, "env"):
                env.add(env_name(ref.name, key))
            if ref.as_ in (None, "volume"):
                files.add(f"{SECRETS_DIR}/{ref.name}/{key}")
            out.append(
                Canary(
                    secret=ref.name,
                    key=key,
                    value="pgcanary" + secrets.token_hex(12),
                    env=tuple(sorted(env)),
                    files=tuple(sorted(files)),
                )
            )
    return tuple(out)


def _user(config: ImageConfig, declaration: Declaration) -> tuple[int, int]:
    """The uid/gid to run as: the image's numeric user, else nobody when the plugin declares runAsNonRoot."""
    user, _, group = config.user.partition(":")
    if user.isdigit():
        uid = int(user)
        gid = int(group) if group.isdigit() else uid
        if uid != 0 or not declaration.capabilities.privileges.run_as_non_root:
            return uid, gid
    return (65534, 65534) if declaration.capabilities.privileges.run_as_non_root or not user.isdigit() else (0, 0)


def _mkdirs(rootfs: Path, path: str) -> None:
    target = rootfs / path.lstrip("/")
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        target.unlink()
    target.mkdir(parents=True, exist_ok=True)


def _spec(
    rootfs: Path,
    config: ImageConfig,
    declaration: Declaration,
    link: Link,
    canaries: tuple[Canary, ...],
    files: Path,
    memory_limit: int,
    pids_limit: int,
    cgroup: str,
) -> dict[str, object]:
    caps = declaration.capabilities
    uid, gid = _user(config, declaration)
    env = [e for e in config.env if not e.startswith("KUBERNETES_SERVICE_")]
    if not any(e.startswith("PATH=") for e in env):
        env.append(f"PATH={DEFAULT_PATH}")
    env += [
        f"KUBERNETES_SERVICE_HOST={link.api_ip}",
        f"KUBERNETES_SERVICE_PORT={API_PORT}",
        f"KUBERNETES_SERVICE_PORT_HTTPS={API_PORT}",
    ]
    env += [f"{name}={c.value}" for c in canaries for name in c.env]
    # NOTE: one read-only folder per directory the canaries' files live in (a secret volume's mount).
    secret_dirs = sorted({posixpath.dirname(f) for c in canaries for f in c.files})
    mounts: list[dict[str, object]] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755"]},
        {"destination": SA_DIR, "type": "bind", "source": str(files / "serviceaccount"), "options": ["rbind", "ro"]},
        {
            "destination": "/etc/resolv.conf",
            "type": "bind",
            "source": str(files / "resolv.conf"),
            "options": ["rbind", "ro"],
        },
    ]
    for n, directory in enumerate(secret_dirs):
        source = str(files / "secrets" / str(n))
        mounts.append({"destination": directory, "type": "bind", "source": source, "options": ["rbind", "ro"]})
    # NOTE: as in the cluster: declared writable paths are emptyDirs, declared read paths are mounted
    # read-only (a ConfigMap's stand-in); anything else is the image's own, in the in-memory overlay.
    for path in caps.fs_write:
        mounts.append({"destination": path, "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]})
    for path in caps.fs_read:
        if path not in caps.fs_write:
            mounts.append({"destination": path, "type": "tmpfs", "source": "tmpfs", "options": ["ro", "mode=755"]})
    for mount in mounts:
        if mount["destination"] != "/etc/resolv.conf":
            _mkdirs(rootfs, str(mount["destination"]))
    _mkdirs(rootfs, "/etc")
    (rootfs / "etc" / "resolv.conf").touch()
    return {
        "ociVersion": "1.0.0",
        "process": {
            "terminal": False,
            "user": {"uid": uid, "gid": gid},
            "args": list(config.argv),
            "env": env,
            "cwd": config.workdir or "/",
            "capabilities": {k: [] for k in ("bounding", "effective", "inheritable", "permitted", "ambient")},
            "noNewPrivileges": True,
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        },
        "root": {"path": str(rootfs), "readonly": False},
        "hostname": "plugingate-probe",
        "mounts": mounts,
        "linux": {
            "cgroupsPath": cgroup,
            "resources": {"memory": {"limit": memory_limit}, "pids": {"limit": pids_limit}},
            "namespaces": [
                {"type": "pid"},
                {"type": "ipc"},
                {"type": "uts"},
                {"type": "mount"},
                {"type": "network", "path": link.ns_path(link.box_ns)},
            ],
        },
    }


def _write_files(files: Path, canaries: tuple[Canary, ...], link: Link, namespace: str, ca: Path, token: str) -> None:
    sa = files / "serviceaccount"
    sa.mkdir(parents=True)
    (sa / "token").write_text(token)
    (sa / "namespace").write_text(namespace)
    (sa / "ca.crt").write_bytes(ca.read_bytes())
    secret_dirs = sorted({posixpath.dirname(f) for c in canaries for f in c.files})
    (files / "secrets").mkdir()
    for n, directory in enumerate(secret_dirs):
        folder = files / "secrets" / str(n)
        folder.mkdir()
        for canary in canaries:
            for inside in canary.files:
                if posixpath.dirname(inside) == directory:
                    (folder / posixpath.basename(inside)).write_text(canary.value)
    # NOTE: no search domains: every name the plugin asks for is logged exactly as it wrote it.
    (files / "resolv.conf").write_text(f"nameserver {link.sink_ip}\noptions ndots:1\n")
    for path in files.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o444)


def _sink_events(path: Path) -> tuple[list[Connection], list[dict[str, object]]]:
    connections: list[Connection] = []
    api: list[dict[str, object]] = []
    if not path.exists():
        return connections, api
    for line in _lines(path):
        event = json.loads(line)
        if event["kind"] == "api":
            api.append(event)
            continue
        sni, http_host = event.get("sni"), event.get("httpHost")
        host = sni or (http_host.rsplit(":", 1)[0] if http_host else None)
        connections.append(
            Connection(
                source=Source.SINK,
                address=event["address"],
                port=int(event["port"]),
                host=host,
                sni=sni,
                http_host=http_host,
                request_line=event.get("requestLine"),
                first_bytes=base64.b64decode(event.get("firstBytes") or ""),
            )
        )
    return connections, api


def run_image(
    *,
    name: str,
    rootfs: Path,
    config: ImageConfig,
    declaration: Declaration,
    settings: ProbePolicy,
    tools: ProbeTools,
    work: Path,
    namespace: str,
    wiring: Wiring | None = None,
) -> Observation:
    """Run one image's rootfs in the sandbox for the policy's duration and return what was recorded."""
    if not config.argv:
        raise ToolError(f"image {name!r} has no entrypoint or command to run", tool="runsc")
    run_id = secrets.token_hex(4)
    link = Link(run_id=run_id, subnet=secrets.randbelow(250) + 2)
    files, logs, state = work / "files", work / "logs", work / "state"
    for folder in (files, logs, state):
        folder.mkdir(parents=True)
    token = secrets.token_urlsafe(24)
    canaries = make_canaries(declaration, wiring)
    ca, cert, key = write_api_certificates(work, link.api_ip)
    _write_files(files, canaries, link, namespace, ca, token)
    declared_memory = declaration.capabilities.resources.memory_bytes or settings.default_memory_bytes
    memory_limit = declared_memory + settings.memory_overhead_bytes
    cgroup = f"/plugingate-probe-{run_id}"
    spec = _spec(rootfs, config, declaration, link, canaries, files, memory_limit, settings.max_pids, cgroup)
    bundle = work / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(spec, indent=1))
    ports = sorted({*SINK_PORTS, *(p for rule in declaration.capabilities.egress for p in rule.ports)} - {53})
    sink_config = SinkConfig(
        sink_ip=link.sink_ip,
        api_ip=link.api_ip,
        api_port=API_PORT,
        ports=tuple(ports),
        cert=str(cert),
        key=str(key),
        token=token,
        events=str(work / "sink.jsonl"),
        ready=str(work / "sink.ready"),
    )
    (work / "sink.json").write_text(sink_config.to_json())
    runsc = Runsc(tools, link, state, logs, f"pgprobe-{run_id}")
    meter = CgroupMeter(cgroup, memory_limit, settings.max_pids)
    children: list[subprocess.Popen[bytes]] = []
    output = work / "output.txt"
    started = time.monotonic()
    exit_status = "stopped by the probe at the end of its time"
    try:
        link.up(tools)
        children.append(
            _start_in(
                tools,
                link.sink_ns,
                [sys.executable, "-m", "plugingate.probe.sink", str(work / "sink.json")],
                work / "sink.log",
            )
        )
        children.append(
            _start_in(
                tools,
                link.sink_ns,
                dnsmasq_args(
                    tools.dnsmasq,
                    sink=link.sink_ip,
                    api=link.api_ip,
                    log=work / "dns.log",
                    pid_file=work / "dnsmasq.pid",
                ),
                work / "dnsmasq.out",
            )
        )
        _wait_ready(work / "sink.ready", children[0], work / "sink.log")
        runsc.create(bundle, output)
        runsc.start()
        started = time.monotonic()
        pid = runsc.state().get("pid")
        meter.sandbox_pid = pid if isinstance(pid, int) and pid > 0 else None
        deadline = started + settings.duration.total_seconds()
        checks = 0
        while time.monotonic() < deadline:
            meter.sample()
            time.sleep(_SAMPLE_SECONDS)
            checks += 1
            if checks % 4 == 0 and not runsc.running():
                exit_status = "exited before the end of its time"
                break
        meter.sample()
        runsc.stop()
        meter.sample()
    finally:
        elapsed = time.monotonic() - started
        runsc.delete()
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        link.down(tools)
    usage = meter.usage()
    if usage.oom_killed:
        exit_status = "killed: out of memory"
    connections, api_events = _sink_events(work / "sink.jsonl")
    api_calls = tuple(
        parse_request(str(e["method"]), str(e["target"]), authenticated=bool(e["authenticated"])) for e in api_events
    )
    dns_log = work / "dns.log"
    queries = read_queries(_lines(dns_log) if dns_log.exists() else ())
    trace = read_trace(_boot_lines(logs))
    stopped = next((line.strip() for line in _boot_lines(logs) if line.startswith(("panic: ", "fatal error: "))), None)
    if stopped is not None:
        # NOTE: gVisor stops the whole sandbox when a bound is hit where it cannot fail a syscall
        # (a fork bomb at the task limit: "error initializing first thread"); the host is untouched.
        exit_status = f"the sandbox stopped itself: {stopped[:200]}"
    return Observation(
        image=name,
        duration_seconds=elapsed,
        exit_status=exit_status,
        dns=queries,
        connections=tuple(connections),
        api_calls=api_calls,
        trace=trace,
        usage=usage,
        canaries={f"{c.secret}/{c.key}": c.value for c in canaries},
        output=read_tail(output, 4000),
        recorders=(link.sink_ip, link.api_ip),
    )


def _boot_lines(logs: Path) -> Iterator[str]:
    """runsc's boot log(s), line by line (streamed: a chatty plugin's trace can be large)."""
    for path in sorted(logs.glob("*boot*")):
        yield from _lines(path)


def _lines(path: Path) -> Iterator[str]:
    """A recorder's log, line by line: streamed, since a plugin decides how much it records."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        yield from handle


def _start_in(tools: ProbeTools, namespace: str, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A recorder started inside the sink's network namespace (it sees nothing else)."""
    env = {"PATH": os.defpath, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(tools.nsenter), f"--net=/run/netns/{namespace}", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def _wait_ready(ready: Path, sink: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ready.exists():
            return
        if sink.poll() is not None:
            break
        time.sleep(0.05)
    raise ToolError(
        f"the probe's recording sink did not start: {read_tail(log, 800)}",
        tool="plugingate-sink",
    )
