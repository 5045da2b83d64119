"""What a new version asks for beyond an old one: the atoms of NEW that no atom of OLD covers.

Covering follows what the permission means, not how it is written: an old RBAC verb, group or
resource ``*`` covers any, an old rule without ``resourceNames`` covers every name, a cluster-wide
rule covers the same rule in a namespace; an old egress ``*`` (a NetworkPolicy without peers or
ports) covers any host or port; a secret with all keys covers each key; an old writable or host path
covers the paths below it; ``ALL`` capabilities cover each one; external ingress covers in-cluster
ingress on the same port. Resources grow when the largest CPU or memory goes up.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from plugingate.growth.footprint import ANY, Atom, Footprint, GrowthKind


@dataclass(frozen=True, slots=True)
class GrowthItem:
    """One thing NEW asks for beyond OLD: its kind, the id an approval names, and where NEW asks for it."""

    kind: GrowthKind
    id: str
    sources: tuple[str, ...] = ()
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": str(self.kind), "id": self.id, "sources": list(self.sources)}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class ImageUpdate:
    """A repository both versions run, with other digests or tags in NEW: an update, not growth."""

    repository: str
    old: tuple[str, ...]
    new: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"repository": self.repository, "old": list(self.old), "new": list(self.new)}


@dataclass(frozen=True, slots=True)
class Growth:
    """The comparison of two footprints: the growth items (sorted by id) and the image updates."""

    old: Footprint
    new: Footprint
    items: tuple[GrowthItem, ...]
    updates: tuple[ImageUpdate, ...] = ()

    def of(self, kind: GrowthKind) -> tuple[GrowthItem, ...]:
        return tuple(i for i in self.items if i.kind is kind)


def compare(old: Footprint, new: Footprint) -> Growth:
    """Every growth item of ``new`` over ``old``."""
    items: list[GrowthItem] = []
    index = _Index(old)
    for atom in sorted(new.atoms, key=lambda a: a.id):
        if not index.covers(atom):
            items.append(GrowthItem(atom.kind, atom.id, new.sources.get(atom, ())))
    for name, was, now, unit in (
        ("cpu", old.cpu_millicores, new.cpu_millicores, "m"),
        ("memory", old.memory_bytes, new.memory_bytes, ""),
    ):
        if now is not None and now > (was or 0):
            before = "none" if was is None else f"{was}{unit}"
            items.append(
                GrowthItem(GrowthKind.RESOURCES, f"resources:{name}:{now}{unit}", (), f"{before} -> {now}{unit}")
            )
    updates = tuple(
        ImageUpdate(repo, tuple(sorted(old.images[repo])), tuple(sorted(digests)))
        for repo, digests in sorted(new.images.items())
        if repo in old.images and digests != old.images[repo]
    )
    return Growth(old=old, new=new, items=tuple(sorted(items, key=lambda i: i.id)), updates=updates)


class _Index:
    """OLD's atoms looked up by the keys that could cover a wanted one, instead of held against each in turn.

    # NOTE: ``covers`` is the definition; this is the same answer in a few set lookups per atom (an RBAC
    # cross product may hold tens of thousands of atoms, and pairs of them would be billions). Only
    # networks and port ranges, which no lookup can enumerate, are still held one by one.
    """

    def __init__(self, old: Footprint) -> None:
        self.keys: dict[GrowthKind, frozenset[tuple[str, ...]]] = {
            kind: frozenset(a.key for a in old.of(kind)) for kind in GrowthKind
        }
        self.spans = [a for a in old.of(GrowthKind.EGRESS) if "/" in a.key[0] or "-" in a.key[1]]

    def covers(self, want: Atom) -> bool:
        keys = self.keys[want.kind]
        if want.key in keys or any(c in keys for c in _candidates(want)):
            return True
        return want.kind is GrowthKind.EGRESS and any(covers(have, want) for have in self.spans)


def _candidates(want: Atom) -> list[tuple[str, ...]]:
    """Every key that would cover ``want`` by ``covers``' rules (beyond networks and port ranges)."""
    key = want.key
    if want.kind is GrowthKind.RBAC:
        scopes = [key[0], "cluster"]
        if key[1] == "resource":
            _, _, group, resource, verb, name = key
            sub = resource.partition("/")[2]
            resources = [resource, ANY, *([f"*/{sub}"] if sub else [])]
            return [
                (s, "resource", g, r, v, n)
                for s in scopes
                for g in (group, ANY)
                for r in resources
                for v in (verb, ANY)
                for n in (name, ANY)
            ]
        if key[1] == "url":
            _, _, url, verb = key
            prefixes = [url[:i] + "*" for i in range(len(url) + 1)]
            return [(s, "url", u, v) for s in scopes for u in (url, ANY, *prefixes) for v in (verb, ANY)]
        return [(s, *key[1:]) for s in scopes]
    if want.kind is GrowthKind.EGRESS:
        host, port, proto = key
        hosts = [host, ANY] + ([f"*.{host.split('.', 1)[1]}"] if "." in host and not host.startswith("*") else [])
        return [(h, p, proto) for h in hosts for p in (port, ANY)]
    if want.kind is GrowthKind.INGRESS:
        return [(key[0], key[1], "external")] if len(key) == 3 else []
    if want.kind is GrowthKind.SECRETS:
        return [(key[0], ANY)]
    if want.kind is GrowthKind.FILESYSTEM and key[0] == "write":
        return [("write", p) for p in _ancestors(key[1])]
    if want.kind is GrowthKind.PRIVILEGES:
        if key[0] == "capability":
            return [("capability", "ALL")]
        if key[0] == "hostPath":
            return [("hostPath", p) for p in _ancestors(key[1])]
    return []


