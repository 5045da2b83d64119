"""The admission side's fixtures: a loopback registry holding one image per case the admission
policies must tell apart (issue 12), attested with a fresh gate key, and the policies rendered with
that key, the platform's pinned policy digest and its revocation list."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.registry import push_test_image, start_registry

from plugingate.attestation.predicate import BundleRef, PolicyRef
from plugingate.attestation.signing import sign_statements
from plugingate.attestation.statement import gate_statement, vsa_statement
from plugingate.attestation.vsa import VerificationResult, build_vsa
from plugingate.keys import private_key_from_pem
from plugingate.oci.attach import _attach_legacy, _attach_referrer, attach, read_attestations
from plugingate.oci.client import RegistryClient
from plugingate.oci.reference import parse_image_ref

POLICIES = Path(__file__).resolve().parents[2] / "policies"
KEY_PLACEHOLDER = (
    "-----BEGIN PUBLIC KEY-----\n{indent}REPLACE-WITH-THE-GATE-PUBLIC-KEY\n{indent}-----END PUBLIC KEY-----"
)
TOOLS = Path.home() / ".cache" / "plugingate" / "tools"
POLICY_SHA = hashlib.sha256(b"policy").hexdigest()  # the platform's reviewed gate policy (pinned)
OTHER_POLICY_SHA = hashlib.sha256(b"the author's own policy").hexdigest()
BUNDLE_SHA = hashlib.sha256(b"bundle").hexdigest()
REVOKED_BUNDLE_SHA = hashlib.sha256(b"a revoked bundle").hexdigest()

# NOTE: what each image carries, and whether a policy that checks everything admits it. "vsa-only"
# is admitted by the policies that accept the SLSA verification summary as an alternative.
CASES: Mapping[str, str] = {
    "attested": "a passing gate attestation and its VSA",
    "unattested": "nothing",
    "denied": "a gate attestation with passed: false (enforce, violations)",
    "warn": "passed: true in warn mode with violations (what plugingate < 0.2 signed)",
    "dry-run": "passed: true in dry-run mode, no violations listed",
    "warn-now": "what the gate signs for a warn run now: passed: false, mode warn, violations",
    "other-subject": "a passing gate attestation about another image's digest",
    "other-signer": "a passing gate attestation signed by another key",
    "expired": "a passing gate attestation whose validUntil has passed",
    "revoked": "a passing gate attestation, but the image's digest is revoked",
    "bundle-revoked": "a passing gate attestation whose bundle is revoked",
    "other-policy": "a passing gate attestation made under another (unpinned) gate policy",
    "v1": "a passing gate/v1 attestation",
    "mixed": "one passing and one failing gate attestation",
    "vsa-only": "only a PASSED SLSA verification summary",
    "vsa-failed": "only a FAILED SLSA verification summary",
    "vsa-old": "only a PASSED verification summary verified 40 days ago",
    "vsa-revoked": "only a PASSED verification summary whose bundle is revoked",
}


@dataclass(frozen=True)
class Images:
    """Image references (``127.0.0.1:PORT/plugins/<case>@sha256:...``) for every case, and the platform's settings."""

    registry: str
    refs: Mapping[str, str]
    public_key_pem: str
    revoked: tuple[str, ...]  # sha256:<hex> of the revoked image and bundle

    def __getattr__(self, name: str) -> str:
        try:
            return self.refs[name.replace("_", "-")]
        except KeyError:
            raise AttributeError(name) from None


def tool(env: str, name: str, version: str) -> str:
    """``$ENV``, else ``~/.cache/plugingate/tools/<name>-<version>/<name>``; skip with the way to get it."""
    path = os.environ.get(env) or str(TOOLS / f"{name}-{version}" / name)
    if not Path(path).is_file():
        pytest.skip(f"{name} {version} not found at {path}: run scripts/setup-admission-tools (or set {env})")
    return path


def render(
    policy: Path,
    public_key_pem: str,
    registry: str | None = None,
    *,
    pinned: tuple[str, ...] = (),
    revoked: tuple[str, ...] = (),
) -> str:
    """A shipped policy with the test's gate key in place of the placeholder, and the platform's
    pinned policy digests (and, for policy-controller's Rego, revoked digests) filled in."""
    text = policy.read_text()
    for indent in ("                          ", "            ", "          "):
        placeholder = KEY_PLACEHOLDER.format(indent=indent)
        if placeholder in text:
            key = ("\n" + indent).join(public_key_pem.strip().splitlines())
            text = text.replace(placeholder, key)
    assert "REPLACE-WITH" not in text, "the key placeholder was not found"
    if pinned:
        listed = json.dumps(list(pinned))
        rego_set = "{" + ", ".join(json.dumps(p) for p in pinned) + "}"
        edits = {
            "        - name: pinnedPolicyDigests\n          variable:\n            value: []": (
                f"        - name: pinnedPolicyDigests\n          variable:\n            value: {listed}"
            ),
            '    - name: pinnedPolicyDigests\n      expression: "[]"': (
                f"    - name: pinnedPolicyDigests\n      expression: {json.dumps(listed)}"
            ),
            "pinned_policy_digests := set()": f"pinned_policy_digests := {rego_set}",
        }
        found = [old for old in edits if old in text]
        assert found, "no pinned policy digest setting found"
        for old in found:
            text = text.replace(old, edits[old])
    if revoked:
        rego_set = "{" + ", ".join(json.dumps(r) for r in revoked) + "}"
        assert "revoked_digests := set()" in text
        text = text.replace("revoked_digests := set()", f"revoked_digests := {rego_set}")
    return text


