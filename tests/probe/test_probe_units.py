"""The probe's parts without a sandbox: the readers of runsc's trace, dnsmasq's log and the sink's events
(on what real runs recorded, testdata/probe/recorded), the Kubernetes request reader, the comparison and its
bypass attempts. The integration tests are their real twins."""

from __future__ import annotations

import io
import json
import ssl
import tarfile
from pathlib import Path

import pytest

from plugingate.declaration.model import Capabilities, Declaration, EgressRule, RbacRule, SecretRef
from plugingate.errors import BundleError, InputError, ToolError
from plugingate.policy.loader import parse_policy
from plugingate.policy.model import ProbePolicy
from plugingate.probe.compare import canary_spellings, compare
from plugingate.probe.dns import read_queries
from plugingate.probe.kubeapi import Scope, allowed, parse_request
from plugingate.probe.observation import ApiCall, Connection, DnsQuery, FileWrite, Observation, Source, Trace, Usage
from plugingate.probe.prober import settings_for
from plugingate.probe.rootfs import build_rootfs
from plugingate.probe.run import _sink_events, env_name
from plugingate.probe.sandbox import locate_tools
from plugingate.probe.sink import http_head, server_name
from plugingate.probe.trace import read_trace
from plugingate.safeyaml import load_one
from tests.conftest import REPO

RECORDED = REPO / "testdata" / "probe" / "recorded"
RECORDED_CANARY = "pgcanary9d9cc4aee6672f93539d962a"
SINK_IP = "10.231.113.1"
API_IP = "10.231.113.10"


def _declaration(**caps: object) -> Declaration:
    defaults: dict[str, object] = {
        "egress": (EgressRule(host="api-acme.example", ports=(443,), reason="api"),),
        "fs_read": ("/etc/acme",),
        "fs_write": ("/tmp",),
        "secrets": (SecretRef(name="acme-token", keys=("token",), as_="env"),),
        "rbac_rules": (RbacRule(verbs=("get", "list", "watch"), api_groups=("",), resources=("pods",)),),
    }
    defaults.update(caps)
    doc = load_one(b"apiVersion: plugingate.dev/v1\n", path="plugin.yaml")
    return Declaration(
        name="probe-test",
        version="1.0.0",
        publisher="acme.example",
        images=(),
        manifests=(),
        capabilities=Capabilities(**defaults),  # type: ignore[arg-type]
        document=doc,
    )


def _observation(**fields: object) -> Observation:
    base: dict[str, object] = {
        "image": "plugin",
        "duration_seconds": 3.0,
        "exit_status": "stopped",
        "dns": (),
        "connections": (),
        "api_calls": (),
        "trace": Trace(),
        "usage": Usage(),
        "canaries": {"acme-token/token": RECORDED_CANARY},
        "recorders": (SINK_IP, API_IP),
    }
    base.update(fields)
    return Observation(**base)  # type: ignore[arg-type]


def _ids(observation: Observation, declaration: Declaration | None = None) -> list[str]:
    findings = compare(observation, declaration or _declaration(), ProbePolicy(), "probe-test")
    return sorted(f.rule_id for f in findings)


# -- runsc's trace -------------------------------------------------------------------------------


def test_recorded_trace_gives_the_writes_with_their_results() -> None:
    trace = read_trace((RECORDED / "writer.boot.log").read_text().splitlines())
    writes = {(w.path, w.errno) for w in trace.writes}
    assert ("/tmp/ok", None) in writes
    assert ("/etc/acme/override.conf", 13) in writes
    assert ("/var/lib/acme/db", 2) in writes
    # NOTE: read-only opens (the Go runtime's /sys and /proc reads) are not writes.
    assert not any(w.path.startswith(("/sys", "/proc")) for w in trace.writes)


def test_recorded_trace_gives_datagrams_to_a_hard_coded_resolver() -> None:
    trace = read_trace((RECORDED / "resolver.boot.log").read_text().splitlines())
    assert {(c.address, c.port, c.protocol) for c in trace.connects} == {("8.8.8.8", 53, "udp")}
    assert trace.syscalls["connect"] >= 1


_PREFIX = "I1207 05:07:15.410160    6939 strace.go:608] [   7:   9] plugin X "


