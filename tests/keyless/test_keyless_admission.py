"""The shipped keyless admission policies, rendered for the private Sigstore, against keyless attestations.

Each image in a loopback registry carries a gate attestation signed keyless through the private
Fulcio/Rekor/TSA with a token the test's issuer minted, published with ``plugingate attach``. The
three engines run as the cluster would run them, offline: the Kyverno CLI (``ClusterPolicy``
verifyImages and ``ImageValidatingPolicy``) and policy-controller's tester. Each must admit the
attested image and refuse another identity (another repository; another workflow of the same
repository, i.e. another ``job_workflow_ref``), another issuer (the same subject from another
issuer: the issuer alone decides), a gate that did not pass, and an image without attestation.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugingate.attestation.signing import sign_statements
from plugingate.attestation.statement import gate_statement
from plugingate.pipeline import KeylessSettings
from tests.attestation.conftest import make_predicate
from tests.signature.cliutil import invoke
from tests.support.oidc_issuer import github_claims, github_identity, gitlab_claims, gitlab_identity
from tests.support.registry import push_test_image, start_registry
from tests.support.sigstore_local import LocalSigstore
from tests.support.tuf_repo import TufRepository

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
TOOLS = Path.home() / ".cache" / "plugingate" / "tools"
NAMESPACE = "plugins"
LABEL = {"plugingate.dev/plugins": "true"}

# NOTE: case -> (issuer path, claims, gate passed). "other-issuer" is signed by the GitLab issuer and
# checked against a policy that expects that very subject from the GitHub issuer.
SIGNED: dict[str, tuple[str, dict[str, Any], bool]] = {
    "attested": ("/github", github_claims(), True),
    "other-repository": ("/github", github_claims("acme-evil/exporter"), True),
    "other-workflow": ("/github", github_claims(workflow_path=".github/workflows/unreviewed.yml"), True),
    "other-issuer": ("/gitlab", gitlab_claims(), True),
    "denied": ("/github", github_claims(), False),
}
CASES = (*SIGNED, "unattested")


@dataclass(frozen=True)
class KeylessImages:
    """The images by case, and the private instance's trust files."""

    refs: dict[str, str]
    sigstore: LocalSigstore
    tuf: TufRepository
    tuf_root: Path


def tool(variable: str, name: str, version: str) -> str:
    path = os.environ.get(variable) or str(TOOLS / f"{name}-{version}" / name)
    if not Path(path).is_file():
        pytest.skip(f"{name} {version} not found at {path}: run scripts/setup-admission-tools (or set {variable})")
    return path


@pytest.fixture(scope="module")
def keyless_images(local_sigstore: LocalSigstore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeylessImages]:
    work = tmp_path_factory.mktemp("keyless-admission")
    registry = start_registry(work / "registry")
    tuf = TufRepository(work / "tuf")
    tuf.publish(local_sigstore.trusted_root.read_bytes())
    tuf.start()
    tuf_root = work / "tuf-root.json"
    tuf_root.write_bytes(tuf.root_json)
    try:
        refs: dict[str, str] = {}
        for case in CASES:
            digest = push_test_image(registry.host, f"plugins/{case}", f"{case} keyless image".encode())
            refs[case] = ref = f"{registry.host}/plugins/{case}@{digest}"
            if case == "unattested":
                continue
            path, claims, passed = SIGNED[case]
            token = work / f"{case}.jwt"
            token.write_text(local_sigstore.issuer.mint(path, claims))
            predicate = make_predicate() if passed else make_predicate(passed=False, violations=["PG-CAP-010"])
            images = [(ref, digest)]
            statement = gate_statement(
                bundle_name="acme-exporter.tgz", bundle_sha256="a" * 64, image_digests=images, predicate=predicate
            )
            settings = KeylessSettings(trust_config=local_sigstore.trust_config, identity_token=token)
            (bundle,) = sign_statements([statement], keyless=True, out_dir=work / case, keyless_settings=settings)
            attached = invoke("attach", ref, "--attestation", bundle, "--referrers")
            assert attached.code == 0, attached.output
        yield KeylessImages(refs=refs, sigstore=local_sigstore, tuf=tuf, tuf_root=tuf_root)
    finally:
        tuf.stop()
        registry.stop()


def render(images: KeylessImages, template: str, out: Path, *, subject: str, issuer: str) -> Path:
    """``plugingate policy admission`` of a shipped keyless policy for the private instance."""
    args: list[str | Path] = ["policy", "admission", POLICIES / template, "--identity", subject, "--issuer", issuer]
    args += ["--trusted-root", images.sigstore.trusted_root, "-o", out]
    if "imagevalidatingpolicy" in template:
        args += ["--tuf-mirror", images.tuf.url, "--tuf-root", images.tuf_root]
    outcome = invoke(*args)
    assert outcome.code == 0, outcome.output
    return out


