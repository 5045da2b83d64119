"""Nothing from the checkout runs as a tool: every tool is checked against pinned digests before it runs.

A merge request controls the files of its checkout. If the gate ran a ``grype`` it found there (a
tools cache inside the project folder, a ``PATH`` entry, a variable pointing into the work tree),
the merge request would decide its own scan. So, before every run:

1. the tool's path, as given and resolved, must lie outside the git work tree of the current folder
   and outside the bundle (and the work tree that holds it);
2. its sha256 must be one pinned for this platform in ``plugingate/tools/digests.txt`` (shipped in
   the package, one line per ``tool version goos/goarch go-version sha256``: the project's own
   reproducible builds, ``-trimpath``, fixed ``-ldflags``, ``CGO_ENABLED=0``, per Go toolchain), or
   in the file ``$PLUGINGATE_TOOL_PINS`` names: the operator's own pins (the official release
   binaries' digests, or what ``scripts/setup-tools`` recorded when the operator opted in to trust
   on first build with ``PLUGINGATE_TRUST_FIRST_BUILD=1``). That file must lie outside the checkout.

Anything else is ``ToolError`` (exit 3) naming the tool. Hashing is done once per file per process:
the memo is keyed by the file's identity and stat (device, inode, size, mtime, ctime), so a binary
replaced in place is hashed again. Across processes the same memo is kept in
``$PLUGINGATE_CACHE/tool-digests.json``, each entry authenticated with HMAC-SHA256 under the per-user
cache key (``plugingate.cache_auth``, kept outside the cache): whoever can write the cache folder can
plant a binary, but cannot vouch for it there; an entry that does not verify is hashed again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.errors import ToolError

if TYPE_CHECKING:
    from plugingate.cache_auth import CacheKey

PINS_FILE = "digests.txt"
_CHUNK = 1 << 20
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True, slots=True)
class Pin:
    """One approved binary: which tool, version, platform, toolchain, and its sha256."""

    tool: str
    version: str
    platform: str
    go: str
    sha256: str
    source: str


def this_platform() -> str:
    """``goos/goarch`` of this machine (``linux/amd64``)."""
    machine = platform.machine().lower()
    return f"{platform.system().lower()}/{_ARCH.get(machine, machine)}"


def parse_pins(text: str, source: str) -> tuple[Pin, ...]:
    """Pins from ``tool version goos/goarch go-version sha256`` lines (``#`` comments, blank lines)."""
    pins: list[Pin] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        digest = parts[-1].lower().removeprefix("sha256:") if parts else ""
        if len(parts) != 5 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ToolError(
                f"{source}:{number}: not a pin line: {raw.strip()!r}",
                tool="pins",
                hint="each line is: tool version goos/goarch go-version sha256",
            )
        pins.append(Pin(parts[0], parts[1], parts[2], parts[3], digest, f"{source}:{number}"))
    return tuple(pins)


@functools.cache
def packaged_pins() -> tuple[Pin, ...]:
    """The pins shipped with plugingate."""
    text = resources.files("plugingate.tools").joinpath(PINS_FILE).read_text(encoding="utf-8")
    return parse_pins(text, f"plugingate/tools/{PINS_FILE}")


def work_tree_of(path: Path) -> Path | None:
    """The git work tree holding ``path`` (the nearest folder above it with a ``.git``), if any."""
    current = path.absolute()
    for folder in (current, *current.parents):
        if (folder / ".git").exists():
            return folder
    return None


def checkout_roots(cwd: Path | None = None, extra: Iterable[Path] = ()) -> tuple[Path, ...]:
    """Folders no tool may come from: the current folder's work tree, each ``extra`` path and its work tree."""
    roots: list[Path] = []
    for path in (cwd or Path.cwd(), *extra):
        tree = work_tree_of(path)
        if tree is not None:
            roots.append(tree)
        if path is not cwd and path.exists():
            roots.append(path.absolute())
    return tuple(dict.fromkeys(r for candidate in roots for r in (candidate, candidate.resolve())))


def inside(path: Path, roots: Iterable[Path]) -> Path | None:
    """The first root that holds ``path`` as given or resolved (symlinks followed), else None."""
    for candidate in (path.absolute(), path.resolve()):
        for root in roots:
            if candidate == root or root in candidate.parents:
                return root
    return None


_MEMO: dict[tuple[str, int, int, int, int, int], str] = {}
_MEMO_LOCK = threading.Lock()


def sha256_of(path: Path, memo_file: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """The file's sha256, hashed once per process while its stat is unchanged (and across processes
    when ``memo_file`` names the authenticated memo)."""
    resolved = path.resolve()
    info = resolved.stat()
    key = (str(resolved), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    with _MEMO_LOCK:
        known = _MEMO.get(key)
    if known is not None:
        return known
    text_key = "|".join(map(str, key))
    secret = _memo_key(memo_file, env) if memo_file is not None else None
    stored = _read_memo(memo_file).get(text_key) if memo_file is not None and secret is not None else None
    if isinstance(stored, dict) and secret is not None:
        value = stored.get("sha256")
        if isinstance(value, str) and secret.verify(f"{text_key}|{value}".encode(), stored.get("mac")):
            with _MEMO_LOCK:
                _MEMO[key] = value
            return value
    digest = hashlib.sha256()
    with resolved.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    with _MEMO_LOCK:
        _MEMO[key] = value
    if memo_file is not None and secret is not None:
        _write_memo(memo_file, text_key, {"sha256": value, "mac": secret.mac(f"{text_key}|{value}".encode())})
    return value


def _memo_key(memo_file: Path, env: Mapping[str, str] | None) -> CacheKey | None:
    from plugingate.cache_auth import CacheKeyError, default_key_path, load_or_create_key

    try:
        return load_or_create_key(default_key_path(env), memo_file.parent)
    except (CacheKeyError, OSError):
        return None


def _read_memo(memo_file: Path) -> dict[str, object]:
    try:
        doc = json.loads(memo_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _write_memo(memo_file: Path, text_key: str, entry: dict[str, str]) -> None:
    # NOTE: best effort: a memo that cannot be written only costs a hash next time.
    with contextlib.suppress(OSError):
        memo = _read_memo(memo_file)
        memo[text_key] = entry
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=memo_file.parent, prefix=".tool-digests.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(dict(list(memo.items())[-64:]), handle)
        Path(tmp).replace(memo_file)


def operator_pins(env: Mapping[str, str], roots: tuple[Path, ...]) -> tuple[Pin, ...]:
    """The pins in ``$PLUGINGATE_TOOL_PINS``; a file inside the checkout is refused (exit 3)."""
    named = env.get("PLUGINGATE_TOOL_PINS")
    if not named:
        return ()
    path = Path(named)
    holder = inside(path, roots)
    if holder is not None:
        raise ToolError(
            f"PLUGINGATE_TOOL_PINS={named} is inside the checkout {holder}: pins must come from outside it",
            tool="pins",
            hint="keep the operator's pins where the merge request cannot write (e.g. ~/.config/plugingate/)",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ToolError(f"PLUGINGATE_TOOL_PINS={named} cannot be read: {exc}", tool="pins") from exc
    return parse_pins(text, named)


def verify_tool(
    tool: str, path: Path, env: Mapping[str, str], roots: tuple[Path, ...], *, memo_file: Path | None = None
) -> Pin:
    """The pin ``path`` matches; ``ToolError`` (exit 3) naming ``tool`` when it is in the checkout or unpinned."""
    holder = inside(path, roots)
    if holder is not None:
        raise ToolError(
            f"{tool} at {path} is inside the checkout {holder}: a tool is never run from the files under review",
            tool=tool,
            hint="run scripts/setup-tools, which builds the pinned tools into ~/.cache/plugingate, outside any "
            "checkout; do not point PLUGINGATE_" + tool.upper().replace("-", "_") + " or PATH into the work tree",
        )
    try:
        digest = sha256_of(path, memo_file, env)
    except OSError as exc:
        raise ToolError(f"{tool} at {path} cannot be read to check its digest: {exc}", tool=tool) from exc
    here = this_platform()
    pins = (*packaged_pins(), *operator_pins(env, roots))
    for pin in pins:
        if pin.tool == tool and pin.sha256 == digest and pin.platform == here:
            return pin
    known = [f"{p.version} {p.go} sha256:{p.sha256}" for p in pins if p.tool == tool and p.platform == here]
    raise ToolError(
        f"{tool} at {path} has sha256:{digest}, which is not a pinned {tool} for {here}"
        + (f" (pinned: {'; '.join(known)})" if known else " (no pin for this platform)"),
        tool=tool,
        hint="rebuild it with scripts/setup-tools (reproducible builds are pinned per Go version); with another "
        "Go toolchain, opt in to trust on first build (PLUGINGATE_TRUST_FIRST_BUILD=1 scripts/setup-tools) or "
        "name your own pins file in PLUGINGATE_TOOL_PINS (see docs/threat-model.md)",
    )


def roots_for(extra: Iterable[Path] = ()) -> tuple[Path, ...]:
    """The checkout roots for this process: cwd's work tree, plus ``extra`` (the bundle) and its work tree."""
    return checkout_roots(Path.cwd(), extra)


def main(argv: list[str] | None = None) -> int:
    """``python -m plugingate.tools.verify FILE MEMO``: FILE's sha256 through the authenticated memo.

    scripts/setup-tools checks every tool on every run; through the memo (the one the gate keeps) an
    unchanged binary is not hashed again.
    """
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m plugingate.tools.verify FILE MEMO", file=sys.stderr)
        return 2
    try:
        print(sha256_of(Path(args[0]), Path(args[1])))
    except OSError as exc:
        print(f"cannot hash {args[0]}: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
