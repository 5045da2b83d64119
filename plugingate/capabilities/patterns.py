"""Glob patterns over host names and paths, compared segment by segment.

A policy pattern and a declared value are both split into segments (DNS labels, path segments).
In a pattern, ``*`` as a whole segment matches exactly one segment, ``**`` matches one or more, and
a segment with ``*``/``?`` inside (``api-*``) matches like ``fnmatch`` within that one segment, so no
glob ever crosses a ``.`` or a ``/``. A declared value may hold globs too (``*.acme.example``): it is
then *covered* only when every value it can stand for matches, which is what "the policy allows
what was declared" has to mean.
"""

from __future__ import annotations

import posixpath
from fnmatch import fnmatchcase
from functools import lru_cache

_GLOB_CHARS = frozenset("*?[")
MAX_HOST = 253


def has_glob(segment: str) -> bool:
    """Whether a segment holds a glob character."""
    return any(c in _GLOB_CHARS for c in segment)


def _segment_covered(value: str, pattern: str) -> bool:
    """Whether every string ``value`` may stand for (one segment) matches ``pattern`` (one segment)."""
    if pattern in ("*", "**"):
        return value != "**"
    if value == "**":
        return False
    if has_glob(value):
        # NOTE: a glob in the declaration is covered only by the same glob or a whole-segment wildcard;
        # deciding whether one glob contains another in general is not worth the risk of a wrong yes.
        return value == pattern
    return fnmatchcase(value, pattern)


def covered(value: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether the segments ``value`` are covered by the segments ``pattern``."""
    return _covered(value, pattern)


@lru_cache(maxsize=4096)
def _covered(value: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    if not pattern:
        return not value
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        # NOTE: one or more segments; a declared ``**`` is covered only by a pattern ``**``.
        return any(_covered(value[taken:], rest) for taken in range(1, len(value) + 1))
    if not value:
        return False
    if value[0] == "**":
        return False
    return _segment_covered(value[0], head) and _covered(value[1:], rest)


def host_labels(host: str) -> tuple[str, ...]:
    """A host name as labels, most significant last, lower case, without a trailing dot."""
    return tuple(host.lower().rstrip(".").split("."))


def host_covered(host: str, pattern: str) -> bool:
    """Whether a declared host (maybe ``*.a.example``) is covered by a policy pattern.

    A name longer than DNS allows (253 characters) is covered by nothing.
    """
    if len(host) > MAX_HOST or len(pattern) > MAX_HOST:
        return False
    return covered(host_labels(host), host_labels(pattern))


def normalize_path(path: str) -> str:
    """An absolute path with ``.``, ``..`` and doubled slashes resolved (``/tmp/../etc`` is ``/etc``)."""
    norm = posixpath.normpath("/" + path.lstrip("/"))
    # NOTE: POSIX keeps a leading '//' as implementation-defined; plugingate does not.
    return "/" + norm.lstrip("/")


def path_segments(path: str) -> tuple[str, ...]:
    """The segments of a normalised absolute path (``()`` for ``/``)."""
    norm = normalize_path(path)
    return tuple(s for s in norm.split("/") if s)


def path_covered(path: str, pattern: str) -> bool:
    """Whether a declared path is matched by a policy path glob."""
    return covered(path_segments(path), path_segments(pattern))


def path_within(path: str, parent: str) -> bool:
    """Whether ``path`` is ``parent`` or below it (both normalised, no globs)."""
    p, q = path_segments(path), path_segments(parent)
    return p[: len(q)] == q


def path_reaches(declared: str, deny: str) -> bool:
    """Whether reading ``declared`` (and everything below it) reads something ``deny`` matches.

    Reading /etc reads /etc/kubernetes; reading /proc/1 reads inside /proc/**. A glob in the declared
    path stands for anything below its literal part, so that part is judged.
    """
    literal: list[str] = []
    for segment in path_segments(declared):
        if has_glob(segment):
            break
        literal.append(segment)
    return _may_extend(tuple(literal), path_segments(deny))


@lru_cache(maxsize=4096)
def _may_extend(value: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether ``pattern`` matches ``value`` or some path below it."""
    if not value:
        return True
    if not pattern:
        return False
    if pattern[0] == "**":
        # NOTE: '**' can swallow all that is left of the value and go on below it.
        return True
    return fnmatchcase(value[0], pattern[0]) and _may_extend(value[1:], pattern[1:])


def name_matches(name: str, pattern: str) -> bool:
    """A whole-name glob (secret names, registries): ``*`` matches any run of characters."""
    return fnmatchcase(name, pattern)
