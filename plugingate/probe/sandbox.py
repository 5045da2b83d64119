"""gVisor (runsc) with no host network: two network namespaces joined by a veth pair, and the runsc lifecycle.

The sandbox's namespace holds one veth end and a default route to the other end, which lives in the
sink's namespace; neither namespace has any other link, so nothing the plugin sends can reach the
host's network, its loopback, or the internet. runsc's netstack takes the sandbox's end over
(``--network=sandbox``), the sink's namespace accepts every address (``ip route add local 0.0.0.0/0``)
so that a hard-coded IP lands on the recorder too. The root file system is an in-memory overlay
(``--overlay``): writes never reach the unpacked image. Memory and process counts are bounded by the
container's cgroup; its peaks are read there before the container is deleted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from plugingate.errors import ToolError
from plugingate.files import read_tail
from plugingate.probe.observation import Usage
from plugingate.probe.trace import TRACED

SETUP_HINT = "install gVisor and dnsmasq (`scripts/setup-probe-tools`, or apt-get install runsc dnsmasq-base)"


@dataclass(frozen=True, slots=True)
class ProbeTools:
    """The programs a probe runs; found on PATH or named by PLUGINGATE_RUNSC / PLUGINGATE_DNSMASQ."""

    runsc: Path
    dnsmasq: Path
    ip: Path
    nsenter: Path
    unshare: Path

    def version(self) -> str:
        """runsc's version line, for probe.json."""
        out = subprocess.run([str(self.runsc), "--version"], capture_output=True, text=True, timeout=30, check=False)
        return out.stdout.splitlines()[0].removeprefix("runsc version ").strip() if out.stdout else "unknown"


def locate_tools(env: Mapping[str, str] | None = None) -> ProbeTools:
    """The probe's programs, or a ``ToolError`` (exit 3) naming the one missing."""
    env = os.environ if env is None else env
    found: dict[str, Path] = {}
    for name, var in (
        ("runsc", "PLUGINGATE_RUNSC"),
        ("dnsmasq", "PLUGINGATE_DNSMASQ"),
        ("ip", ""),
        ("nsenter", ""),
        ("unshare", ""),
    ):
        named = env.get(var) if var else None
        path = named or shutil.which(name, path=env.get("PATH", os.defpath) + ":/usr/sbin:/sbin")
        if not path or not os.access(path, os.X_OK):
            raise ToolError(f"the probe needs {name}, which was not found", tool=name, hint=SETUP_HINT)
        found[name] = Path(path)
    if os.geteuid() != 0:
        raise ToolError(
            "the probe creates network namespaces for the sandbox and its sink, which needs root "
            "(CAP_NET_ADMIN and CAP_SYS_ADMIN)",
            tool="runsc",
            hint="run the probe as root in the CI job's container or VM",
        )
    return ProbeTools(**found)


def _run(args: Sequence[str], *, what: str, timeout: float = 60) -> str:
    """Run a setup command (never a shell); a failure is a ``ToolError``: the probe could not be made."""
    try:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"{what}: {exc}", tool=Path(args[0]).name) from exc
    if done.returncode != 0:
        raise ToolError(
            f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}",
            tool=Path(args[0]).name,
            stderr=done.stderr,
            hint=SETUP_HINT,
        )
    return done.stdout


