"""RBAC rules compared the way the API server grants them: one (group, resource, verb, name) at a time.

A manifest's rule is covered by the declaration when every combination it grants is granted by some
declared rule. Comparing combinations rather than whole rules lets a manifest split or merge rules
freely while never letting it reach one thing more.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from plugingate.declaration import RbacRule

# NOTE: a rule granting more combinations than this is not worth enumerating; it is reported as too
# broad to check, which denies (fail closed).
MAX_COMBINATIONS = 100_000


def _star(values: Sequence[str], value: str) -> bool:
    return "*" in values or value in values


def resource_matches(granted: str, resource: str) -> bool:
    """Whether a granted resource covers ``resource``: ``*``, ``pods/*``, ``*/scale`` as the API server reads them."""
    if granted in ("*", resource):
        return True
    if granted.endswith("/*"):
        return resource.startswith(granted[:-1]) and "/" in resource
    if granted.startswith("*/"):
        return "/" in resource and resource.split("/", 1)[1] == granted[2:]
    return False


def url_matches(granted: str, url: str) -> bool:
    """Whether a granted nonResourceURL covers ``url`` (``*`` and a trailing ``*`` prefix)."""
    if granted in ("*", url):
        return True
    return granted.endswith("*") and url.startswith(granted[:-1])


def combinations(rule: RbacRule) -> int:
    """How many (group, resource, verb[, name]) or (url, verb) combinations the rule grants."""
    verbs = max(len(rule.verbs), 1)
    urls = len(rule.non_resource_urls) * verbs
    names = max(len(rule.resource_names), 1)
    return urls + max(len(rule.api_groups), 1) * max(len(rule.resources), 1) * verbs * names


def _granted(groups: str, resource: str, verb: str, name: str | None, rules: Sequence[RbacRule]) -> bool:
    for rule in rules:
        if not (_star(rule.api_groups, groups) and _star(rule.verbs, verb)):
            continue
        if not any(resource_matches(r, resource) for r in rule.resources):
            continue
        if not rule.resource_names or (name is not None and name in rule.resource_names):
            return True
    return False


def uncovered(rule: RbacRule, granted: Sequence[RbacRule]) -> Iterator[str]:
    """Each combination ``rule`` grants that no rule in ``granted`` grants, described for a message."""
    for url in rule.non_resource_urls:
        for verb in rule.verbs:
            if not any(_star(g.verbs, verb) and any(url_matches(u, url) for u in g.non_resource_urls) for g in granted):
                yield f"{verb} {url}"
    names: Sequence[str | None] = rule.resource_names or (None,)
    for group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                for name in names:
                    if not _granted(group, resource, verb, name, granted):
                        where = f"{group or 'core'}/{resource}" + (f" named {name}" if name else "")
                        yield f"{verb} {where}"


def has_wildcard(rule: RbacRule) -> list[str]:
    """The fields of ``rule`` that hold a ``*`` (whole or partial, such as ``pods/*``)."""
    fields = {
        "apiGroups": rule.api_groups,
        "resources": rule.resources,
        "verbs": rule.verbs,
        "nonResourceURLs": rule.non_resource_urls,
    }
    return [name for name, values in fields.items() if any("*" in v for v in values)]


def reaches_secrets(rule: RbacRule) -> bool:
    """Whether the rule reaches core ``secrets`` (by name or by wildcard)."""
    return (
        _star(rule.api_groups, "") and any(resource_matches(r, "secrets") for r in rule.resources) and bool(rule.verbs)
    )
