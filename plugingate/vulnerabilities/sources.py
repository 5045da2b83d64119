"""Where the vulnerability database comes from: grype's upstream, a mirrored archive, or a local build.

Each source is chosen explicitly and none falls back to another: a gate that silently scanned with
other data than the platform chose (the test database, an old copy) would pass plugins for want of
advisories. Every database provisioned here is imported with ``grype db import`` into its own
folder under ``<cache>/grype-db/``, marked with where it came from (``plugingate-source.json``,
read back by ``database.read_database_info``), and made ``current`` only once it is complete.

``build`` turns the Go vulnerability database (the ``golang.org/x/vulndb`` module, downloaded
through the Go module proxy and so checked against the Go checksum database) into grype advisories
with the project's builder over grype's own ``db.Build`` (``tools/grypedb-build``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from plugingate.bundle.digest import sha256_file
from plugingate.errors import InputError, ToolError, UndecidedError
from plugingate.tools import Tool, ToolRunner
from plugingate.tools.locate import default_cache_dir, tools_dir
from plugingate.tools.runner import SAFE_PATH, last_lines
from plugingate.vulnerabilities.database import SOURCE_FILE, DatabaseInfo, DatabaseSource, read_database_info

VULNDB_MODULE = "golang.org/x/vulndb"
_VERSIONS_FILE = Path(__file__).resolve().parents[2] / "tools" / "versions.env"
# NOTE: the pin, when plugingate runs from an installed wheel without tools/versions.env beside it.
_PINNED_VULNDB = "v0.0.0-20261105234957-e22db6528018"
_BUILD_TIMEOUT = 1800.0


@dataclass(frozen=True, slots=True)
class Provisioned:
    """A database ready to scan with: its folder (``GRYPE_DB_CACHE_DIR``) and what it holds."""

    cache_dir: Path
    info: DatabaseInfo
    reused: bool


def pinned_vulndb_version() -> str:
    """The ``golang.org/x/vulndb`` version pinned in ``tools/versions.env`` (or the packaged pin)."""
    try:
        for line in _VERSIONS_FILE.read_text(encoding="utf-8").splitlines():
            if line.startswith("VULNDB_VERSION="):
                return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return _PINNED_VULNDB


def db_root(env: Mapping[str, str]) -> Path:
    """``<cache>/grype-db``: one folder per provisioned database, and ``current``."""
    return default_cache_dir(env) / "grype-db"


def build_go_vulndb(
    runner: ToolRunner,
    *,
    version: str,
    extra_providers: Sequence[Path] = (),
    env: Mapping[str, str] | None = None,
) -> Provisioned:
    """Build (or reuse) the database of ``golang.org/x/vulndb@version`` plus ``extra_providers``.

    ``UndecidedError``/``ToolError`` (exit 3) when Go, the module, the builder or grype fail.
    """
    env = os.environ if env is None else env
    module_dir, module_time = download_module(f"{VULNDB_MODULE}@{version}", env)
    builder = _locate_builder(env)
    grype_version = runner.info(Tool.GRYPE).version
    key_parts = [version, grype_version, sha256_file(builder)]
    for workspace in extra_providers:
        for metadata in sorted(workspace.glob("*/metadata.json")):
            key_parts.append(sha256_file(metadata))
    key = hashlib.sha256("\n".join(key_parts).encode()).hexdigest()[:16]
    marker = {
        "kind": str(DatabaseSource.BUILD),
        "source": f"built from {VULNDB_MODULE}@{version}" + "".join(f" + {p}" for p in extra_providers),
        "key": key,
        "vulndb": version,
        "vulndbTime": module_time,
        "grype": grype_version,
    }
    dest = db_root(env) / f"build-{key}"
    if _complete(dest):
        return Provisioned(dest, read_database_info(dest), reused=True)
    with _staging(db_root(env)) as tmp:
        args = [str(builder), "-govulndb", str(module_dir), "-govulndb-time", module_time, "-out", str(tmp / "raw")]
        for workspace in extra_providers:
            args += ["-providers", str(workspace)]
        _run_builder(args)
        _grype_import(runner, tmp / "raw" / "vulnerability.db", tmp / "import")
        return _install(tmp / "import", dest, marker)


def import_archive(runner: ToolRunner, archive: Path, sha256: str, env: Mapping[str, str] | None = None) -> Provisioned:
    """Verify ``archive`` against ``sha256`` (hex, or ``sha256:hex``), then ``grype db import`` it.

    A mismatch is ``UndecidedError`` (exit 3): an air-gapped mirror that handed over other bytes
    than the platform recorded is not a database to decide with.
    """
    env = os.environ if env is None else env
    expected = sha256.removeprefix("sha256:").lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise InputError(f"--sha256 {sha256!r} is not a sha256 digest (64 hex digits)", field="--sha256")
    if not archive.is_file():
        raise InputError(f"no database archive at {archive}", path=str(archive))
    actual = sha256_file(archive)
    if actual != expected:
        raise UndecidedError(
            f"the database archive {archive} has sha256 {actual}, not the expected {expected}",
            hint="fetch the archive again from the mirror, and check the checksum the platform published",
        )
    dest = db_root(env) / f"import-{expected[:16]}"
    if _complete(dest):
        return Provisioned(dest, read_database_info(dest), reused=True)
    marker = {"kind": str(DatabaseSource.IMPORT), "source": f"imported {archive.name}", "key": expected[:16]}
    with _staging(db_root(env)) as tmp:
        _grype_import(runner, archive.absolute(), tmp / "import")
        return _install(tmp / "import", dest, marker)


def update_upstream(runner: ToolRunner, env: Mapping[str, str] | None = None) -> Provisioned:
    """``grype db update`` into its own folder: grype's listing, or ``GRYPE_DB_UPDATE_URL``'s.

    grype verifies the archive's checksum from the listing itself; any failure (unreachable,
    corrupt, wrong checksum) is ``UndecidedError`` (exit 3), never another source.
    """
    env = os.environ if env is None else env
    url = env.get("GRYPE_DB_UPDATE_URL", "")
    dest = db_root(env) / "upstream"
    with _staging(db_root(env)) as tmp:
        target = tmp / "import"
        target.mkdir()
        tool_env = {"GRYPE_DB_CACHE_DIR": str(target), "GRYPE_DB_AUTO_UPDATE": "true"}
        if url:
            tool_env["GRYPE_DB_UPDATE_URL"] = url
        run = runner.run(Tool.GRYPE, ["db", "update"], env=tool_env, timeout=_BUILD_TIMEOUT)
        if run.returncode != 0:
            raise UndecidedError(
                f"grype could not update its database from {url or 'its default listing'}: {last_lines(run.stderr)}",
                hint="check the network or the mirror (GRYPE_DB_UPDATE_URL), or choose another source explicitly: "
                "`plugingate db import FILE --sha256 HEX` or `plugingate db build`",
            )
        marker = {"kind": str(DatabaseSource.UPSTREAM), "source": f"grype db update {url}".strip()}
        # NOTE: grype writes <dir>/6/…; an older upstream copy is replaced only by a complete new one.
        return _install(target, dest, marker, replace=True)


def make_current(provisioned: Provisioned, env: Mapping[str, str] | None = None) -> None:
    """Point ``<cache>/grype-db/current`` at ``provisioned`` (atomically), the gate's default."""
    env = os.environ if env is None else env
    root = db_root(env)
    link = root / ".current.tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(provisioned.cache_dir.name)
    link.replace(root / "current")