@pytest.mark.parametrize(
    ("call", "path"),
    [
        ("openat(0x5 /etc, 0x7f00 acme/x, O_RDWR, 0o0) = 6 (0x6)", "/etc/acme/x"),
        ("openat(AT_FDCWD /var, 0x7f00 ../etc/passwd, O_WRONLY|O_APPEND, 0o0) = 6 (0x6)", "/etc/passwd"),
        ("open(0x7f00 /tmp/../etc/shadow, O_APPEND|O_CLOEXEC, 0o0) = 6 (0x6)", "/etc/shadow"),
        ("creat(0x7f00 /opt/new, 0o644) = 6 (0x6)", "/opt/new"),
        ("renameat2(AT_FDCWD /tmp, 0x7f00 a, AT_FDCWD /, 0x7f01 etc/cron.d/x, 0x0) = 0 (0x0)", "/etc/cron.d/x"),
        ("symlinkat(0x7f00 /etc/passwd, AT_FDCWD /tmp, 0x7f01 ../usr/link) = 0 (0x0)", "/usr/link"),
        ("unlinkat(AT_FDCWD /, 0x7f00 etc/hosts, 0x0) = 0 (0x0) errno=2 (no such file or directory)", "/etc/hosts"),
        ("mkdirat(AT_FDCWD /, 0x7f00 /var/lib/acme, 0o755) = 0 (0x0)", "/var/lib/acme"),
    ],
)
def test_every_spelling_of_a_write_is_read_as_an_absolute_path(call: str, path: str) -> None:
    trace = read_trace([_PREFIX + call])
    assert path in {w.path for w in trace.writes}
    assert _ids(_observation(trace=trace)) == ["PG-PRB-004"]


def test_the_trace_read_is_bounded() -> None:
    lines = (RECORDED / "writer.boot.log").read_text().splitlines()
    assert read_trace(lines).truncated is False
    short = read_trace(lines, max_calls=2)
    assert short.truncated is True and sum(short.syscalls.values()) == 2


@pytest.mark.parametrize(
    "link",
    [
        "symlinkat(0x7f00 /etc, AT_FDCWD /, 0x7f01 /tmp/e) = 0 (0x0)",
        "symlink(0x7f00 ../etc, 0x7f01 /tmp/e) = 0 (0x0)",
        "linkat(AT_FDCWD /, 0x7f00 /etc, AT_FDCWD /, 0x7f01 /tmp/e, 0x0) = 0 (0x0)",
    ],
)
def test_a_write_through_a_link_it_made_is_a_write_to_the_target(link: str) -> None:
    """/tmp is writable; a link in /tmp to /etc does not make /etc writable."""
    write = "openat(AT_FDCWD /, 0x7f00 /tmp/e/passwd, O_WRONLY|O_TRUNC, 0o0) = 3 (0x3)"
    trace = read_trace([_PREFIX + link, _PREFIX + write])
    assert ("/etc/passwd", "/tmp/e/passwd") in {(w.path, w.via) for w in trace.writes}
    findings = compare(_observation(trace=trace), _declaration(), ProbePolicy(), "probe-test")
    assert [f.properties["path"] for f in findings] == ["/etc/passwd"]


def test_a_read_only_open_is_not_a_write() -> None:
    assert (
        read_trace([_PREFIX + "openat(AT_FDCWD /, 0x7f00 /etc/passwd, O_RDONLY|O_CLOEXEC, 0o0) = 3 (0x3)"]).writes == ()
    )


def test_writes_under_declared_paths_and_devices_pass_and_lookalikes_do_not() -> None:
    ok = Trace(writes=(FileWrite("openat", "/tmp/a/b"), FileWrite("openat", "/dev/null")))
    assert _ids(_observation(trace=ok)) == []
    lookalike = Trace(writes=(FileWrite("openat", "/tmpfoo/x"), FileWrite("openat", "/dev/nullx")))
    assert _ids(_observation(trace=lookalike)) == ["PG-PRB-004", "PG-PRB-004"]


# -- DNS, sink, canaries -------------------------------------------------------------------------


def test_recorded_dns_log_gives_each_query_once() -> None:
    queries = read_queries((RECORDED / "canary.dns.log").read_text().splitlines())
    names = [q.name for q in queries]
    assert "api-acme.example" in names and "collector.evil.example" in names
    assert len(queries) == len(set(queries))
    assert not any("dnsmasq" in n or " " in n for n in names)


