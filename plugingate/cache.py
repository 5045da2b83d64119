"""A result cache for the tools' outputs, shared safely between concurrent gates.

The SBOM step stores syft's output under a key made of the bundle digest and syft's version (and
the images' digests); the scan step stores grype's output under the SBOM's digest, grype's version,
the database's build time and the policy digest. Because the SBOM of a cache hit is byte-for-byte
the one stored, an unchanged re-gate hits both entries and runs neither tool. Only tool outputs are
cached: the policy is applied again on every run (an exception may have expired since).

Entries are written into a private folder, then renamed into place (atomic on one file system), under
an exclusive lock; each entry carries a manifest of its files' digests, checked on every read, so a
torn entry is a miss, never a wrong answer. The manifest is authenticated with HMAC-SHA256 under a
per-user key kept outside the cache folder (``plugingate.cache_auth``): an entry someone rewrote,
digests included, is a miss too, so the tool runs again and a forged result is never signed. When
the key cannot be used safely the cache is off (``problem`` says why).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from plugingate.bundle.digest import sha256_file
from plugingate.cache_auth import CacheKey, CacheKeyError, default_key_path, load_or_create_key

# NOTE: format 2 added the manifest's MAC; a format-1 entry has a different key, so it is never read.
_FORMAT = 2
_MANIFEST = "manifest.json"


def cache_key(kind: str, parts: Mapping[str, object]) -> str:
    """A stable key: the sha256 of the kind and its parts as canonical JSON."""
    doc = json.dumps({"format": _FORMAT, "kind": kind, **parts}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(doc.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A stored entry: its files by name, and the small metadata stored with them."""

    key: str
    files: Mapping[str, Path]
    meta: Mapping[str, object]


class ResultCache:
    """A folder of entries keyed by ``cache_key``; ``enabled=False`` makes every lookup a miss."""

    def __init__(self, root: Path, *, enabled: bool = True, key_file: Path | None = None) -> None:
        self.root = root
        self.enabled = enabled
        self.key_file = key_file or default_key_path()
        self.problem: str | None = None
        self._key: CacheKey | None = None

    def _secret(self) -> CacheKey | None:
        """The MAC key (read or created once); None, and the cache off, when it cannot be used safely."""
        if self._key is None and self.problem is None:
            try:
                self._key = load_or_create_key(self.key_file, self.root)
            except (CacheKeyError, OSError) as exc:
                self.problem = f"result cache not used: {exc}"
        return self._key

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None, *, enabled: bool = True) -> ResultCache:
        """``$PLUGINGATE_RESULT_CACHE``, else the per-user cache (``$PLUGINGATE_CACHE/results``)."""
        from plugingate.tools.locate import default_cache_dir

        env = os.environ if env is None else env
        key_file = default_key_path(env)
        if env.get("PLUGINGATE_RESULT_CACHE"):
            return cls(Path(env["PLUGINGATE_RESULT_CACHE"]), enabled=enabled, key_file=key_file)
        return cls(default_cache_dir(env) / "results", enabled=enabled, key_file=key_file)

    def _entry_dir(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / key[:2] / key

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def get(self, key: str) -> CacheEntry | None:
        """The entry stored under ``key`` when it is complete and intact, else None."""
        if not self.enabled:
            return None
        secret = self._secret()
        if secret is None:
            return None
        entry = self._entry_dir(key)
        try:
            manifest = json.loads((entry / _MANIFEST).read_text(encoding="utf-8"))
            files = manifest["files"]
            meta = manifest.get("meta", {})
            if manifest.get("key") != key or not isinstance(files, dict) or not isinstance(meta, dict):
                raise ValueError("bad manifest")
            if not secret.verify(_signed_part(key, files, meta), manifest.get("mac")):
                raise ValueError("the manifest's MAC does not verify")
            paths: dict[str, Path] = {}
            for name, digest in files.items():
                path = entry / Path(name).name
                if sha256_file(path) != digest:
                    raise ValueError(f"{name} does not match its digest")
                paths[name] = path
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return CacheEntry(key=key, files=paths, meta=meta)

    def put(self, key: str, files: Mapping[str, Path], meta: Mapping[str, object] | None = None) -> None:
        """Store copies of ``files`` under ``key``; a concurrent writer of the same key wins harmlessly."""
        if not self.enabled:
            return
        secret = self._secret()
        if secret is None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            digests: dict[str, str] = {}
            for name, source in files.items():
                target = staging / Path(name).name
                shutil.copyfile(source, target)
                digests[Path(name).name] = sha256_file(target)
            stored_meta = dict(meta or {})
            manifest = {
                "key": key,
                "files": digests,
                "meta": stored_meta,
                "mac": secret.mac(_signed_part(key, digests, stored_meta)),
            }
            (staging / _MANIFEST).write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
            entry = self._entry_dir(key)
            with self._locked():
                entry.parent.mkdir(parents=True, exist_ok=True)
                if self.get(key) is not None:
                    return
                if entry.exists():
                    # NOTE: a damaged entry (its manifest failed above): move it aside, then replace it.
                    trash = Path(tempfile.mkdtemp(prefix=".trash-", dir=self.root))
                    entry.rename(trash / "entry")
                    shutil.rmtree(trash, ignore_errors=True)
                staging.rename(entry)
                _fsync_dir(entry.parent)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def restore(self, entry: CacheEntry, out_dir: Path, names: Mapping[str, str]) -> dict[str, Path]:
        """Copy ``entry``'s files into ``out_dir`` (``names``: stored name -> output name), atomically."""
        out_dir.mkdir(parents=True, exist_ok=True)
        restored: dict[str, Path] = {}
        for stored, output in names.items():
            source = entry.files[stored]
            target = out_dir / output
            fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{output}.")
            os.close(fd)
            shutil.copyfile(source, tmp)
            Path(tmp).replace(target)
            restored[stored] = target
        return restored


def _signed_part(key: str, files: Mapping[str, object], meta: Mapping[str, object]) -> bytes:
    """What the MAC covers: the key, every file's digest and the metadata, as canonical JSON."""
    doc = {"format": _FORMAT, "key": key, "files": dict(files), "meta": dict(meta)}
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