def _ancestors(path: str) -> list[str]:
    """``/a/b`` → ``/a/b/**``, ``/a``, ``/a/**``, ``/``, ``/**``: what ``_under`` lets cover it."""
    if path == "/":
        return ["/**"]
    found = [path + "/**"]
    parts = path.rstrip("/").split("/")
    for n in range(len(parts) - 1, 0, -1):
        parent = "/".join(parts[:n]) or "/"
        found += [parent, parent.rstrip("/") + "/**"]
    return found


def covers(have: Atom, want: Atom) -> bool:
    """Whether the permission ``have`` already grants everything ``want`` asks for."""
    if have.kind is not want.kind:
        return False
    if have.key == want.key:
        return True
    cover = _COVERS.get(have.kind)
    return cover is not None and cover(have.key, want.key)


def _under(parent: str, child: str) -> bool:
    """``/data`` covers ``/data/x``; ``/data/**`` covers the same; ``/`` covers every path."""
    base = parent.removesuffix("/**").rstrip("/")
    return child == base or child.startswith(base + "/")


def _rbac(have: tuple[str, ...], want: tuple[str, ...]) -> bool:
    if have[1] != want[1] or (have[0] == "namespace" and want[0] == "cluster"):
        return False
    if have[1] in ("bind", "aggregate"):
        return have[1:] == want[1:]
    if have[1] == "url":
        _, _, url, verb = have
        _, _, wurl, wverb = want
        url_ok = url in (wurl, ANY) or (url.endswith("*") and wurl.startswith(url[:-1]))
        return url_ok and verb in (ANY, wverb)
    _, _, group, resource, verb, name = have
    _, _, wgroup, wresource, wverb, wname = want
    return group in (ANY, wgroup) and _resource(resource, wresource) and verb in (ANY, wverb) and name in (ANY, wname)


def _resource(have: str, want: str) -> bool:
    """As the API server matches: ``*``, the same resource/subresource, or ``*/sub`` for any resource's ``sub``."""
    if have in (ANY, want):
        return True
    sub = want.partition("/")[2]
    return bool(sub) and have == f"*/{sub}"


def _egress(have: tuple[str, ...], want: tuple[str, ...]) -> bool:
    host, port, proto = have
    whost, wport, wproto = want
    return _host(host, whost) and _port(port, wport) and proto == wproto


def _host(have: str, want: str) -> bool:
    """The same host, ``*``, a network holding the address or network, or ``*.d`` holding one label under ``d``."""
    if have in (ANY, want):
        return True
    if have.startswith("*.") and want.endswith(have[1:]):
        return "." not in want[: -len(have) + 1] and not want.startswith("*")
    try:
        outer = ipaddress.ip_network(have, strict=False)
        inner = ipaddress.ip_network(want, strict=False)
    except ValueError:
        return False
    return outer.version == inner.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _port(have: str, want: str) -> bool:
    if have in (ANY, want):
        return True
    low, _, high = have.partition("-")
    wlow, _, whigh = want.partition("-")
    if not (low.isdigit() and high.isdigit() and wlow.isdigit() and (whigh or wlow).isdigit()):
        return False
    return int(low) <= int(wlow) and int(whigh or wlow) <= int(high)


def _ingress(have: tuple[str, ...], want: tuple[str, ...]) -> bool:
    if have[0] == "ingress-object" or want[0] == "ingress-object":
        return False
    return have[0] == want[0] and have[1] == want[1] and (have[2] == want[2] or have[2] == "external")


def _secrets(have: tuple[str, ...], want: tuple[str, ...]) -> bool:
    return have[0] == want[0] and have[1] == ANY


def _filesystem(have: tuple[str, ...], want: tuple[str, ...]) -> bool:
    return have[0] == want[0] == "write" and _under(have[1], want[1])


def _privileges(have: tuple[str, ...], want: tuple[str, ...]) -> bool:
    if have[0] != want[0] or len(have) < 2:
        return False
    if have[0] == "capability":
        return have[1] == "ALL"
    if have[0] == "hostPath":
        return _under(have[1], want[1])
    return False


_COVERS = {
    GrowthKind.RBAC: _rbac,
    GrowthKind.EGRESS: _egress,
    GrowthKind.INGRESS: _ingress,
    GrowthKind.SECRETS: _secrets,
    GrowthKind.FILESYSTEM: _filesystem,
    GrowthKind.PRIVILEGES: _privileges,
}
