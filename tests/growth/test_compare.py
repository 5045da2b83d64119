"""What covers what: growth is judged by what a permission means, not by how it is written."""

from __future__ import annotations

import pytest

from plugingate.growth.compare import compare, covers
from plugingate.growth.footprint import Atom, Footprint, GrowthKind, capability, host, path, port, repository


def rbac(verb: str, resource: str = "pods", group: str = "", name: str = "*", scope: str = "namespace") -> Atom:
    return Atom(GrowthKind.RBAC, (scope, "resource", group, resource, verb, name), f"{group}/{resource}:{verb}")


def fp(*atoms: Atom, cpu: int | None = None, memory: int | None = None) -> Footprint:
    return Footprint("p", "1", frozenset(atoms), {}, {}, cpu, memory)


@pytest.mark.parametrize(
    ("have", "want", "covered"),
    [
        (rbac("*"), rbac("delete"), True),
        (rbac("get"), rbac("*"), False),  # a * verb is growth over any list of verbs
        (rbac("get", group="*"), rbac("get", group="apps"), True),
        (rbac("get", resource="*"), rbac("get", resource="secrets"), True),
        (rbac("get", resource="*/scale"), rbac("get", resource="deployments/scale"), True),
        (rbac("get", resource="*/scale"), rbac("get", resource="deployments"), False),
        (rbac("get", resource="pods"), rbac("get", resource="pods/log"), False),  # a subresource is its own
        (rbac("get", name="*"), rbac("get", name="only-this"), True),
        (rbac("get", name="only-this"), rbac("get"), False),
        (rbac("get", scope="cluster"), rbac("get"), True),
        (rbac("get"), rbac("get", scope="cluster"), False),
        (rbac("get", group="apps"), rbac("get", group=""), False),
    ],
)
def test_rbac_covering(have: Atom, want: Atom, covered: bool) -> None:
    assert covers(have, want) is covered


def url(verb: str, u: str) -> Atom:
    return Atom(GrowthKind.RBAC, ("cluster", "url", u, verb), u)


def test_non_resource_urls() -> None:
    assert covers(url("get", "/metrics*"), url("get", "/metrics/cadvisor"))
    assert not covers(url("get", "/metrics"), url("get", "/healthz"))
    assert not covers(url("get", "/metrics"), rbac("get"))


def egress(h: str, p: str, proto: str = "TCP") -> Atom:
    return Atom(GrowthKind.EGRESS, (h, p, proto), f"{h}:{p}")


def test_egress_covering() -> None:
    assert covers(egress("*", "*"), egress("evil.example", "443"))
    assert covers(egress("10.0.0.0/8", "8000-9000"), egress("10.0.0.0/8", "8443"))
    assert not covers(egress("10.0.0.0/8", "8000-9000"), egress("10.0.0.0/8", "9443"))
    assert not covers(egress("a.example", "443"), egress("a.example", "443", "UDP"))
    assert not covers(egress("a.example", "443"), egress("a.example", "*"))


def test_paths_secrets_privileges_ingress() -> None:
    fs = GrowthKind.FILESYSTEM
    assert covers(Atom(fs, ("write", "/data"), ""), Atom(fs, ("write", "/data/x"), ""))
    assert not covers(Atom(fs, ("write", "/data"), ""), Atom(fs, ("write", "/database"), ""))
    assert covers(Atom(fs, ("write", "/tmp/**"), ""), Atom(fs, ("write", "/tmp/a"), ""))
    assert not covers(Atom(fs, ("write", "/"), ""), Atom(fs, ("rootfs",), ""))
    sec = GrowthKind.SECRETS
    assert covers(Atom(sec, ("s", "*"), ""), Atom(sec, ("s", "k"), ""))
    assert not covers(Atom(sec, ("s", "k"), ""), Atom(sec, ("s", "*"), ""))
    assert not covers(Atom(sec, ("s", "*"), ""), Atom(sec, ("t", "k"), ""))
    pr = GrowthKind.PRIVILEGES
    assert covers(Atom(pr, ("capability", "ALL"), ""), Atom(pr, ("capability", "SYS_ADMIN"), ""))
    assert covers(Atom(pr, ("hostPath", "/var/log"), ""), Atom(pr, ("hostPath", "/var/log/pods"), ""))
    assert not covers(Atom(pr, ("hostPath", "/var/log"), ""), Atom(pr, ("hostPath", "/var"), ""))
    assert not covers(Atom(pr, ("hostNetwork",), ""), Atom(pr, ("hostPID",), ""))
    ing = GrowthKind.INGRESS
    assert covers(Atom(ing, ("80", "TCP", "external"), ""), Atom(ing, ("80", "TCP", "cluster"), ""))
    assert not covers(Atom(ing, ("80", "TCP", "cluster"), ""), Atom(ing, ("80", "TCP", "external"), ""))