@dataclass(frozen=True, slots=True)
class Link:
    """The two namespaces of one run and their addresses (a /24 of 10.231.0.0/16 picked per run)."""

    run_id: str
    subnet: int

    @property
    def box_ns(self) -> str:
        return f"pgp-{self.run_id}-box"

    @property
    def sink_ns(self) -> str:
        return f"pgp-{self.run_id}-sink"

    @property
    def sink_ip(self) -> str:
        return f"10.231.{self.subnet}.1"

    @property
    def box_ip(self) -> str:
        return f"10.231.{self.subnet}.2"

    @property
    def api_ip(self) -> str:
        return f"10.231.{self.subnet}.10"

    def ns_path(self, name: str) -> str:
        return f"/run/netns/{name}"

    def up(self, tools: ProbeTools) -> None:
        """Create both namespaces and the veth between them; the sink's side takes every address."""
        ip = str(tools.ip)
        box_if, sink_if = f"pgb{self.run_id[:8]}", f"pgs{self.run_id[:8]}"
        steps = [
            [ip, "netns", "add", self.box_ns],
            [ip, "netns", "add", self.sink_ns],
            [ip, "link", "add", box_if, "type", "veth", "peer", "name", sink_if],
            [ip, "link", "set", box_if, "netns", self.box_ns],
            [ip, "link", "set", sink_if, "netns", self.sink_ns],
            [ip, "-n", self.box_ns, "addr", "add", f"{self.box_ip}/24", "dev", box_if],
            [ip, "-n", self.box_ns, "link", "set", box_if, "up"],
            [ip, "-n", self.box_ns, "link", "set", "lo", "up"],
            [ip, "-n", self.box_ns, "route", "add", "default", "via", self.sink_ip],
            [ip, "-n", self.sink_ns, "addr", "add", f"{self.sink_ip}/24", "dev", sink_if],
            [ip, "-n", self.sink_ns, "link", "set", sink_if, "up"],
            [ip, "-n", self.sink_ns, "link", "set", "lo", "up"],
            [ip, "-n", self.sink_ns, "addr", "add", f"{self.api_ip}/32", "dev", "lo"],
            # NOTE: every destination is local in the sink's namespace, so a dialled IP is recorded too.
            [ip, "-n", self.sink_ns, "route", "add", "local", "0.0.0.0/0", "dev", "lo"],
        ]
        for step in steps:
            _run(step, what="setting up the sandbox's network (" + " ".join(step[1:]) + ")")

    def down(self, tools: ProbeTools) -> None:
        """Delete both namespaces (and with them the veth pair); errors are ignored, as on any cleanup."""
        for name in (self.box_ns, self.sink_ns):
            subprocess.run([str(tools.ip), "netns", "del", name], capture_output=True, timeout=30, check=False)


