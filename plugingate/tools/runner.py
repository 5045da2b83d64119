"""One way to run an external tool: no shell, a timeout, a scrubbed environment, a private folder.

Each run gets a fresh working folder with its own HOME, XDG folders and TMPDIR, outside any bundle,
and an environment built from scratch (a fixed PATH, the tool's own explicit settings, and nothing
inherited that could change what it does). The caller hands the tool its configuration explicitly.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from plugingate.errors import ToolError
from plugingate.files import FileTooLargeError, UnreadableFileError, read_bounded, read_tail
from plugingate.tools.buildinfo import main_module_version
from plugingate.tools.locate import Helper, Tool, ToolInfo, default_cache_dir, locate
from plugingate.tools.verify import roots_for, verify_tool

SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_TIMEOUT = 600.0
_STDERR_TAIL = 64 * 1024
_VERSION_TIMEOUT = 30.0

# NOTE: settings every run of a tool gets, whatever the caller passes: no update checks (no
# network, and no nagging on stderr), no telemetry-like behaviour.
_TOOL_ENV: Mapping[Tool | Helper, Mapping[str, str]] = {
    Tool.SYFT: {"SYFT_CHECK_FOR_APP_UPDATE": "false"},
    Tool.GRYPE: {
        "GRYPE_CHECK_FOR_APP_UPDATE": "false",
        "GRYPE_DB_AUTO_UPDATE": "false",
        "GRYPE_DB_REQUIRE_UPDATE_CHECK": "false",
        # NOTE: plugingate checks the database's age itself against the policy's maxDatabaseAge.
        "GRYPE_DB_VALIDATE_AGE": "false",
    },
    Tool.COSIGN: {"COSIGN_EXPERIMENTAL": "0", "TUF_ROOT": ""},
}


@dataclass(frozen=True, slots=True)
class ToolRun:
    """What one run of a tool did."""

    tool: Tool | Helper
    version: str
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: str
    seconds: float
    max_rss_kib: int

    def check(self, what: str) -> ToolRun:
        """This run, or ``ToolError`` (exit 3) when the tool exited non-zero."""
        if self.returncode != 0:
            raise ToolError(
                f"{self.tool} {self.version} failed while {what} (exit {self.returncode}): {last_lines(self.stderr)}",
                tool=str(self.tool),
                stderr=self.stderr,
                hint=f"run `plugingate doctor` to check {self.tool} and the vulnerability database",
            )
        return self


# NOTE: tools run in their own sessions (a Ctrl-C in the terminal does not reach them), so the gate
# stops them itself when it is interrupted while a worker thread waits for one.
_LIVE: set[int] = set()
_LIVE_LOCK = threading.Lock()
# NOTE: how many times the tools were stopped. A tool being started while they are stopped is not in
# _LIVE yet; its thread sees the count change when it registers the tool, and kills it then.
_STOPS = 0


def stop_running_tools() -> None:
    """Kill every tool process group still running (on Ctrl-C, SIGTERM or an error in another step)."""
    global _STOPS
    with _LIVE_LOCK:
        _STOPS += 1
        pids = list(_LIVE)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def last_lines(text: str, count: int = 3) -> str:
    """The last non-empty lines of a tool's stderr, for a one-line message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "(no message on stderr)"