def test_resources_grow_only_upwards() -> None:
    assert compare(fp(cpu=500, memory=1 << 28), fp(cpu=250, memory=1 << 27)).items == ()
    grown = compare(fp(cpu=500), fp(cpu=501))
    assert [i.id for i in grown.items] == ["resources:cpu:501m"] and grown.items[0].detail == "500m -> 501m"
    assert [i.id for i in compare(fp(), fp(memory=1)).items] == ["resources:memory:1"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (host("API.Acme.Example."), "api.acme.example"),
        # NOTE: addresses as the capabilities step reads them: one address, however it is spelled.
        (host("::ffff:10.0.0.1"), "10.0.0.1"),
        (host("0x0a000001"), "10.0.0.1"),
        (host("[2001:DB8::1]"), "2001:db8::1"),
        (host("10.0.0.1/32"), "10.0.0.1"),
        (host("10.0.0.5/8"), "10.0.0.0/8"),
        (port("443"), port(443)),
        (port("0443"), "443"),
        (port("HTTPS"), "https"),
        (port(None), "*"),
        (path("/var//log/../log/"), "/var/log"),
        (path("tmp"), "/tmp"),
        (capability("cap_net_admin"), "NET_ADMIN"),
        (repository("nginx"), "docker.io/library/nginx"),
        (repository("index.docker.io/library/nginx:1.27@sha256:" + "a" * 64), "docker.io/library/nginx"),
        (repository("Registry.Example.COM:5000/Acme/App:v1"), "registry.example.com:5000/acme/app"),
        (repository("localhost/app"), "localhost/app"),
    ],
)
def test_normalisers(a: str, b: str) -> None:
    assert a == b


@pytest.mark.parametrize(
    ("have", "want", "covered"),
    [
        ("10.0.0.0/8", "10.1.0.0/16", True),
        ("10.0.0.0/8", "10.1.2.3", True),
        ("10.0.0.0/8", "11.0.0.0/16", False),
        ("10.1.0.0/16", "10.0.0.0/8", False),
        ("2001:db8::/32", "2001:db8::1", True),
        ("10.0.0.0/8", "2001:db8::1", False),
        ("*.acme.example", "api.acme.example", True),
        ("*.acme.example", "a.b.acme.example", False),  # one label, as DNS wildcards match
        ("*.acme.example", "acme.example", False),
        ("*.acme.example", "evilacme.example", False),
        ("api.acme.example", "*.acme.example", False),
        ("10.0.0.0/8", "::ffff:10.1.2.3", True),  # an IPv4-mapped spelling is the IPv4 address
        ("10.0.0.0/8", "::ffff:11.1.2.3", False),
        ("10.0.0.1", "0x0a000002", False),  # inet_aton's spelling of 10.0.0.2: another address
    ],
)
def test_hosts_addresses_and_networks(have: str, want: str, covered: bool) -> None:
    assert covers(egress(host(have), "443"), egress(host(want), "443")) is covered


def test_bindings_to_roles_outside_the_bundle() -> None:
    def bind(scope: str, name: str) -> Atom:
        return Atom(GrowthKind.RBAC, (scope, "bind", "ClusterRole", name), name)

    assert covers(bind("cluster", "edit"), bind("namespace", "edit"))  # cluster-wide holds the namespace
    assert not covers(bind("namespace", "edit"), bind("cluster", "edit"))
    assert covers(bind("namespace", "edit"), bind("namespace", "edit"))
    assert not covers(bind("namespace", "view"), bind("namespace", "edit"))
    assert not covers(rbac("*", resource="*", group="*", scope="cluster"), bind("namespace", "edit"))


