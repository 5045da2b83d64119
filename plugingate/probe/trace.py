"""runsc's own strace of the sandbox, read back: file writes, executions, connections, syscall counts.

runsc logs every traced syscall of the sandboxed processes twice, on entry (``E``) and on exit
(``X``), in its boot log; only exit lines are read, since they carry the result. The sentry decodes
the arguments itself (paths, flags, socket addresses), so what is read here is gVisor's view of the
call, not the program's claim. Only the syscalls in ``TRACED`` are logged, to keep the log bounded for a
program that loops (a fork or allocation bomb).
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from plugingate.probe.observation import Connection, Exec, FileWrite, Source, Trace

# NOTE: every call that creates, changes or removes a file system entry, starts a program or sends
# to an address; ``socket`` is traced only to know whether a later ``connect`` is TCP or UDP.
WRITE_CALLS = {
    "open": (0, 1),
    "openat": (1, 2),
    "creat": (0, None),
    "mkdir": (0, None),
    "mkdirat": (1, None),
    "rmdir": (0, None),
    "unlink": (0, None),
    "unlinkat": (1, None),
    "truncate": (0, None),
    "mknod": (0, None),
    "mknodat": (1, None),
    "chmod": (0, None),
    "fchmodat": (1, None),
    "chown": (0, None),
    "fchownat": (1, None),
}
# NOTE: (index of the new path, index of its directory fd or None) for calls that name a second path.
_TWO_PATH_CALLS = {
    "rename": ((0, None), (1, None)),
    "renameat": ((1, 0), (3, 2)),
    "renameat2": ((1, 0), (3, 2)),
    "link": ((1, None),),
    "linkat": ((3, 2),),
    "symlink": ((1, None),),
    "symlinkat": ((2, 1),),
}
# NOTE: (index of the existing path or target, its dirfd, index of the new link, its dirfd).
_LINK_SOURCES = {
    "link": (0, None, 1, None),
    "linkat": (1, 0, 3, 2),
    "symlink": (0, None, 1, None),
    "symlinkat": (0, None, 2, 1),
}
EXEC_CALLS = ("execve", "execveat")
# NOTE: calls that only a privileged container, or an escape attempt, makes: traced and counted, and
# compared with the declared privileges (PG-PRB-009). A call attempted is reported, allowed or not.
PRIVILEGED_CALLS = (
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "ptrace",
    "bpf",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "userfaultfd",
    "open_by_handle_at",
    "reboot",
    "swapon",
    "syslog",
)
NET_CALLS = ("connect", "sendto", "socket")
TRACED = tuple(
    sorted(
        {*WRITE_CALLS, *_TWO_PATH_CALLS, *EXEC_CALLS, *NET_CALLS, *PRIVILEGED_CALLS, "clone", "clone3", "fork", "vfork"}
    )
)

# NOTE: a bound on the work and memory of reading a trace; a plugin that makes more traced calls than
# this in its probe is reported on the first ones and flagged ``truncated``.
MAX_CALLS = 1_000_000
_LINE = re.compile(r"\] \[\s*(\d+):\s*(\d+)\] \S+ X (\w+)\((.*)$")
_ERRNO = re.compile(r"errno=(\d+)")
_ADDR = re.compile(r"Family: AF_INET6?, Addr: ([0-9a-fA-F.:]+), Port: (\d+)")
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")


def split_args(text: str) -> list[str]:
    """A traced call's arguments, split on the commas that are not inside braces or brackets."""
    out: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if current:
        out.append("".join(current).strip())
    return out


def _path_arg(arg: str) -> str | None:
    """The path runsc printed after the pointer (``0x7f… /etc/x``), or None."""
    _, sep, path = arg.partition(" ")
    return path if sep and path and path != "(null)" else None


def _dir_arg(arg: str | None) -> str:
    """The directory a dirfd names: ``AT_FDCWD /work`` → ``/work``; ``0x5 /etc`` → ``/etc``."""
    if arg is None:
        return "/"
    _, sep, path = arg.partition(" ")
    return path if sep and path.startswith("/") else "/"


def _number(text: str) -> int:
    """A file descriptor as runsc prints it: ``5`` in results, ``0x5`` in arguments (-1 if neither)."""
    try:
        return int(text, 16) if text.startswith("0x") else int(text)
    except ValueError:
        return -1


def _absolute(path: str, directory: str) -> str:
    return posixpath.normpath(path if path.startswith("/") else posixpath.join(directory, path))