@dataclass(slots=True)
class ToolRunner:
    """Runs syft, grype and cosign in isolation; finds them once and remembers their versions.

    ``env`` is where tools are looked up (``PLUGINGATE_SYFT``…, ``PLUGINGATE_TOOLS_DIR``, ``PATH``);
    it is never passed to a tool. ``work_root`` holds the runs' private folders (default: the system
    temporary folder). A runner is safe to share between threads.
    """

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    timeout: float = DEFAULT_TIMEOUT
    work_root: Path | None = None
    # NOTE: paths no tool may come from besides the current folder's work tree: the bundle.
    forbidden: tuple[Path, ...] = ()
    _infos: dict[Tool | Helper, ToolInfo] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def info(self, tool: Tool | Helper) -> ToolInfo:
        """Where ``tool`` is and its version; ``ToolError`` (exit 3) when it is missing or broken."""
        with self._lock:
            known = self._infos.get(tool)
        if known is not None:
            return known
        path, found_by = locate(tool, self.env)
        # NOTE: before the first run of the binary, even its `version` run.
        self._verify(tool, path)
        info = ToolInfo(tool=tool, path=path, found_by=found_by, version=self._version(tool, path))
        with self._lock:
            self._infos[tool] = info
        return info

    def run(
        self,
        tool: Tool | Helper,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        files: Mapping[str, str] | None = None,
        stdout_limit: int = 64 * 1024 * 1024,
        background: bool = False,
        memory_limit: int | None = None,
    ) -> ToolRun:
        """Run ``tool args`` in a fresh private folder and wait for it, at most ``timeout`` seconds.

        ``files`` are written into the private folder first (``{"grype.yaml": "..."}``); ``{work}`` in
        an argument or an ``env`` value is replaced by that folder's path, so configuration files can
        be named explicitly. A timeout raises ``ToolError``; a non-zero exit does not (see ``ToolRun.check``).
        A ``background`` run (work off the critical path, beside another tool) runs at a lower CPU
        priority, so that on a busy machine the tool it runs beside is not slowed down. ``memory_limit``
        caps the tool's address space (bytes; ``prlimit --as``): a run of hostile input (a Helm chart)
        fails instead of exhausting the machine.
        """
        info = self.info(tool)
        # NOTE: before every run: a binary swapped since the last one is hashed again (stat-keyed memo).
        self._verify(tool, info.path)
        return self._run(
            info,
            args,
            env=env,
            timeout=timeout,
            files=files,
            stdout_limit=stdout_limit,
            background=background,
            memory_limit=memory_limit,
        )

    def _run(
        self,
        info: ToolInfo,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None,
        timeout: float | None,
        files: Mapping[str, str] | None,
        stdout_limit: int,
        background: bool = False,
        memory_limit: int | None = None,
    ) -> ToolRun:
        limit = self.timeout if timeout is None else timeout
        if self.work_root is not None:
            self.work_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"plugingate-{info.tool}-", dir=self.work_root))
        try:
            home = work / "home"
            for sub in (home / ".config", home / ".cache", work / "tmp", work / "xdg"):
                sub.mkdir(parents=True)
            for name, content in (files or {}).items():
                target = work / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8")
            run_env = {
                "PATH": SAFE_PATH,
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_CACHE_HOME": str(home / ".cache"),
                "XDG_CONFIG_DIRS": str(work / "xdg"),
                "TMPDIR": str(work / "tmp"),
                "LANG": "C.UTF-8",
                "TZ": "UTC",
                "NO_COLOR": "1",
            }
            # NOTE: ``{work}`` in a setting is the private folder too (Helm's homes live there).
            run_env.update({name: value.replace("{work}", str(work)) for name, value in (env or {}).items()})
            run_env.update(_TOOL_ENV.get(info.tool, {}))
            argv = (str(info.path), *(a.replace("{work}", str(work)) for a in args))
            if memory_limit is not None:
                argv = (*_address_space_limit(info, memory_limit), *argv)
            return self._spawn(info, argv, work, run_env, limit, stdout_limit, background=background)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _spawn(
        self,
        info: ToolInfo,
        argv: tuple[str, ...],
        work: Path,
        env: dict[str, str],
        limit: float,
        stdout_limit: int,
        *,
        background: bool = False,
    ) -> ToolRun:
        import subprocess

        out_path, err_path = work / "stdout", work / "stderr"
        timed_out = threading.Event()
        started = time.monotonic()
        with out_path.open("wb") as out, err_path.open("wb") as err:
            with _LIVE_LOCK:
                stops = _STOPS
            try:
                proc = subprocess.Popen(
                    (*_lower_priority(), *argv) if background else argv,
                    cwd=work,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as exc:
                raise ToolError(
                    f"{info.tool} at {info.path} could not be started: {exc}",
                    tool=str(info.tool),
                    hint=f"run scripts/setup-tools, or point {info.tool.env_var} at a working binary",
                ) from exc

            def kill() -> None:
                timed_out.set()
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)

            timer = threading.Timer(limit, kill)
            timer.start()
            with _LIVE_LOCK:
                _LIVE.add(proc.pid)
                missed = stops != _STOPS
            if missed:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            try:
                # NOTE: wait4 rather than Popen.wait: it returns this child's own peak memory.
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
                with _LIVE_LOCK:
                    _LIVE.discard(proc.pid)
            proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        stderr = read_tail(err_path, _STDERR_TAIL)
        if timed_out.is_set():
            raise ToolError(
                f"{info.tool} {info.version} did not finish within {limit:g} s and was stopped",
                tool=str(info.tool),
                stderr=stderr,
                hint="a very large bundle or image can take longer: raise the timeout, or check the machine's load",
            )
        try:
            stdout = read_bounded(out_path, stdout_limit, f"{info.tool}'s stdout")
        except FileTooLargeError as exc:
            raise ToolError(
                f"{info.tool} wrote more than the {stdout_limit} bytes allowed on stdout",
                tool=str(info.tool),
                stderr=stderr,
            ) from exc
        except UnreadableFileError as exc:
            raise ToolError(f"{info.tool}'s stdout could not be read back: {exc.reason}", tool=str(info.tool)) from exc
        return ToolRun(
            tool=info.tool,
            version=info.version,
            argv=argv,
            returncode=proc.returncode,
            stdout=stdout,
            stderr=stderr,
            seconds=seconds,
            max_rss_kib=int(usage.ru_maxrss),
        )

    def _verify(self, tool: Tool | Helper, path: Path) -> None:
        """``ToolError`` (exit 3) unless ``path`` is outside the checkout and a pinned binary."""
        memo = default_cache_dir(self.env) / "tool-digests.json"
        verify_tool(str(tool), path, self.env, roots_for(self.forbidden), memo_file=memo)

    def _version(self, tool: Tool | Helper, path: Path) -> str:
        """The version ``path`` reports, remembered per binary (path, size, mtime) across runs."""
        try:
            stat = path.stat()
        except OSError as exc:
            raise ToolError(f"{tool} at {path} cannot be read: {exc}", tool=str(tool)) from exc
        memo_key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        memo_path = default_cache_dir(self.env) / "tool-versions.json"
        memo = _read_memo(memo_path)
        if isinstance(memo.get(memo_key), str):
            return str(memo[memo_key])
        info = ToolInfo(tool=tool, path=path, found_by="", version="unknown")
        args: tuple[str, ...] = ("version", "-o", "json")
        if tool is Tool.COSIGN:
            args = ("version", "--json")
        elif tool is Helper.HELM:
            args = ("version", "--template", '{"version": "{{.Version}}"}')
        run = self._run(info, args, env=None, timeout=_VERSION_TIMEOUT, files=None, stdout_limit=1 << 20)
        if run.returncode != 0:
            raise ToolError(
                f"{tool} at {path} does not run: `{tool} version` exited {run.returncode}: {last_lines(run.stderr)}",
                tool=str(tool),
                stderr=run.stderr,
                hint=f"run scripts/setup-tools, or point {tool.env_var} at a working {tool}",
            )
        version = _parse_version(run.stdout)
        if version is None:
            built = main_module_version(path)
            version = built.removeprefix("v") if built else "unknown"
        memo[memo_key] = version
        _write_memo(memo_path, memo)
        return version