def test_recorded_run_of_the_canary_program_is_denied_for_both_channels() -> None:
    connections, api = _sink_events(RECORDED / "canary.sink.jsonl")
    assert {c.sni or c.http_host for c in connections} == {"api-acme.example", "collector.evil.example:80"}
    assert [(e["method"], e["authenticated"]) for e in api] == [("GET", True)]
    queries = read_queries((RECORDED / "canary.dns.log").read_text().splitlines())
    findings = compare(
        _observation(dns=queries, connections=tuple(connections)), _declaration(), ProbePolicy(), "probe-test"
    )
    leaks = {f.properties["channel"] for f in findings if f.rule_id == "PG-PRB-003"}
    assert leaks == {"dns", "collector.evil.example:80"}


@pytest.mark.parametrize("spelling", range(5))
def test_a_canary_is_found_in_every_spelling(spelling: int) -> None:
    sent = canary_spellings(RECORDED_CANARY)[spelling]
    conn = Connection(Source.SINK, SINK_IP, 80, host="evil.example", first_bytes=b"POST / HTTP/1.1\r\n\r\nx=" + sent)
    assert "PG-PRB-003" in _ids(_observation(connections=(conn,)))
    # NOTE: hex and base32 in upper case, as a DNS name may come back.
    label = sent.decode().upper() if spelling in (1, 4) else sent.decode()
    # NOTE: every spelling a DNS label can carry (base64's '+' and '/' cannot be in a name).
    if spelling != 2:
        query = DnsQuery(name=f"{label[:20]}.{label[20:]}.x.evil.example", qtype="A")
        assert "PG-PRB-003" in _ids(_observation(dns=(query,)))


def test_a_canary_sent_to_its_own_declared_api_is_not_a_leak() -> None:
    conn = Connection(Source.SINK, SINK_IP, 443, host="API-ACME.example", first_bytes=RECORDED_CANARY.encode())
    assert _ids(_observation(connections=(conn,))) == []


def test_host_names_are_compared_as_dns_compares_them() -> None:
    declared = Connection(Source.SINK, SINK_IP, 443, host="Api-Acme.Example.")
    assert _ids(_observation(connections=(declared,))) == []
    lookalike = Connection(Source.SINK, SINK_IP, 443, host="api-acme.example.evil.com")
    assert _ids(_observation(connections=(lookalike,))) == ["PG-PRB-001"]
    wrong_port = Connection(Source.SINK, SINK_IP, 8443, host="api-acme.example")
    assert _ids(_observation(connections=(wrong_port,))) == ["PG-PRB-002"]


def test_a_dialled_address_is_undeclared_and_the_sandbox_loopback_is_not_egress() -> None:
    trace = Trace(
        connects=(
            Connection(Source.TRACE, "192.0.2.2", 22, result="ok"),
            Connection(Source.TRACE, "127.0.0.1", 6443, result="errno=111"),
            Connection(Source.TRACE, SINK_IP, 53, protocol="udp", result="ok"),
        )
    )
    findings = compare(_observation(trace=trace), _declaration(), ProbePolicy(), "probe-test")
    assert [(f.rule_id, f.properties["host"]) for f in findings] == [("PG-PRB-001", "192.0.2.2")]


def test_server_name_of_a_real_client_hello() -> None:
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = context.wrap_bio(incoming, outgoing, server_hostname="api-acme.example")
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    hello = outgoing.read()
    assert server_name(hello) == "api-acme.example"
    assert server_name(hello[:30]) is None
    assert server_name(b"GET / HTTP/1.1\r\n\r\n") is None


def test_http_head() -> None:
    assert http_head(b"POST /u HTTP/1.1\r\nHOST: a.example:80\r\n\r\nbody") == ("POST /u HTTP/1.1", "a.example:80")
    assert http_head(b"\x16\x03\x01") == (None, None)


# -- the Kubernetes API ---------------------------------------------------------------------------

SCOPE = Scope(namespace="probe-test")
RULES = (RbacRule(verbs=("get", "list", "watch"), api_groups=("",), resources=("pods",)),)


