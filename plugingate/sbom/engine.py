"""The Docker engine, reached through the docker SDK, with its failures said in plain words.

The SDK reports a missing engine as a chain of exceptions
(``DockerException: Error while fetching server API version: ('Connection aborted.',
FileNotFoundError(2, …))``); a person reading a report needs what was tried, why it failed and what
to do. ``connect`` raises ``EngineUnavailableError`` with that message; ``explain`` words any failure the
same way, for an engine that stops answering half way.
"""

from __future__ import annotations

import os
from typing import Any

from plugingate.errors import UndecidedError

DEFAULT_HOST = "unix:///var/run/docker.sock"
WHAT_TO_DO = (
    "start the Docker engine, or point DOCKER_HOST at one that runs; or ship the image in the bundle as an "
    "archive (`docker save IMAGE -o images/NAME.tar`), or turn engine use off (--no-docker)"
)


class EngineUnavailableError(UndecidedError):
    """No Docker engine answered, or it stopped answering (exit 3 where the engine is needed to decide)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint=WHAT_TO_DO)


def engine_host() -> str:
    """The engine address the environment names (the SDK's default socket when DOCKER_HOST is unset)."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 32:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__, *(a for a in current.args if isinstance(a, BaseException))]
    return seen


def _why(exc: BaseException) -> str:
    """The reason, in words, found anywhere in the exception's chain (the SDK nests the OS error)."""
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain)
    if any(isinstance(e, ImportError) for e in chain):
        return "the docker Python package is not installed"
    if any(isinstance(e, FileNotFoundError) for e in chain) or "No such file or directory" in text:
        return "its socket does not exist (no engine is running there)"
    if any(isinstance(e, PermissionError) for e in chain) or "Permission denied" in text:
        return "permission to its socket was denied (the user is not in the docker group?)"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "Connection refused" in text:
        return "nothing is listening there (connection refused)"
    if any(isinstance(e, TimeoutError) for e in chain) or "timed out" in text.lower():
        return "it did not answer in time"
    if "Invalid bind address" in text or "Port out of range" in text or "invalid" in text.lower():
        return "that is not a valid engine address (expected unix:///path/docker.sock or tcp://HOST:PORT)"
    return f"it did not answer as a Docker engine ({type(exc).__name__})"


def explain(exc: BaseException, host: str | None = None) -> str:
    """One sentence: which engine, and why it could not be used."""
    return f"no Docker engine answered at {host or engine_host()}: {_why(exc)}"


def connect(timeout: float) -> Any:
    """A docker SDK client of the engine the environment names, after it answered a ping.

    Raises ``EngineUnavailableError`` in plain words when the SDK is missing or no engine answers.
    """
    host = engine_host()
    try:
        import docker

        client = docker.from_env(timeout=max(1, int(timeout)))
    except Exception as exc:  # NOTE: the SDK raises DockerException, ValueError or ImportError for a bad address
        raise EngineUnavailableError(explain(exc, host)) from exc
    try:
        client.ping()
    except Exception as exc:  # NOTE: connection errors come as DockerException or raw requests errors
        client.close()
        raise EngineUnavailableError(explain(exc, host)) from exc
    return client
