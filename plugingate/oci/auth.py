"""Registry credentials from the standard Docker config file, as docker, cosign and crane read it.

``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``: ``auths`` (``auth`` = base64
``user:password``, or ``username``/``password``, or an ``identitytoken``), and credential helpers
(``credHelpers`` per registry, ``credsStore`` for all) run as ``docker-credential-<name> get``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugingate.errors import InputError
from plugingate.files import UnreadableFileError, read_bounded

_MAX_CONFIG_BYTES = 1024 * 1024
_HELPER_TIMEOUT = 30
_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password, or an identity (refresh) token for the token endpoint."""

    username: str | None = None
    password: str | None = None
    identity_token: str | None = None

    def __repr__(self) -> str:  # NOTE: never print a secret in a traceback or a log
        return f"Credentials(username={self.username!r}, password=***, identity_token=***)"


def docker_config_path() -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``."""
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def _load_config(path: Path) -> dict[str, Any]:
    try:
        data = read_bounded(path, _MAX_CONFIG_BYTES, "the Docker config")
    except UnreadableFileError as exc:
        if isinstance(exc.reason, FileNotFoundError):
            return {}
        raise
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"Docker config is not JSON: {exc}", path=str(path)) from exc
    if not isinstance(doc, dict):
        raise InputError("Docker config must be a JSON object", path=str(path))
    return doc


def _keys_for(registry: str) -> list[str]:
    keys = [registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/", f"https://{registry}/v2/"]
    if registry == "registry-1.docker.io":
        keys = list(_HUB_KEYS) + keys
    return keys


def lookup_credentials(registry: str, config_path: Path | None = None) -> Credentials | None:
    """The credentials the Docker config holds for ``registry`` (``host[:port]``), or None."""
    path = config_path or docker_config_path()
    config = _load_config(path)
    helpers = config.get("credHelpers") or {}
    if isinstance(helpers, dict):
        for key in _keys_for(registry):
            helper = helpers.get(key)
            if isinstance(helper, str) and helper:
                return _from_helper(helper, key)
    auths = config.get("auths") or {}
    if isinstance(auths, dict):
        for key in _keys_for(registry):
            entry = auths.get(key)
            if isinstance(entry, dict):
                found = _from_entry(entry, path, key)
                if found is not None:
                    return found
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        return _from_helper(store, _keys_for(registry)[0])
    return None


def _from_entry(entry: dict[str, Any], path: Path, key: str) -> Credentials | None:
    token = entry.get("identitytoken")
    auth = entry.get("auth")
    username, password = entry.get("username"), entry.get("password")
    if isinstance(auth, str) and auth:
        try:
            username, _, password = base64.b64decode(auth, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise InputError("'auth' is not base64 of user:password", path=str(path), field=f"auths.{key}") from exc
    if isinstance(token, str) and token:
        return Credentials(username=username if isinstance(username, str) else None, identity_token=token)
    if isinstance(username, str) and isinstance(password, str) and username:
        return Credentials(username=username, password=password)
    return None


def _from_helper(helper: str, server: str) -> Credentials | None:
    if not all(c.isalnum() or c in "-_." for c in helper):
        raise InputError(f"credential helper name {helper!r} is not a plain name", field="credHelpers")
    program = f"docker-credential-{helper}"
    try:
        proc = subprocess.run(
            [program, "get"], input=server.encode(), capture_output=True, timeout=_HELPER_TIMEOUT, check=False
        )
    except FileNotFoundError as exc:
        raise InputError(
            f"the Docker config names the credential helper {program}, which is not installed",
            hint="install it, or put the credentials under 'auths' in the Docker config",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise InputError(f"credential helper {program} did not answer in {_HELPER_TIMEOUT}s") from exc
    if proc.returncode != 0:
        if b"credentials not found" in proc.stdout.lower() + proc.stderr.lower():
            return None
        raise InputError(f"credential helper {program} failed: {proc.stderr.decode(errors='replace')[:300]}")
    try:
        doc = json.loads(proc.stdout[:_MAX_CONFIG_BYTES])
    except json.JSONDecodeError as exc:
        raise InputError(f"credential helper {program} printed no JSON") from exc
    username, secret = doc.get("Username"), doc.get("Secret")
    if not isinstance(secret, str) or not secret:
        return None
    if username == "<token>":
        return Credentials(identity_token=secret)
    return Credentials(username=username if isinstance(username, str) else None, password=secret)
