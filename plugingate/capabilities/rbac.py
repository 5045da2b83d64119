"""RBAC rules compared the way the API server grants them: one (group, resource, verb, name) at a time.

A manifest's rule is covered by the declaration when every combination it grants is granted by some
declared rule. Comparing combinations rather than whole rules lets a manifest split or merge rules
freely while never letting it reach one thing more.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from plugingate.declaration import RbacRule

# NOTE: a rule granting more combinations than this is not worth enumerating; it is reported as too
# broad to check, which denies (fail closed). The budget bounds all the roles of a bundle together.
MAX_COMBINATIONS = 100_000
MAX_TOTAL_COMBINATIONS = 1_000_000
# NOTE: steps one comparison may take (about a second of Python; honest rules need a few thousand),
# and all the comparisons of one bundle together.
MAX_WORK = 5_000_000
MAX_TOTAL_WORK = 20_000_000


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


@dataclass(frozen=True, slots=True)
class _Grant:
    """A declared rule with its lists as sets, for fast membership; resource globs kept apart."""

    groups: frozenset[str]
    resources: frozenset[str]
    resource_globs: tuple[str, ...]
    verbs: frozenset[str]
    names: frozenset[str]
    urls: tuple[str, ...]

    @classmethod
    def of(cls, rule: RbacRule) -> _Grant:
        return cls(
            frozenset(rule.api_groups),
            frozenset(r for r in rule.resources if "*" not in r),
            tuple(r for r in rule.resources if "*" in r),
            frozenset(rule.verbs),
            frozenset(rule.resource_names),
            rule.non_resource_urls,
        )

    def covers_resource(self, resource: str) -> bool:
        return resource in self.resources or any(resource_matches(g, resource) for g in self.resource_globs)


def _has(values: frozenset[str], value: str) -> bool:
    return "*" in values or value in values


class TooComplexError(Exception):
    """Comparing a rule with the declared rules would take more than ``MAX_WORK`` steps."""


class WorkBudget:
    """Steps a set of comparisons may take together; ``TooComplexError`` once they are spent."""

    def __init__(self, steps: int = MAX_WORK) -> None:
        self.left = steps

    def spend(self, steps: int) -> None:
        """Take ``steps`` from the budget."""
        self.left -= steps
        if self.left < 0:
            raise TooComplexError("the comparison budget is spent")


def uncovered(rule: RbacRule, granted: Sequence[RbacRule], budget: WorkBudget | None = None) -> Iterator[str]:
    """Each combination ``rule`` grants that no rule in ``granted`` grants, described for a message.

    The declared rules are narrowed by group, then by resource; the verbs they grant without
    resourceNames are then one set, so the cost stays near the number of (group, resource) pairs
    times the declared rules, plus one lookup per combination. Both sides come from the plugin's
    author, so the steps are counted against ``budget`` (one rule's worth when none is given) and
    ``TooComplexError`` ends a comparison that would not end in reasonable time.
    """
    spend = (budget or WorkBudget()).spend
    grants = [_Grant.of(g) for g in granted]
    url_grants = [g for g in grants if g.urls]
    url_patterns = sum(len(g.urls) for g in url_grants)
    for url in rule.non_resource_urls:
        spend(url_patterns + 1)
        by_url = [g for g in url_grants if any(url_matches(u, url) for u in g.urls)]
        for verb in rule.verbs:
            spend(len(by_url) + 1)
            if not any(_has(g.verbs, verb) for g in by_url):
                yield f"{verb} {url}"
    names: Sequence[str | None] = rule.resource_names or (None,)
    # NOTE: the same few sets of candidate rules come back for many resources; their verbs are united once.
    unions: dict[tuple[int, ...], frozenset[str]] = {}
    for group in rule.api_groups:
        spend(len(grants) + 1)
        by_group = [(n, g) for n, g in enumerate(grants) if _has(g.groups, group)]
        for resource in rule.resources:
            spend(sum(len(g.resource_globs) + 1 for _, g in by_group) + 1)
            candidates = [(n, g) for n, g in by_group if g.covers_resource(resource)]
            by_resource = [g for _, g in candidates]
            key = tuple(n for n, g in candidates if not g.names)
            unnamed = unions.get(key)
            if unnamed is None:
                spend(sum(len(grants[n].verbs) for n in key))
                unnamed = unions[key] = frozenset().union(*(grants[n].verbs for n in key))
            for verb in rule.verbs:
                spend(1)
                if "*" in unnamed or verb in unnamed:
                    continue
                for name in names:
                    spend(len(by_resource) + 1)
                    if name is not None and any(name in g.names and _has(g.verbs, verb) for g in by_resource):
                        continue
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
