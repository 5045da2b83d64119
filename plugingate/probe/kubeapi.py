"""Kubernetes API requests as RBAC sees them (verb, group, resource, namespace, name), and RBAC's answer.

The stub in the sink records each request's method and path; this module reads them as the API
server's request-info filter does, so that the probe asks the same question RBAC would: does a
declared rule grant this verb on this resource in this namespace?
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from plugingate.declaration.model import RbacRule
from plugingate.probe.observation import ApiCall

_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}
# NOTE: what the cluster's ``system:discovery`` and ``system:public-info-viewer`` ClusterRoles give every
# authenticated client; a client library reads them before anything else.
DISCOVERY = ("/api", "/api/*", "/apis", "/apis/*", "/version", "/healthz", "/livez", "/readyz", "/openapi/*")


@dataclass(frozen=True, slots=True)
class Scope:
    """Where the plugin's rules apply: its own namespace (plus declared others), or the whole cluster."""

    namespace: str
    others: tuple[str, ...] = ()
    cluster: bool = False

    def covers(self, namespace: str | None) -> bool:
        """Whether a Role granted in the plugin's namespaces reaches ``namespace`` (None: cluster-wide)."""
        if self.cluster:
            return True
        return namespace is not None and (namespace == self.namespace or namespace in self.others)


def parse_request(method: str, target: str, *, authenticated: bool) -> ApiCall:
    """An API request line read as RBAC reads it; a path that names no resource is a non-resource URL."""
    split = urlsplit(target)
    parts = [p for p in split.path.split("/") if p]
    query = parse_qs(split.query)
    group = ""
    rest: list[str] = []
    if len(parts) >= 2 and parts[0] == "api":
        rest = parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, rest = parts[1], parts[3:]
    namespace: str | None = None
    if len(rest) >= 2 and rest[0] == "namespaces":
        namespace = rest[1]
        rest = rest[2:] if len(rest) > 2 else ["namespaces", namespace]
        if rest == ["namespaces", namespace]:
            namespace = None
    if not rest:
        return ApiCall(
            verb=method.lower(),
            api_group="",
            resource="",
            namespace=None,
            name=None,
            path=split.path,
            method=method,
            authenticated=authenticated,
        )
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else None
    if len(rest) > 2:
        resource = f"{resource}/{rest[2]}"
    if method in ("GET", "HEAD"):
        verb = "get" if name else ("watch" if query.get("watch", [""])[0] in ("1", "true") else "list")
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = _VERBS.get(method, method.lower())
    return ApiCall(
        verb=verb,
        api_group=group,
        resource=resource,
        namespace=namespace,
        name=name,
        path=split.path,
        method=method,
        authenticated=authenticated,
    )


def _url_matches(pattern: str, path: str) -> bool:
    return pattern == path or (pattern.endswith("*") and path.startswith(pattern[:-1]))


def _grants(rule: RbacRule, call: ApiCall) -> bool:
    if not ({call.verb, "*"} & set(rule.verbs)):
        return False
    if not call.resource:
        return any(_url_matches(url, call.path) for url in rule.non_resource_urls)
    if not ({call.api_group, "*"} & set(rule.api_groups)):
        return False
    base = call.resource.split("/", 1)[0]
    wanted = {call.resource, "*", f"{base}/*" if "/" in call.resource else "*"}
    if not (wanted & set(rule.resources)):
        return False
    return not rule.resource_names or (call.name is not None and call.name in rule.resource_names)


def allowed(rules: tuple[RbacRule, ...], call: ApiCall, scope: Scope) -> bool:
    """Whether the declared rules, bound in ``scope``, grant ``call`` (as the RBAC authorizer would)."""
    if call.resource and not scope.covers(call.namespace):
        return False
    if not call.resource:
        if call.verb == "get" and any(_url_matches(url, call.path) for url in DISCOVERY):
            return True
        if not scope.cluster:
            # NOTE: non-resource URLs are granted only by a ClusterRole.
            return False
    return any(_grants(rule, call) for rule in rules)