def _pod(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "plugin", "namespace": NAMESPACE},
        "spec": {"containers": [{"name": "plugin", "image": image}]},
    }


def kyverno_apply(policy: Path, image: str, tmp_path: Path) -> tuple[int, str]:
    """``kyverno apply`` of one policy on a pod running ``image``, with a fresh HOME (no TUF cache)."""
    binary = tool("PLUGINGATE_KYVERNO", "kyverno", "v1.19.1")
    home = tmp_path / f"home-{time.time_ns()}"
    home.mkdir()
    resource = tmp_path / "pod.yaml"
    resource.write_text(yaml.safe_dump(_pod(image)))
    name = yaml.safe_load(policy.read_text())["metadata"]["name"]
    values = {
        "apiVersion": "cli.kyverno.io/v1alpha1",
        "kind": "Values",
        "namespaceSelector": [{"name": NAMESPACE, "labels": LABEL}],
        "namespaces": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": LABEL}}],
        "policies": [
            {
                "name": name,
                "rules": [
                    {"name": rule, "values": {"revocations.data.digests": "[]"}}
                    for rule in ("refuse-revoked-images", "require-plugingate-gate")
                ],
            }
        ],
    }
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
    context = {
        "apiVersion": "cli.kyverno.io/v1alpha1",
        "kind": "Context",
        "metadata": {"name": "cluster"},
        "spec": {
            "resources": [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "plugingate-revocations", "namespace": "kyverno"},
                    "data": {"digests": "[]"},
                }
            ]
        },
    }
    (tmp_path / "context.yaml").write_text(yaml.safe_dump(context))
    argv = [binary, "apply", str(policy), "--resource", str(resource), "--values-file", str(tmp_path / "values.yaml")]
    argv += ["--context-file", str(tmp_path / "context.yaml"), "--registry", "--detailed-results"]
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "KYVERNO_EXPERIMENTAL": "false"},
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def policy_tester(rendered: Path, image: str, tmp_path: Path) -> tuple[int, str]:
    """policy-controller's tester with the rendered TrustRoot and ClusterImagePolicy (two documents)."""
    binary = tool("PLUGINGATE_POLICY_TESTER", "policy-tester", "v0.13.1")
    trust_root, policy = list(yaml.safe_load_all(rendered.read_text()))
    assert trust_root["kind"] == "TrustRoot" and policy["kind"] == "ClusterImagePolicy"
    (tmp_path / "trustroot.yaml").write_text(yaml.safe_dump(trust_root))
    (tmp_path / "cip.yaml").write_text(yaml.safe_dump(policy))
    home = tmp_path / f"home-{time.time_ns()}"
    home.mkdir()
    proc = subprocess.run(
        [binary, "--policy", str(tmp_path / "cip.yaml"), "--trustroot", str(tmp_path / "trustroot.yaml"),
         "--image", image, "--log-level", "warn"],
        capture_output=True, text=True, timeout=120, env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, check=False,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    # NOTE: the tester exits 0 either way in some failures; its JSON "errors" list is the verdict.
    admitted = proc.returncode == 0 and '"errors"' not in out
    return (0 if admitted else 1), out


TEMPLATES = {
    "clusterpolicy": "kyverno/clusterpolicy-keyless.yaml",
    "imagevalidatingpolicy": "kyverno/imagevalidatingpolicy-keyless.yaml",
    "policy-controller": "policy-controller/clusterimagepolicy-keyless.yaml",
}


def run_engine(
    engine: str, images: KeylessImages, case: str, tmp_path: Path, *, subject: str, issuer: str
) -> tuple[int, str]:
    rendered = render(images, TEMPLATES[engine], tmp_path / "policy.yaml", subject=subject, issuer=issuer)
    if engine == "policy-controller":
        return policy_tester(rendered, images.refs[case], tmp_path)
    code, out = kyverno_apply(rendered, images.refs[case], tmp_path)
    admitted = code == 0 and "fail: 0, warn: 0, error: 0" in out and "pass: 0" not in out
    return (0 if admitted else 1), out


# NOTE: what each engine says when it refuses. The identity and issuer cases must be refused for the
# signature (nothing verified), not for anything the predicate says; Kyverno's ClusterPolicy names the field.
REFUSED: dict[str, dict[str, str]] = {
    "clusterpolicy": {
        "other-repository": "subject mismatch: expected https://github.com/acme/exporter/",
        "other-workflow": "received https://github.com/acme/exporter/.github/workflows/unreviewed.yml",
        "other-issuer": "issuer mismatch: expected",
        "denied": "the plugingate gate denied this image",
        "unattested": "no matching attestations",
    },
    "imagevalidatingpolicy": {
        "other-repository": "no gate attestation about this image signed by the gate",
        "other-workflow": "no gate attestation about this image signed by the gate",
        "other-issuer": "no gate attestation about this image signed by the gate",
        "denied": "the plugingate gate denied it",
        "unattested": "no gate attestation about this image signed by the gate",
    },
    "policy-controller": {
        "other-repository": "none of the expected identities matched",
        "other-workflow": "none of the expected identities matched",
        "other-issuer": "none of the expected identities matched",
        "denied": "the plugingate gate denied this image",
        "unattested": "no matching attestations",
    },
}


@pytest.mark.parametrize("engine", list(TEMPLATES))
@pytest.mark.parametrize("case", CASES)
def test_keyless_policy_with_the_private_root(
    keyless_images: KeylessImages, tmp_path: Path, engine: str, case: str
) -> None:
    github = keyless_images.sigstore.github_issuer()
    subject = gitlab_identity() if case == "other-issuer" else github_identity()
    code, out = run_engine(engine, keyless_images, case, tmp_path, subject=subject, issuer=github)
    if case == "attested":
        assert code == 0, out
        return
    assert code == 1, f"{engine} admitted {case}: {out}"
    assert REFUSED[engine][case] in out, out


@pytest.mark.parametrize("engine", list(TEMPLATES))
def test_controls_the_issuer_alone_and_the_public_root(
    keyless_images: KeylessImages, tmp_path: Path, engine: str
) -> None:
    """The GitLab-signed image is admitted when its issuer is the expected one (so "other-issuer" was
    refused for the issuer alone); and the attested image is refused by the same policy rendered for the
    public Sigstore (the private root is what admits it)."""
    gitlab = keyless_images.sigstore.gitlab_issuer()
    code, out = run_engine(engine, keyless_images, "other-issuer", tmp_path, subject=gitlab_identity(), issuer=gitlab)
    assert code == 0, out
    public = tmp_path / "public"
    public.mkdir()
    outcome = invoke(
        "policy", "admission", POLICIES / TEMPLATES[engine], "--identity", github_identity(),
        "--issuer", keyless_images.sigstore.github_issuer(), "-o", public / "policy.yaml",
    )  # fmt: skip
    assert outcome.code == 0, outcome.output
    image = keyless_images.refs["attested"]
    if engine == "policy-controller":
        binary = tool("PLUGINGATE_POLICY_TESTER", "policy-tester", "v0.13.1")
        proc = subprocess.run(
            [binary, "--policy", str(public / "policy.yaml"), "--image", image, "--log-level", "warn"],
            capture_output=True, text=True, timeout=120, env={"HOME": str(public), "PATH": "/usr/bin:/bin"},
            check=False,
        )  # fmt: skip
        assert proc.returncode != 0 or '"errors"' in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    else:
        code, out = kyverno_apply(public / "policy.yaml", image, public)
        assert code != 0, out


@pytest.mark.parametrize("engine", list(TEMPLATES))
def test_identity_regex_is_anchored_in_every_engine(keyless_images: KeylessImages, tmp_path: Path, engine: str) -> None:
    """``--identity-regex`` renders as an anchored ``subjectRegExp`` (``^(?:RE)$``) that each engine
    compiles (Go RE2) and applies: the attested image matches it, another repository's does not."""
    pattern = r"https://github\.com/acme/exporter/\.github/workflows/release\.yml@refs/heads/main"
    github = keyless_images.sigstore.github_issuer()
    out_file = tmp_path / "policy.yaml"
    args: list[str | Path] = ["policy", "admission", POLICIES / TEMPLATES[engine], "--identity-regex", pattern]
    args += ["--issuer", github, "--trusted-root", keyless_images.sigstore.trusted_root, "-o", out_file]
    if engine == "imagevalidatingpolicy":
        args += ["--tuf-mirror", keyless_images.tuf.url, "--tuf-root", keyless_images.tuf_root]
    assert invoke(*args).code == 0
    results = {}
    for case in ("attested", "other-repository"):
        work = tmp_path / case
        work.mkdir()
        if engine == "policy-controller":
            results[case] = policy_tester(out_file, keyless_images.refs[case], work)[0]
        else:
            code, out = kyverno_apply(out_file, keyless_images.refs[case], work)
            results[case] = 0 if code == 0 and "fail: 0, warn: 0, error: 0" in out else 1
    assert results == {"attested": 0, "other-repository": 1}


@pytest.mark.parametrize("case", ["attested", "other-repository", "other-issuer", "unattested"])
def test_cosign_verify_attestation_of_the_image(keyless_images: KeylessImages, tmp_path: Path, case: str) -> None:
    """cosign v3.1.3 ``verify-attestation`` of the image with the private trusted root: what the
    cluster's engines decided, cosign decides too, from the attestation `plugingate attach` published."""
    from plugingate.attestation.predicate import GATE_PREDICATE_TYPE
    from tests.attestation.tools import cosign

    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run(
        [cosign(), "verify-attestation", "--trusted-root", str(keyless_images.sigstore.trusted_root),
         "--type", GATE_PREDICATE_TYPE, "--certificate-identity", github_identity(),
         "--certificate-oidc-issuer", keyless_images.sigstore.github_issuer(), keyless_images.refs[case]],
        capture_output=True, text=True, timeout=120, env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, check=False,
    )  # fmt: skip
    if case == "attested":
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode != 0, proc.stdout + proc.stderr


def _push_oci_archive(host: str, repository: str, archive: Path) -> str:
    """Push an OCI image layout tar (one image) as it is: the manifest's digest is unchanged."""
    import json as _json
    import tarfile

    from plugingate.oci.client import RegistryClient

    client = RegistryClient(host)
    with tarfile.open(archive) as tar:

        def blob(digest: str) -> bytes:
            member = tar.extractfile(f"blobs/sha256/{digest.removeprefix('sha256:')}")
            assert member is not None
            return member.read()

        index = _json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        (entry,) = index["manifests"]
        body = blob(entry["digest"])
        manifest = _json.loads(body)
        for item in (manifest["config"], *manifest["layers"]):
            client.put_blob(repository, blob(item["digest"]))
        return client.put_manifest(repository, entry["digest"], body, entry["mediaType"])


@pytest.fixture(scope="module")
def gated_image(keyless_images: KeylessImages, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example plugin through a whole ``gate --attest-keyless`` in enforce mode (a token the test's
    issuer minted), its gate attestation attached to the plugin's image pushed to the loopback registry."""
    import hashlib
    import shutil

    from tests.conftest import run_cli

    work = tmp_path_factory.mktemp("gated")
    bundle = work / "acme-exporter.tgz"
    for suffix in ("", ".sigstore.json"):  # the bundle and its publisher's signature beside it
        shutil.copyfile(REPO / "examples" / f"acme-exporter.tgz{suffix}", work / f"acme-exporter.tgz{suffix}")
    host = keyless_images.refs["attested"].split("/", 1)[0]
    archive = REPO / "examples" / "acme-exporter" / "image" / "exporter.oci.tar"
    digest = _push_oci_archive(host, "acme/exporter", archive)
    # NOTE: the default policy with the project's test vulnerability database (what the suite scans with)
    policy = work / "policy.yaml"
    shutil.copyfile(REPO / "testdata" / "policies" / "default-test-db.yaml", policy)
    token = work / "gate.jwt"
    token.write_text(keyless_images.sigstore.issuer.mint("/github", github_claims()))
    out = work / "out"
    pin = "sha256:" + hashlib.sha256(policy.read_bytes()).hexdigest()
    result = run_cli(
        "gate", bundle, "--policy", policy, "--policy-digest", pin,
        "--mode", "enforce", "--attest-keyless", "--trust-config", keyless_images.sigstore.trust_config,
        "--identity-token", token, "--out", out, "--format", "json",
    )  # fmt: skip
    assert result.code == 0, result.stderr + result.stdout[-3000:]
    ref = f"{host}/acme/exporter@{digest}"
    for name in ("attestation-gate.sigstore.json", "attestation-vsa.sigstore.json"):
        attached = invoke("attach", ref, "--attestation", out / name, "--referrers")
        assert attached.code == 0, attached.output
    return ref


@pytest.mark.parametrize("engine", list(TEMPLATES))
def test_a_real_gate_run_is_admitted(
    keyless_images: KeylessImages, gated_image: str, tmp_path: Path, engine: str
) -> None:
    """What the gate signed keyless (not a hand-made statement) is what the cluster admits."""
    rendered = render(
        keyless_images, TEMPLATES[engine], tmp_path / "policy.yaml", subject=github_identity(),
        issuer=keyless_images.sigstore.github_issuer(),
    )  # fmt: skip
    if engine == "policy-controller":
        code, out = policy_tester(rendered, gated_image, tmp_path)
    else:
        code, out = kyverno_apply(rendered, gated_image, tmp_path)
        code = 0 if code == 0 and "fail: 0, warn: 0, error: 0" in out else 1
    assert code == 0, out