class Runsc:
    """One container's runsc commands, all with the same global flags and state folder."""

    def __init__(self, tools: ProbeTools, link: Link, state: Path, logs: Path, container: str) -> None:
        self.tools = tools
        self.link = link
        self.container = container
        self.flags = [
            f"--root={state}",
            "--network=sandbox",
            "--overlay",
            "--strace",
            "--strace-syscalls=" + ",".join(TRACED),
            f"--debug-log={logs}/",
        ]

    def command(self, *args: str) -> list[str]:
        """A runsc command run in the sandbox's network namespace.

        # NOTE: runsc (2022) refuses to start with a network when ``/proc/sys/net/core/rmem_default``
        # exists, taking that for "the root network namespace"; kernels since 5.x show it in every
        # namespace. A private mount namespace with a tmpfs over that folder, entered after the
        # network namespace, hides it from runsc alone (nothing is changed for anyone else).
        """
        t = self.tools
        return [
            str(t.nsenter),
            f"--net={self.link.ns_path(self.link.box_ns)}",
            str(t.unshare),
            "--mount",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            'mount -t tmpfs tmpfs /proc/sys/net/core && exec "$@"',
            "sh",
            str(t.runsc),
            *self.flags,
            *args,
        ]

    def create(self, bundle: Path, output: Path) -> None:
        """Create the container; its stdout and stderr (and runsc's own errors) go to ``output``.

        # NOTE: never a pipe: the sandbox inherits these descriptors and keeps them open while it runs,
        # so a pipe would not reach its end until the plugin exits.
        """
        with output.open("ab") as out:
            try:
                done = subprocess.run(
                    self.command("create", "--bundle", str(bundle), self.container),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    timeout=120,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise ToolError("runsc create timed out", tool="runsc") from exc
        if done.returncode != 0:
            tail = read_tail(output, 2000).strip()[-500:]
            raise ToolError(f"runsc create failed: {tail}", tool="runsc", hint=SETUP_HINT)

    def start(self) -> None:
        """Start the created container's entrypoint."""
        _run(self.command("start", self.container), what="runsc start", timeout=120)

    def state(self) -> dict[str, object]:
        """runsc's state of the container (``status``, the sandbox's host ``pid``); empty when it is gone."""
        done = subprocess.run(
            self.command("state", self.container), capture_output=True, text=True, timeout=30, check=False
        )
        try:
            state = json.loads(done.stdout)
        except ValueError:
            return {}
        return state if isinstance(state, dict) else {}

    def running(self) -> bool:
        """Whether the container's process still runs."""
        return self.state().get("status") == "running"

    def stop(self) -> None:
        """Kill every process of the container (the probe's time is up)."""
        subprocess.run(
            self.command("kill", "--all", self.container, "KILL"), capture_output=True, timeout=30, check=False
        )

    def delete(self) -> None:
        """Remove the sandbox and its cgroup."""
        subprocess.run(self.command("delete", "--force", self.container), capture_output=True, timeout=60, check=False)


class CgroupMeter:
    """The container's cgroup, read while it runs: memory peak, CPU time and its highest rate, OOM kills."""

    def __init__(self, path: str, memory_limit: int, pids_limit: int) -> None:
        self.path = path.strip("/")
        self.memory_limit = memory_limit
        self.pids_limit = pids_limit
        self.v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
        self._last: tuple[float, float] | None = None
        self._peak_rate = 0.0
        self._cpu = 0.0
        self._memory = 0
        self._oom = False
        self._hwm = 0
        self.sandbox_pid: int | None = None

    def _read(self, controller: str, name: str) -> str | None:
        base = Path("/sys/fs/cgroup") if self.v2 else Path("/sys/fs/cgroup") / controller
        try:
            return (base / self.path / name).read_text()
        except OSError:
            return None

    def sample(self) -> None:
        """Read the counters once (called every quarter second while the container runs, and at its end)."""
        now = time.monotonic()
        if self.v2:
            stat = self._read("cpu", "cpu.stat") or ""
            usec = next((int(line.split()[1]) for line in stat.splitlines() if line.startswith("usage_usec")), None)
            cpu = usec / 1e6 if usec is not None else None
            peak = self._read("memory", "memory.peak") or self._read("memory", "memory.current")
            events = self._read("memory", "memory.events") or ""
            oom = any(line.startswith("oom_kill ") and int(line.split()[1]) > 0 for line in events.splitlines())
        else:
            usage = self._read("cpuacct", "cpuacct.usage")
            cpu = int(usage) / 1e9 if usage else None
            peak = self._read("memory", "memory.max_usage_in_bytes")
            control = self._read("memory", "memory.oom_control") or ""
            oom = any(line.startswith("oom_kill ") and int(line.split()[1]) > 0 for line in control.splitlines())
        if peak:
            self._memory = max(self._memory, int(peak))
        self._oom = self._oom or oom
        if self.sandbox_pid is not None:
            self._hwm = max(self._hwm, _vm_hwm(self.sandbox_pid))
        if cpu is not None:
            if self._last is not None and now > self._last[0]:
                self._peak_rate = max(self._peak_rate, (cpu - self._last[1]) / (now - self._last[0]))
            self._last = (now, cpu)
            self._cpu = max(self._cpu, cpu)

    def usage(self) -> Usage:
        """What was read, as ``probe.json`` reports it."""
        return Usage(
            memory_peak_bytes=self._memory,
            memory_limit_bytes=self.memory_limit,
            cpu_seconds=self._cpu,
            cpu_peak_millicores=int(self._peak_rate * 1000),
            oom_killed=self._oom,
            pids_limit=self.pids_limit,
            sandbox_rss_peak_bytes=self._hwm,
        )


def _vm_hwm(pid: int) -> int:
    """A host process's peak resident memory in bytes (``VmHWM``), 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1]) * 1024