@pytest.mark.parametrize(
    ("method", "target", "verb", "resource", "namespace", "granted"),
    [
        ("GET", "/api/v1/namespaces/probe-test/pods", "list", "pods", "probe-test", True),
        ("GET", "/api/v1/namespaces/probe-test/pods?watch=true", "watch", "pods", "probe-test", True),
        ("GET", "/api/v1/namespaces/probe-test/pods/p1", "get", "pods", "probe-test", True),
        ("GET", "/api/v1/namespaces/probe-test/pods/p1/log", "get", "pods/log", "probe-test", False),
        ("POST", "/api/v1/namespaces/probe-test/pods/p1/exec", "create", "pods/exec", "probe-test", False),
        ("GET", "/api/v1/namespaces/kube-system/pods", "list", "pods", "kube-system", False),
        ("GET", "/api/v1/pods", "list", "pods", None, False),
        ("DELETE", "/api/v1/namespaces/probe-test/pods", "deletecollection", "pods", "probe-test", False),
        ("GET", "/api/v1/namespaces/probe-test", "get", "namespaces", None, False),
        ("PATCH", "/apis/apps/v1/namespaces/probe-test/deployments/d", "patch", "deployments", "probe-test", False),
        ("GET", "/version", "get", "", None, True),
        ("GET", "/apis", "get", "", None, True),
        ("GET", "/metrics", "get", "", None, False),
    ],
)
def test_api_requests_are_read_as_rbac_reads_them(
    method: str, target: str, verb: str, resource: str, namespace: str | None, granted: bool
) -> None:
    call = parse_request(method, target, authenticated=True)
    assert (call.verb, call.resource, call.namespace) == (verb, resource, namespace)
    assert allowed(RULES, call, SCOPE) is granted


def test_resource_names_and_cluster_scope() -> None:
    named = (RbacRule(verbs=("get",), api_groups=("",), resources=("configmaps",), resource_names=("mine",)),)
    assert allowed(
        named, parse_request("GET", "/api/v1/namespaces/probe-test/configmaps/mine", authenticated=True), SCOPE
    )
    assert not allowed(
        named, parse_request("GET", "/api/v1/namespaces/probe-test/configmaps/other", authenticated=True), SCOPE
    )
    assert not allowed(
        named, parse_request("GET", "/api/v1/namespaces/probe-test/configmaps", authenticated=True), SCOPE
    )
    cluster = Scope(namespace="probe-test", cluster=True)
    assert allowed(RULES, parse_request("GET", "/api/v1/pods", authenticated=True), cluster)


def test_api_calls_beyond_rbac_are_findings() -> None:
    calls = (
        parse_request("GET", "/api/v1/namespaces/probe-test/pods", authenticated=True),
        parse_request("GET", "/api/v1/namespaces/probe-test/secrets", authenticated=True),
        ApiCall("list", "", "secrets", "probe-test", None, "/api/v1/namespaces/probe-test/secrets", "GET", True),
    )
    assert _ids(_observation(api_calls=calls)) == ["PG-PRB-005"]


# -- limits, executions ---------------------------------------------------------------------------


def test_out_of_memory_and_executions() -> None:
    assert _ids(_observation(usage=Usage(oom_killed=True, memory_peak_bytes=1 << 27))) == ["PG-PRB-006"]
    from plugingate.probe.observation import Exec

    execs = Trace(execs=(Exec("/bin/sh"), Exec("/bin/sh")))
    assert _ids(_observation(trace=execs)) == ["PG-PRB-007"]
    findings = compare(_observation(trace=execs), _declaration(), ProbePolicy(max_execs=2), "probe-test")
    assert findings == []


def test_privileged_calls_unless_declared_privileged() -> None:
    from plugingate.declaration.model import Privileges

    trace = read_trace([_PREFIX + "mount(0x7f00 none, 0x7f01 /tmp, 0x7f02 tmpfs, 0x0, 0x0) = 0 (0x0) errno=1"])
    assert trace.syscalls == {"mount": 1}
    assert _ids(_observation(trace=trace)) == ["PG-PRB-009"]
    privileged = _declaration(privileges=Privileges(privileged=True, run_as_non_root=False))
    assert _ids(_observation(trace=trace), privileged) == []