def test_a_footprint_survives_the_predicate(versions: dict[str, tuple[object, object]]) -> None:
    """What the attestation records compares exactly as the bundle it was read from."""
    from plugingate.growth.read import ReadVersion

    for old, new in versions.values():
        assert isinstance(old, ReadVersion) and isinstance(new, ReadVersion)
        recorded = Footprint.from_dict(new.footprint.to_dict(), name=new.footprint.name, version="1.1.0")
        assert recorded.atoms == new.footprint.atoms and recorded.images == new.footprint.images
        assert (recorded.cpu_millicores, recorded.memory_bytes) == (
            new.footprint.cpu_millicores,
            new.footprint.memory_bytes,
        )
        assert [i.id for i in compare(old.footprint, recorded).items] == [
            i.id for i in compare(old.footprint, new.footprint).items
        ]
    with pytest.raises(ValueError):
        Footprint.from_dict({"atoms": [{"kind": "nope", "key": [], "id": "x"}]}, name="p", version="1")


def test_a_cross_product_too_large_is_bad_input(tmp_path: object) -> None:
    """A rule of 100 groups x 100 resources x 20 verbs would be 200,000 atoms: refused, not computed."""
    from plugingate.declaration import parse_declaration
    from plugingate.errors import InputError
    from plugingate.growth.footprint import footprint

    groups = ", ".join(f"g{n}.example.com" for n in range(100))
    resources = ", ".join(f"r{n}" for n in range(100))
    verbs = ", ".join(f"v{n}" for n in range(20))
    rule = f"{{apiGroups: [{groups}], resources: [{resources}], verbs: [{verbs}]}}"
    raw = (
        "apiVersion: plugingate.dev/v1\nkind: Plugin\nmetadata: {name: p, version: '1', publisher: a.example}\n"
        f"spec:\n  capabilities:\n    kubernetes:\n      rules:\n      - {rule}\n"
    )
    with pytest.raises(InputError, match="more than 100000 distinct permissions"):
        footprint(parse_declaration(raw.encode()), None)


def _brute(old: Footprint, new: Footprint) -> list[str]:
    return sorted(a.id for a in new.atoms if not any(covers(h, a) for h in old.of(a.kind)))


def test_the_index_answers_as_covers_does(versions: dict[str, tuple[object, object]]) -> None:
    """compare() looks covering keys up; on every case pair, both ways, and on random atoms, it agrees with covers()."""
    import random

    from plugingate.growth.read import ReadVersion

    def indexed(old: Footprint, new: Footprint) -> list[str]:
        return sorted(i.id for i in compare(old, new).items if not i.id.startswith("resources:"))

    footprints = []
    for old, new in versions.values():
        assert isinstance(old, ReadVersion) and isinstance(new, ReadVersion)
        footprints += [old.footprint, new.footprint]
    for a in footprints:
        for b in footprints[:8]:
            assert indexed(a, b) == _brute(a, b)
            assert indexed(b, a) == _brute(b, a)
    rng = random.Random(20261207)
    words = ["", "*", "apps", "pods", "pods/log", "*/log", "*/scale", "get", "x", "/metrics*", "/metrics/a"]
    hosts = ["*", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.3", "*.a.example", "b.a.example", "c.b.a.example"]
    ports = ["*", "443", "8000-9000", "8443", "https"]
    paths = ["/", "/**", "/a", "/a/**", "/a/b", "/ab", "/a/b/c"]

    def atom() -> Atom:
        kind = rng.choice([GrowthKind.RBAC, GrowthKind.EGRESS, GrowthKind.FILESYSTEM, GrowthKind.PRIVILEGES])
        pick = rng.choice
        key: tuple[str, ...]
        if kind is GrowthKind.RBAC:
            scope = pick(["namespace", "cluster"])
            key = pick(
                [
                    (scope, "resource", pick(words), pick(words), pick(words), pick(words)),
                    (scope, "url", pick(words), pick(words)),
                    (scope, "bind", "ClusterRole", pick(words)),
                ]
            )
        elif kind is GrowthKind.EGRESS:
            key = (pick(hosts), pick(ports), pick(["TCP", "UDP"]))
        elif kind is GrowthKind.FILESYSTEM:
            key = ("write", pick(paths))
        else:
            key = pick([("hostPath", pick(paths)), ("capability", pick(["ALL", "NET_ADMIN"])), ("hostNetwork",)])
        return Atom(kind, key, f"{kind}:{key}")

    for _ in range(300):
        old = fp(*(atom() for _ in range(rng.randint(0, 12))))
        new = fp(*(atom() for _ in range(rng.randint(0, 12))))
        assert indexed(old, new) == _brute(old, new), (old.atoms, new.atoms)
