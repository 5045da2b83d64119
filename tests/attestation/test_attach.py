"""``plugingate attach`` against a real registry: credentials, refusals, the referrers form."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.registry import Registry, push_test_image, start_registry

from plugingate.attestation.signing import sign_statements
from plugingate.attestation.statement import gate_statement
from plugingate.errors import InputError
from plugingate.keys import private_key_from_pem
from plugingate.oci.auth import Credentials, lookup_credentials
from plugingate.oci.client import RegistryClient, RegistryError
from plugingate.oci.reference import parse_image_ref

from .cli import run
from .conftest import make_predicate

DIGEST = "sha256:" + "a" * 64


# -- references and credentials (no network) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "registry", "repository"),
    [
        (f"127.0.0.1:5000/acme/exporter@{DIGEST}", "127.0.0.1:5000", "acme/exporter"),
        (f"localhost/acme@{DIGEST}", "localhost", "acme"),
        (f"ghcr.io/acme/x:1.0@{DIGEST}", "ghcr.io", "acme/x"),
        (f"busybox@{DIGEST}", "registry-1.docker.io", "library/busybox"),
        (f"docker.io/acme/x@{DIGEST}", "registry-1.docker.io", "acme/x"),
    ],
)
def test_parse_image_ref(text: str, registry: str, repository: str) -> None:
    ref = parse_image_ref(text)
    assert (ref.registry, ref.repository, ref.digest) == (registry, repository, DIGEST)


@pytest.mark.parametrize(
    "text", ["ghcr.io/acme/x:1.0", f"ghcr.io/acme/x@sha256:{'a' * 63}", f"ghcr.io/Acme/x@{DIGEST}"]
)
def test_parse_image_ref_refuses(text: str) -> None:
    with pytest.raises(InputError):
        parse_image_ref(text)


def test_docker_config_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "auths": {
                    "127.0.0.1:5000": {"auth": base64.b64encode(b"ci:pa:ss").decode()},
                    "https://index.docker.io/v1/": {"username": "hub", "password": "pw"},
                    "ghcr.io": {"identitytoken": "refresh-me"},
                }
            }
        )
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert lookup_credentials("127.0.0.1:5000") == Credentials(username="ci", password="pa:ss")
    assert lookup_credentials("registry-1.docker.io") == Credentials(username="hub", password="pw")
    assert lookup_credentials("ghcr.io") == Credentials(identity_token="refresh-me")
    assert lookup_credentials("quay.io") is None
    assert "pa:ss" not in repr(lookup_credentials("127.0.0.1:5000"))
    config.write_text(json.dumps({"auths": {"quay.io": {"auth": "!!"}}}))
    with pytest.raises(InputError, match="base64"):
        lookup_credentials("quay.io")


def test_credential_helper_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # NOTE: a stand-in helper speaking docker-credential's protocol; the real twin of the credential path
    # is test_attach_with_docker_config_login below, against a registry that requires a login.
    helper = tmp_path / "bin" / "docker-credential-pgtest"
    helper.parent.mkdir()
    helper.write_text('#!/bin/sh\nread host\necho "{\\"Username\\":\\"u-$host\\",\\"Secret\\":\\"s\\"}"\n')
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:/usr/bin:/bin")
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {"quay.io": "pgtest"}, "credsStore": "pgtest"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert lookup_credentials("quay.io") == Credentials(username="u-quay.io", password="s")
    assert lookup_credentials("example.com").username == "u-example.com"  # type: ignore[union-attr]
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "missing"}))
    with pytest.raises(InputError, match="not installed"):
        lookup_credentials("example.com")


def test_plain_http_only_for_loopback() -> None:
    assert RegistryClient("127.0.0.1:5000").scheme == "http"
    assert RegistryClient("localhost:5000").scheme == "http"
    assert RegistryClient("registry.example.com").scheme == "https"
    assert RegistryClient("registry.example.com", insecure=True).scheme == "http"
    client = RegistryClient("registry.example.com")
    with pytest.raises(RegistryError, match="refusing plain HTTP"):
        client._send("GET", "http://registry.example.com/v2/", {}, None, 100, "repository:x:pull")
    with pytest.raises(RegistryError, match="refusing a 'file' URL"):
        client._send("GET", "file:///etc/passwd", {}, None, 100, "repository:x:pull")


# -- against a real registry -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def login_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = start_registry(tmp_path_factory.mktemp("login-registry"), username="ci", password="s3cret")
    yield reg
    reg.stop()


def _attestation(tmp_path: Path, key_pem: bytes, repo: str, digest: str) -> Path:
    statement = gate_statement(
        bundle_name="b.tgz",
        bundle_sha256=hashlib.sha256(b"b").hexdigest(),
        image_digests=[(repo, digest)],
        predicate=make_predicate(),
    )
    out = tmp_path / f"att-{digest[7:15]}"
    return sign_statements([statement], key=private_key_from_pem(key_pem, password=None), out_dir=out)[0]


@pytest.mark.integration
def test_attach_with_docker_config_login(
    login_registry: Registry,
    tmp_path: Path,
    ec_key_pem: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    host = login_registry.host
    client = RegistryClient(host, credentials=Credentials(username="ci", password="s3cret"))
    # the test helper pushes without credentials: refused; push with them by hand instead
    with pytest.raises(RegistryError, match="requires a login"):
        push_test_image(host, "acme/private", b"x")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    (tmp_path / "docker").mkdir()
    config = tmp_path / "docker" / "config.json"
    config.write_text(json.dumps({"auths": {host: {"auth": base64.b64encode(b"ci:s3cret").decode()}}}))
    digest = _push_with(client, "acme/private")
    att = _attestation(tmp_path, ec_key_pem[0], f"{host}/acme/private", digest)
    ok = run(["attach", f"{host}/acme/private@{digest}", "--attestation", str(att)], monkeypatch, capsys)
    assert ok.code == 0, ok.err
    config.write_text(json.dumps({"auths": {host: {"auth": base64.b64encode(b"ci:wrong").decode()}}}))
    bad = run(["attach", f"{host}/acme/private@{digest}", "--attestation", str(att)], monkeypatch, capsys)
    assert bad.code == 3 and "401" in bad.err
    config.write_text("{}")
    none = run(["attach", f"{host}/acme/private@{digest}", "--attestation", str(att)], monkeypatch, capsys)
    assert none.code == 3 and "requires a login" in none.err and "docker login" in none.err


def _push_with(client: RegistryClient, repository: str) -> str:
    layer = b"layer"
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": len(config),
            "digest": client.put_blob(repository, config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "size": len(layer),
                "digest": client.put_blob(repository, layer),
            }
        ],
    }
    body = json.dumps(manifest).encode()
    return client.put_manifest(repository, "v1", body, "application/vnd.oci.image.manifest.v1+json")


@pytest.mark.integration
def test_attach_refusals(
    registry: Registry,
    tmp_path: Path,
    ec_key_pem: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "none"))
    host = registry.host
    image = push_test_image(host, "acme/refuse", b"image one")
    other = push_test_image(host, "acme/refuse", b"image two", tag="two")
    att = _attestation(tmp_path, ec_key_pem[0], f"{host}/acme/refuse", image)
    # an attestation about another image is not attached
    wrong = run(["attach", f"{host}/acme/refuse@{other}", "--attestation", str(att)], monkeypatch, capsys)
    assert wrong.code == 2 and "not about" in wrong.err
    # an image that does not exist
    missing = "sha256:" + "0" * 64
    att_missing = _attestation(tmp_path, ec_key_pem[0], f"{host}/acme/refuse", missing)
    gone = run(["attach", f"{host}/acme/refuse@{missing}", "--attestation", str(att_missing)], monkeypatch, capsys)
    assert gone.code == 2 and "does not exist" in gone.err
    # a tag instead of a digest
    tag = run(["attach", f"{host}/acme/refuse:latest", "--attestation", str(att)], monkeypatch, capsys)
    assert tag.code == 2 and "not pinned by digest" in tag.err
    # nothing listens: could not decide
    from support.registry import free_port

    dead = f"127.0.0.1:{free_port()}"
    down = run(["attach", f"{dead}/acme/refuse@{image}", "--attestation", str(att)], monkeypatch, capsys)
    assert down.code == 3 and "cannot reach the registry" in down.err
    # something else already at the .att tag is never overwritten
    client = RegistryClient(host)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
    client.put_manifest(
        "acme/refuse", f"sha256-{image[7:]}.att", json.dumps(index).encode(), "application/vnd.oci.image.index.v1+json"
    )
    clash = run(["attach", f"{host}/acme/refuse@{image}", "--attestation", str(att)], monkeypatch, capsys)
    assert clash.code == 3 and "refusing to overwrite" in clash.err


@pytest.mark.integration
def test_attach_referrers_form(
    registry: Registry,
    tmp_path: Path,
    ec_key_pem: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "none"))
    host = registry.host
    image = push_test_image(host, "acme/referrers", b"referred image")
    att = _attestation(tmp_path, ec_key_pem[0], f"{host}/acme/referrers", image)
    result = run(
        ["attach", f"{host}/acme/referrers@{image}", "--attestation", str(att), "--referrers", "--format", "json"],
        monkeypatch,
        capsys,
    )
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert out["added"] == 1 and len(out["referrers"]) == 1
    client = RegistryClient(host)
    # docker-registry 2.8 has no referrers API: the fallback tag index lists the referrer
    assert client.referrers("acme/referrers", image) is None
    index = client.get_manifest("acme/referrers", f"sha256-{image[7:]}")
    assert index is not None
    (entry,) = index.json()["manifests"]
    assert entry["digest"] == out["referrers"][0]
    assert entry["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    referrer = client.get_manifest("acme/referrers", entry["digest"])
    assert referrer is not None
    doc = referrer.json()
    assert doc["subject"]["digest"] == image
    assert doc["annotations"]["dev.sigstore.bundle.predicateType"] == "https://plugingate.dev/attestation/gate/v2"
    bundle = json.loads(client.get_blob("acme/referrers", doc["layers"][0]["digest"]))
    assert bundle["dsseEnvelope"] == json.loads(att.read_text().splitlines()[0])


@pytest.mark.integration
def test_cosign_reads_the_referrers_form(registry: Registry, tmp_path: Path, ec_key_pem: tuple[bytes, bytes]) -> None:
    """Only the referrer (no .att tag): cosign v3 finds it through the referrers tag index."""
    from plugingate.oci.attach import attach, read_attestations

    from .tools import run_cosign

    host = registry.host
    image = push_test_image(host, "acme/referrers-only", b"referrers only")
    ref = f"{host}/acme/referrers-only@{image}"
    att = _attestation(tmp_path, ec_key_pem[0], f"{host}/acme/referrers-only", image)
    client = RegistryClient(host)
    attach(
        client, parse_image_ref(ref), read_attestations(att.read_bytes(), source=str(att)), referrers=True, legacy=False
    )
    assert client.get_manifest("acme/referrers-only", f"sha256-{image[7:]}.att") is None
    pub = tmp_path / "gate.pub"
    pub.write_bytes(ec_key_pem[1])
    args = ["verify-attestation", "--key", str(pub), "--type", "https://plugingate.dev/attestation/gate/v2"]
    ok = run_cosign(*args, "--insecure-ignore-tlog", ref)
    assert ok.returncode == 0, ok.stderr
    other = push_test_image(host, "acme/referrers-only", b"no referrers", tag="other")
    bad = run_cosign(*args, "--insecure-ignore-tlog", f"{host}/acme/referrers-only@{other}")
    assert bad.returncode != 0


def test_keyless_bundles_need_the_referrers_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    envelope = {
        "payloadType": "application/vnd.in-toto+json",
        "payload": base64.b64encode(
            json.dumps(
                {
                    "_type": "https://in-toto.io/Statement/v1",
                    "predicateType": "x",
                    "subject": [{"name": "i", "digest": {"sha256": "a" * 64}}],
                    "predicate": {},
                }
            ).encode()
        ).decode(),
        "signatures": [{"sig": "AA=="}],
    }
    bundle = tmp_path / "attestation-gate.sigstore.json"
    bundle.write_text(
        json.dumps(
            {
                "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "verificationMaterial": {},
                "dsseEnvelope": envelope,
            }
        )
    )
    result = run(["attach", f"127.0.0.1:1/acme/x@{DIGEST}", "--attestation", str(bundle)], monkeypatch, capsys)
    assert result.code == 2 and "--referrers" in result.err