def download_module(module: str, env: Mapping[str, str]) -> tuple[Path, str]:
    """``go mod download`` (checked against the Go checksum database): the module's folder and time."""
    search = f"{env.get('PATH', SAFE_PATH)}:/usr/local/go/bin"
    go = shutil.which("go", path=search)
    if go is None:
        raise ToolError(
            f"Go is needed to download {module} (the Go vulnerability database)",
            tool="go",
            hint="install Go, or import a database built elsewhere: plugingate db import FILE --sha256 HEX",
        )
    go_env = {k: v for k, v in env.items() if k.startswith("GO") or k in ("HOME", "PATH")}
    go_env.setdefault("HOME", str(Path.home()))
    # NOTE: each of these would let the module skip the Go checksum database: cleared.
    for skip in ("GONOSUMDB", "GOPRIVATE", "GOINSECURE", "GOFLAGS"):
        go_env.pop(skip, None)
    go_env["GOFLAGS"] = "-mod=mod"
    if go_env.get("GOSUMDB") == "off":
        raise UndecidedError(
            f"GOSUMDB=off: {module} could not be checked against the Go checksum database",
            hint="unset GOSUMDB (or point it at a checksum database mirror)",
        )
    try:
        proc = subprocess.run(
            [go, "mod", "download", "-json", module],
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT,
            env=go_env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise UndecidedError(f"go mod download {module} took longer than {_BUILD_TIMEOUT:.0f} s") from exc
    try:
        info = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except ValueError:
        info = {}
    if proc.returncode != 0 or not isinstance(info, dict) or info.get("Error") or not info.get("Dir"):
        reason = (info.get("Error") if isinstance(info, dict) else None) or last_lines(proc.stderr)
        raise UndecidedError(
            f"could not download {module} through the Go module proxy: {reason}",
            hint="check GOPROXY and the network; the version is pinned in tools/versions.env (VULNDB_VERSION)",
        )
    when = ""
    try:
        meta = json.loads(Path(str(info["Info"])).read_text(encoding="utf-8"))
        when = str(meta.get("Time", ""))
    except (OSError, ValueError, KeyError):
        pass
    if not when:
        raise UndecidedError(f"go mod download {module} gave no version time: cannot date the data")
    return Path(str(info["Dir"])), when


def _locate_builder(env: Mapping[str, str]) -> Path:
    explicit = env.get("PLUGINGATE_GRYPEDB_BUILD")
    candidate = Path(explicit) if explicit else tools_dir(env) / "grypedb-build"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate.absolute()
    raise ToolError(
        f"the database builder grypedb-build was not found at {candidate}",
        tool="grypedb-build",
        hint="run scripts/setup-tools (it builds tools/grypedb-build), or set PLUGINGATE_GRYPEDB_BUILD",
    )


def _run_builder(args: list[str]) -> None:
    try:
        proc = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT,
            env={"PATH": SAFE_PATH, "HOME": tempfile.gettempdir(), "TMPDIR": tempfile.gettempdir()},
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise UndecidedError(f"grypedb-build took longer than {_BUILD_TIMEOUT:.0f} s") from exc
    if proc.returncode != 0:
        raise ToolError(
            f"grypedb-build failed (exit {proc.returncode}): {last_lines(proc.stderr)}",
            tool="grypedb-build",
            stderr=proc.stderr,
        )


def _grype_import(runner: ToolRunner, db_file: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    run = runner.run(Tool.GRYPE, ["db", "import", str(db_file)], env={"GRYPE_DB_CACHE_DIR": str(target)})
    run.check(f"importing {db_file.name}")


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in ("6/vulnerability.db", "6/import.json", SOURCE_FILE))


@contextmanager
def _staging(root: Path) -> Iterator[Path]:
    """A temporary folder beside the databases (same file system: the final move is a rename)."""
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _install(imported: Path, dest: Path, marker: dict[str, str], *, replace: bool = False) -> Provisioned:
    (imported / SOURCE_FILE).write_text(json.dumps(marker, sort_keys=True) + "\n", encoding="utf-8")
    read_database_info(imported)  # NOTE: refuse to install what grype could not read either
    if dest.exists():
        if not replace and _complete(dest):
            return Provisioned(dest, read_database_info(dest), reused=True)
        old = dest.with_name(f".old-{dest.name}-{os.getpid()}")
        dest.rename(old)
        imported.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        imported.rename(dest)
    return Provisioned(dest, read_database_info(dest), reused=False)