# -- the image, the policy, the CLI's inputs --------------------------------------------------------


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _docker_archive(path: Path, layers: list[dict[str, bytes]], config: dict[str, object]) -> None:
    members = {f"l{i}/layer.tar": _tar(layer) for i, layer in enumerate(layers)}
    members["config.json"] = json.dumps({"config": config}).encode()
    members["manifest.json"] = json.dumps(
        [{"Config": "config.json", "Layers": [f"l{i}/layer.tar" for i in range(len(layers))]}]
    ).encode()
    path.write_bytes(_tar(members))


def test_layers_are_laid_with_whiteouts(tmp_path: Path) -> None:
    archive = tmp_path / "image.tar"
    _docker_archive(
        archive,
        [{"bin/plugin": b"one", "etc/old": b"x", "etc/keep": b"k"}, {"bin/plugin": b"two", "etc/.wh.old": b""}],
        {"Entrypoint": ["/bin/plugin"], "Cmd": ["--serve"], "User": "1000:1000", "Env": ["A=1"]},
    )
    config = build_rootfs(archive, tmp_path / "rootfs", label="image.tar")
    assert config.argv == ("/bin/plugin", "--serve") and config.user == "1000:1000" and config.env == ("A=1",)
    assert (tmp_path / "rootfs" / "bin" / "plugin").read_bytes() == b"two"
    assert not (tmp_path / "rootfs" / "etc" / "old").exists()
    assert (tmp_path / "rootfs" / "etc" / "keep").exists()


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd"])
def test_a_hostile_layer_is_refused(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "image.tar"
    _docker_archive(archive, [{name: b"x"}], {"Entrypoint": ["/x"]})
    with pytest.raises(BundleError):
        build_rootfs(archive, tmp_path / "rootfs", label="image.tar")
    assert not (tmp_path / "escape").exists()


def test_not_an_image_archive(tmp_path: Path) -> None:
    archive = tmp_path / "image.tar"
    archive.write_bytes(_tar({"hello": b"x"}))
    with pytest.raises(BundleError, match="not an image archive"):
        build_rootfs(archive, tmp_path / "rootfs", label="image.tar")


def test_the_entrypoint_is_looked_up_inside_the_image_only(tmp_path: Path) -> None:
    from plugingate.probe.prober import _not_runnable
    from plugingate.probe.rootfs import ImageConfig

    rootfs = tmp_path / "rootfs"
    (rootfs / "opt").mkdir(parents=True)
    (rootfs / "opt" / "app").write_bytes(b"\x7fELF")
    (rootfs / "bin").mkdir()
    (rootfs / "bin" / "app").symlink_to("../opt/app")
    (rootfs / "bin" / "host").symlink_to("/etc/passwd")  # exists on the host, not in the image
    (rootfs / "bin" / "loop").symlink_to("/bin/loop")

    def config(*argv: str, env: tuple[str, ...] = ()) -> ImageConfig:
        return ImageConfig(argv=argv, env=env, user="", workdir="/opt")

    assert _not_runnable(rootfs, config("/bin/app")) is None
    assert _not_runnable(rootfs, config("app", env=("PATH=/bin",))) is None
    assert _not_runnable(rootfs, config("./app")) is None  # relative to the working folder
    for argv in (("/bin/host",), ("/bin/loop",), ("python",), ("/../../etc/passwd",)):
        assert "not in the image" in str(_not_runnable(rootfs, config(*argv)))
    assert "no entrypoint" in str(_not_runnable(rootfs, config()))


POLICY = b"apiVersion: plugingate.dev/v1\nkind: GatePolicy\nmetadata: {name: p}\nspec:\n  probe:\n"


def test_the_policy_probe_section(tmp_path: Path) -> None:
    policy = parse_policy(
        POLICY + b"    duration: 30s\n    maxExecs: 2\n    maxPids: 100\n    memoryOverhead: 32Mi\n",
        source="p.yaml",
        base_dir=tmp_path,
    )
    assert policy.probe.duration.total_seconds() == 30 and policy.probe.max_execs == 2
    assert policy.probe.max_pids == 100 and policy.probe.memory_overhead_bytes == 32 << 20
    with pytest.raises(InputError, match=r"p.yaml:\d+"):
        parse_policy(POLICY + b"    duration: soon\n", source="p.yaml", base_dir=tmp_path)
    with pytest.raises(InputError):
        parse_policy(POLICY + b"    network: host\n", source="p.yaml", base_dir=tmp_path)
    default = parse_policy(POLICY.replace(b"  probe:\n", b"  mode: warn\n"), source="p.yaml", base_dir=tmp_path)
    assert default.probe == ProbePolicy()


def test_duration_option(tmp_path: Path) -> None:
    policy = parse_policy(POLICY + b"    duration: 30s\n", source="p.yaml", base_dir=tmp_path)
    assert settings_for(policy, None).duration.total_seconds() == 30
    assert settings_for(policy, 2.5).duration.total_seconds() == 2.5
    for bad in (0, -1, 7200):
        with pytest.raises(InputError, match="--duration"):
            settings_for(policy, bad)


def test_missing_tools_fail_closed() -> None:
    with pytest.raises(ToolError) as caught:
        locate_tools({"PATH": "/nonexistent", "PLUGINGATE_RUNSC": "/nonexistent/runsc"})
    assert caught.value.exit_code == 3 and "runsc" in caught.value.message


def test_the_example_plugin_wires_its_token_as_acme_token() -> None:
    from plugingate.declaration import load_declaration
    from plugingate.manifests import load_manifests
    from plugingate.probe.run import make_canaries
    from plugingate.probe.wiring import secret_wiring

    root = REPO / "examples" / "acme-exporter"
    declaration = load_declaration(root)
    wiring = secret_wiring(load_manifests(root, declaration), declaration, declaration.images[0])
    assert wiring.env == {("acme-token", "token"): {"ACME_TOKEN"}}
    (canary,) = make_canaries(declaration, wiring)
    # NOTE: where the Deployment puts it, and (as: env) where the probe's convention does.
    assert canary.env == ("ACME_TOKEN", "ACME_TOKEN_TOKEN") and canary.files == ()


def test_wiring_reads_env_from_and_secret_volumes(tmp_path: Path) -> None:
    from plugingate.declaration import load_declaration
    from plugingate.manifests import load_manifests
    from plugingate.probe.wiring import secret_wiring

    from .images import write_bundle

    binary = tmp_path / "bin"
    binary.write_bytes(b"\x7fELF")
    root = write_bundle(tmp_path / "b", binary, manifests=True)
    deployment = root / "deploy" / "deployment.yaml"
    deployment.write_text(
        deployment.read_text().replace(
            "          volumeMounts:",
            "          envFrom:\n            - {secretRef: {name: acme-token}, prefix: ACME_}\n"
            "            - {secretRef: {name: not-declared}}\n          volumeMounts:",
        )
    )
    declaration = load_declaration(root)
    manifests = load_manifests(root, declaration)
    wiring = secret_wiring(manifests, declaration, declaration.images[0])
    assert wiring.env == {("acme-token", "token"): {"API_KEY", "ACME_token"}}
    assert wiring.files == {("acme-token", "token"): {"/etc/creds/api-token"}}
    other = declaration.images[0].__class__(name="other", ref="registry.example.com/other@sha256:" + "0" * 64)
    assert secret_wiring(manifests, declaration, other).env == {}


def test_canary_env_names() -> None:
    assert env_name("acme-token", "token") == "ACME_TOKEN_TOKEN"
    assert env_name("db.creds", "pass-word") == "DB_CREDS_PASS_WORD"


@pytest.mark.integration
def test_wiring_follows_a_rendered_form_too() -> None:
    # NOTE: the probe takes the objects as the gate read them, so a kustomize (or chart, operator)
    # plugin's secrets are wired where its rendered Deployment puts them, not only by convention.
    from plugingate.declaration import load_declaration
    from plugingate.manifests import load_manifests
    from plugingate.probe.wiring import secret_wiring
    from tests.forms.conftest import kustomize_or_skip

    kustomize_or_skip()
    root = REPO / "examples" / "acme-exporter-kustomize"
    declaration = load_declaration(root)
    assert declaration.kustomize is not None and not declaration.manifests
    wiring = secret_wiring(load_manifests(root, declaration), declaration, declaration.images[0])
    assert wiring.env == {("acme-token", "token"): {"ACME_TOKEN"}}