def _address_space_limit(info: ToolInfo, limit: int) -> tuple[str, ...]:
    """``prlimit --as=LIMIT --``, which execs the tool under that limit; ``ToolError`` without prlimit.

    NOTE: fail closed: a caller asks for a limit because the input is hostile, so no limit, no run.
    """
    prlimit = shutil.which("prlimit", path=SAFE_PATH)
    if prlimit is None:
        raise ToolError(
            f"{info.tool} must run with a memory limit, and prlimit is not installed",
            tool=str(info.tool),
            hint="install util-linux (it provides prlimit)",
        )
    return (prlimit, f"--as={limit}", "--")


@functools.cache
def _lower_priority() -> tuple[str, ...]:
    """``nice -n 10``, which execs the tool (same process, so its timeout and memory are still its own).

    NOTE: Python cannot lower a child's priority before exec without ``preexec_fn``, which is unsafe
    with threads; without ``nice`` on the PATH the tool runs at normal priority.
    """
    nice = shutil.which("nice", path=SAFE_PATH)
    return (nice, "-n", "10") if nice else ()


def _parse_version(stdout: bytes) -> str | None:
    try:
        doc = json.loads(stdout)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    value = doc.get("version") or doc.get("gitVersion")
    if not isinstance(value, str) or not value or "not provided" in value or value == "devel":
        return None
    return value.removeprefix("v")


def _read_memo(path: Path) -> dict[str, object]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _write_memo(path: Path, memo: dict[str, object]) -> None:
    # NOTE: best effort: a read-only cache only costs a `version` run next time.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tool-versions.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(dict(list(memo.items())[-64:]), fh)
        Path(tmp).replace(path)
    except OSError:
        pass