def _key_pair() -> tuple[bytes, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = (
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).decode()
    return private, public


def _statements(case: str, ref: str, digest: str) -> list[dict[str, Any]]:
    """The signed statements an image of ``case`` carries (before signing)."""
    from attestation.conftest import make_predicate

    images = [(ref, digest)]
    bundle_sha = REVOKED_BUNDLE_SHA if case in ("bundle-revoked", "vsa-revoked") else BUNDLE_SHA
    common: dict[str, Any] = {"bundle_name": "acme-exporter.tgz", "bundle_sha256": bundle_sha, "image_digests": images}
    changes: dict[str, Any] = {"bundle": BundleRef(name="acme-exporter.tgz", sha256=bundle_sha)}
    now = datetime.now(UTC).replace(microsecond=0)
    if case == "denied":
        changes.update(passed=False, violations=["PG-CAP-010"])
    elif case == "warn-now":
        changes.update(passed=False, mode="warn", violations=["PG-CAP-010"])
    elif case == "expired":
        then = now - timedelta(days=40)
        changes.update(evaluated_at=then, valid_until=then + timedelta(days=30))
    elif case == "other-policy":
        changes.update(policy=PolicyRef(name="authors-own", sha256=OTHER_POLICY_SHA))
    elif case == "other-subject":
        common["image_digests"] = [(ref, "sha256:" + hashlib.sha256(b"another image").hexdigest())]
    predicate = make_predicate(**changes)
    gate = gate_statement(**common, predicate=predicate)
    # NOTE: what a gate before v2 signed (or a broken one would): built past GatePredicate's own check.
    if case == "warn":
        gate["predicate"].update(mode="warn", violations=["PG-CAP-010"])
    elif case == "dry-run":
        gate["predicate"].update(mode="dry-run", violations=[])
    elif case == "v1":
        gate["predicateType"] = "https://plugingate.dev/attestation/gate/v1"
    summary = build_vsa(predicate, bundle_name="acme-exporter.tgz", bundle_sha256=bundle_sha)
    if case == "vsa-failed":
        summary = replace(summary, result=VerificationResult.FAILED)
    elif case == "vsa-old":
        summary = replace(summary, time_verified=now - timedelta(days=40))
    vsa = vsa_statement(**common, summary=summary)
    if case.startswith("vsa-"):
        return [vsa]
    if case == "attested":
        return [gate, vsa]
    if case == "mixed":
        failed = gate_statement(**common, predicate=make_predicate(passed=False, violations=["PG-CAP-010"]))
        return [gate, failed]
    return [gate]


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Images]:
    """Start the registry, push one image per case and attest it as the case says."""
    work = tmp_path_factory.mktemp("admission")
    registry = start_registry(work / "registry")
    try:
        private, public = _key_pair()
        other_private, _ = _key_pair()
        client = RegistryClient(registry.host)
        refs: dict[str, str] = {}
        for case in CASES:
            digest = push_test_image(registry.host, f"plugins/{case}", f"{case} image".encode())
            refs[case] = ref = f"{registry.host}/plugins/{case}@{digest}"
            if case == "unattested":
                continue
            key = private_key_from_pem(other_private if case == "other-signer" else private, password=None)
            attestations = []
            for i, statement in enumerate(_statements(case, ref, digest)):
                jsonl = sign_statements([statement], key=key, out_dir=work / case / str(i))[0]
                attestations.extend(read_attestations(jsonl.read_bytes(), source=str(jsonl)))
            image = parse_image_ref(ref)
            # NOTE: both layouts: cosign's .att tag (ClusterPolicy, policy-controller) and Sigstore bundles as
            # OCI referrers, the only one Kyverno 1.19's ImageValidatingPolicy verifies for key-signed
            # attestations without a transparency log (kyverno#17109; see docs/attestation.md).
            if case == "other-subject":
                # NOTE: attach refuses this; an attacker pushes it as cosign would, so do we.
                _attach_legacy(client, image, attestations)
                target = client.get_manifest(image.repository, image.digest)
                assert target is not None
                for att in attestations:
                    _attach_referrer(client, image, target, att)
            else:
                attach(client, image, attestations, referrers=True)
        revoked = (refs["revoked"].rsplit("@", 1)[1], f"sha256:{REVOKED_BUNDLE_SHA}")
        yield Images(registry=registry.host, refs=refs, public_key_pem=public, revoked=revoked)
    finally:
        registry.stop()