@dataclass
class _Reader:
    writes: list[FileWrite] = field(default_factory=list)
    execs: list[Exec] = field(default_factory=list)
    connects: list[Connection] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    sockets: dict[tuple[str, int], str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # link made by the plugin -> what it points at

    def line(self, line: str) -> None:
        match = _LINE.search(line)
        if not match:
            return
        pid, call, rest = match.group(1), match.group(3), match.group(4)
        args_text, _, result = rest.rpartition(") = ")
        if not _:
            return
        self.counts[call] += 1
        errno_match = _ERRNO.search(result)
        errno = int(errno_match.group(1)) if errno_match else None
        args = split_args(args_text)
        if call in WRITE_CALLS:
            self._write(call, args, errno)
        elif call in _TWO_PATH_CALLS:
            for path_at, dir_at in _TWO_PATH_CALLS[call]:
                self._add_write(call, args, path_at, dir_at, errno)
            if call in _LINK_SOURCES and errno is None:
                self._remember_link(call, args)
        elif call in EXEC_CALLS:
            at = 1 if call == "execveat" else 0
            path = _path_arg(args[at]) if len(args) > at else None
            if path is not None:
                self.execs.append(Exec(path=path, errno=errno))
        elif call == "socket":
            fd = _number(result.split(" ", 1)[0])
            self.sockets[(pid, fd)] = "udp" if "SOCK_DGRAM" in args_text else "tcp"
        elif call in ("connect", "sendto"):
            self._connect(pid, call, args, errno)

    def _write(self, call: str, args: list[str], errno: int | None) -> None:
        path_at, flags_at = WRITE_CALLS[call]
        if call in ("open", "openat"):
            if flags_at is None or len(args) <= flags_at or not any(f in args[flags_at] for f in _WRITE_FLAGS):
                return
            self._add_write(call, args, path_at, 0 if call == "openat" else None, errno)
            return
        dir_at = 0 if call.endswith("at") and call != "creat" else None
        self._add_write(call, args, path_at, dir_at, errno)

    def _absolute_arg(self, args: list[str], path_at: int, dir_at: int | None) -> str | None:
        if len(args) <= path_at:
            return None
        path = _path_arg(args[path_at])
        if path is None:
            return None
        return _absolute(path, _dir_arg(args[dir_at] if dir_at is not None and len(args) > dir_at else None))

    def _add_write(self, call: str, args: list[str], path_at: int, dir_at: int | None, errno: int | None) -> None:
        path = self._absolute_arg(args, path_at, dir_at)
        if path is None:
            return
        resolved = self._through_links(path)
        self.writes.append(FileWrite(syscall=call, path=resolved, errno=errno, via=path if resolved != path else None))

    def _remember_link(self, call: str, args: list[str]) -> None:
        """A link the plugin made: writes through it are writes to what it points at."""
        source_at, source_dir, new_at, new_dir = _LINK_SOURCES[call]
        new = self._absolute_arg(args, new_at, new_dir)
        if source_dir is None and call.startswith("symlink"):
            # NOTE: a relative symlink target is relative to the link's own folder.
            target = _path_arg(args[source_at]) if len(args) > source_at else None
            source = None if target is None or new is None else _absolute(target, posixpath.dirname(new))
        else:
            source = self._absolute_arg(args, source_at, source_dir)
        if new is not None and source is not None:
            self.links[new] = source

    def _through_links(self, path: str) -> str:
        """``path`` with the links the plugin made resolved (a few levels: links to links)."""
        for _ in range(8):
            parts = path.split("/")
            for end in range(len(parts), 1, -1):
                prefix = "/".join(parts[:end])
                if prefix in self.links:
                    path = posixpath.normpath(self.links[prefix] + "/" + "/".join(parts[end:]))
                    break
            else:
                return path
        return path

    def _connect(self, pid: str, call: str, args: list[str], errno: int | None) -> None:
        at = 1 if call == "connect" else 4
        if len(args) <= at:
            return
        found = _ADDR.search(args[at])
        if not found:
            return
        fd = _number(args[0].split(" ", 1)[0])
        protocol = self.sockets.get((pid, fd), "tcp" if call == "connect" else "udp")
        result = "ok" if errno is None or errno == 115 else f"errno={errno}"
        self.connects.append(
            Connection(
                source=Source.TRACE,
                address=found.group(1),
                port=int(found.group(2)),
                protocol=protocol,
                result=result,
            )
        )


def read_trace(lines: Iterable[str], *, max_calls: int = MAX_CALLS) -> Trace:
    """The trace of a sandbox from the lines of runsc's boot log; at most ``max_calls`` calls are read."""
    reader = _Reader()
    calls = 0
    truncated = False
    for line in lines:
        if " X " in line:
            calls += 1
            if calls > max_calls:
                truncated = True
                break
            reader.line(line.rstrip("\n"))
    # NOTE: a program that retries sends the same datagram many times: keep each destination once.
    connects = tuple(dict.fromkeys(reader.connects))
    return Trace(
        writes=tuple(dict.fromkeys(reader.writes)),
        execs=tuple(reader.execs),
        connects=connects,
        syscalls=dict(reader.counts),
        truncated=truncated,
    )
