"""The per-user key that authenticates result-cache entries (HMAC-SHA256).

A cache entry's manifest lists its files' digests; that alone stops a torn entry, not a forged one:
whoever can write the cache folder can rewrite a file and its digest together (a grype result with
its matches erased turns a denial into a pass, and the pass gets signed). So every manifest also
carries an HMAC over its content, under a key kept **outside** the cache folder, readable by its
owner only, created on first use. An entry whose MAC does not verify is a miss: the tool runs again.

The key is ``$PLUGINGATE_CACHE_KEY_FILE``, else ``$XDG_CONFIG_HOME/plugingate/cache.key`` (default
``~/.config/plugingate/cache.key``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class CacheKey:
    """The secret and where it was read from."""

    secret: bytes
    path: Path

    def mac(self, message: bytes) -> str:
        """HMAC-SHA256 of ``message``, hex."""
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def verify(self, message: bytes, mac: object) -> bool:
        """Whether ``mac`` is this key's MAC of ``message`` (constant time)."""
        return isinstance(mac, str) and hmac.compare_digest(self.mac(message), mac)


class CacheKeyError(Exception):
    """The key cannot be used safely; the cache is then not used at all (every lookup a miss)."""


def default_key_path(env: Mapping[str, str] | None = None) -> Path:
    """``$PLUGINGATE_CACHE_KEY_FILE``, else ``$XDG_CONFIG_HOME/plugingate/cache.key``."""
    env = os.environ if env is None else env
    if env.get("PLUGINGATE_CACHE_KEY_FILE"):
        return Path(env["PLUGINGATE_CACHE_KEY_FILE"])
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "plugingate" / "cache.key"


def load_or_create_key(path: Path, cache_root: Path) -> CacheKey:
    """The key at ``path``, created (0600) when absent; ``CacheKeyError`` when it is not safe to use.

    Refused: a key inside the cache folder (whoever writes entries could then write the key), a key
    that is not a regular file, not owned by this user, or readable or writable by group or others.
    """
    resolved = path.absolute().resolve()
    root = cache_root.absolute().resolve()
    if resolved == root or root in resolved.parents:
        raise CacheKeyError(f"the cache key {path} is inside the cache folder {cache_root}: keep it outside")
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        # NOTE: another gate created it between our read and our create: use theirs.
        return _read(path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(_KEY_BYTES) + "\n")
    return _read(path)


def _read(path: Path) -> CacheKey:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "r", encoding="ascii", errors="replace") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise CacheKeyError(f"the cache key {path} is not a regular file")
        if info.st_uid != os.getuid():
            raise CacheKeyError(f"the cache key {path} belongs to another user (uid {info.st_uid})")
        if info.st_mode & 0o077:
            raise CacheKeyError(
                f"the cache key {path} has mode {stat.S_IMODE(info.st_mode):04o}: make it 0600 (chmod 600)"
            )
        text = handle.read(4096).strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError as exc:
        raise CacheKeyError(f"the cache key {path} is not hex: delete it to make a new one") from exc
    if len(secret) < 16:
        raise CacheKeyError(f"the cache key {path} is too short: delete it to make a new one")
    return CacheKey(secret=secret, path=path)
