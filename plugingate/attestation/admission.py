"""The shipped keyless admission policies, made concrete: the CI identity, and the Sigstore instance.

``policies/kyverno/clusterpolicy-keyless.yaml``, ``imagevalidatingpolicy-keyless.yaml`` and
``policies/policy-controller/clusterimagepolicy-keyless.yaml`` name a placeholder identity and the
public Sigstore. ``render_keyless`` fills in the identity (exact subject or a regex, and the issuer)
and, given a private instance's ``trusted_root.json``, the trust material each engine reads, in the
form that engine takes it:

- Kyverno ``ClusterPolicy`` (``verifyImages`` keyless attestor, cosign's ``.att`` layout):
  ``roots`` (the CA chains, PEM), ``rekor.url`` + ``rekor.pubkey``, ``ctlog.pubkey``. Nothing is
  fetched: the attestation's certificate, SCT and Rekor signed entry timestamp are checked offline.
- Kyverno ``ImageValidatingPolicy``: ``cosign.trustedRoot`` (the JSON as is), ``ctlog.url``, and
  ``cosign.tuf`` (mirror + root) when given.
- policy-controller ``ClusterImagePolicy``: a ``TrustRoot`` (``sigstoreKeys``: CAs, Rekor and CT log
  keys, timestamp authorities) emitted before it, referenced by every authority's
  ``keyless.trustRootRef`` and ``ctlog.trustRootRef``.

# NOTE: why the ImageValidatingPolicy also needs a TUF repository: Kyverno 1.19 initialises a TUF
# client for every keyless attestor before it looks at ``trustedRoot`` (the public mirror when none
# is named), so offline it fails with "failed to initialize TUF client
# (mirror=https://tuf-repo-cdn.sigstore.dev)" whatever the policy says. A private Sigstore comes with
# its own TUF repository (``--tuf-mirror``, ``--tuf-root``).
# NOTE: why policy-controller gets cosign's legacy layout and not ``signatureFormat: bundle``:
# policy-controller 0.13.1 stores a ``TrustRoot``'s log ids as the hex *text* of the key hash, so its
# bundle verifier finds no log for a Rekor entry ("not enough verified log entries from transparency
# log: 0 < 1"); its legacy verifier looks the keys up by that same text and works.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from plugingate.errors import InputError
from plugingate.signature.identity import KeylessIdentity

PLACEHOLDER = "REPLACE-"
TRUST_ROOT_NAME = "plugingate-private-sigstore"


class PolicyKind(StrEnum):
    """The admission policy kinds plugingate ships a keyless variant of."""

    CLUSTER_POLICY = "ClusterPolicy"
    IMAGE_VALIDATING_POLICY = "ImageValidatingPolicy"
    CLUSTER_IMAGE_POLICY = "ClusterImagePolicy"


@dataclass(frozen=True, slots=True)
class SigstoreInstance:
    """What a policy needs of a (private) Sigstore instance, read from its ``trusted_root.json``."""

    trusted_root_json: str
    ca_chains_pem: str
    rekor_url: str
    rekor_key_pem: str
    ctlog_key_pem: str
    certificate_authorities: tuple[dict[str, Any], ...]
    tlogs: tuple[dict[str, Any], ...]
    ctlogs: tuple[dict[str, Any], ...]
    timestamp_authorities: tuple[dict[str, Any], ...]

    @classmethod
    def from_trusted_root(cls, path: Path) -> SigstoreInstance:
        """Read and check a ``trusted_root.json``: one transparency log and one CT log are required."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        try:
            text = path.read_text(encoding="utf-8")
            doc = json.loads(text)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read the trusted root: {exc}", path=str(path)) from exc
        if not isinstance(doc, dict) or "trustedroot" not in str(doc.get("mediaType", "")):
            raise InputError(
                "not a Sigstore trusted root (mediaType application/vnd.dev.sigstore.trustedroot+json)",
                path=str(path),
            )

        def listed(name: str) -> tuple[dict[str, Any], ...]:
            items = doc.get(name) or []
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise InputError(f"{name} is not a list of objects", path=str(path), field=name)
            return tuple(items)

        cas, tlogs, ctlogs, tsas = (
            listed(n) for n in ("certificateAuthorities", "tlogs", "ctlogs", "timestampAuthorities")
        )
        # NOTE: Kyverno's ClusterPolicy takes one Rekor key and one CT log key; a root listing several
        # (the public one, after key rotations) is not a private instance this renders for.
        if not cas or len(tlogs) != 1 or len(ctlogs) != 1:
            raise InputError(
                f"expected at least one certificate authority, exactly one transparency log and one CT log; "
                f"found {len(cas)}, {len(tlogs)} and {len(ctlogs)}",
                path=str(path),
                hint="give the trusted_root.json of the private Sigstore instance that signs the attestations",
            )
        try:

            def pem_chain(authority: dict[str, Any]) -> str:
                certs = authority["certChain"]["certificates"]
                return "".join(
                    x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
                    .public_bytes(serialization.Encoding.PEM)
                    .decode()
                    for c in certs
                )

            def pem_key(log: dict[str, Any]) -> str:
                key = serialization.load_der_public_key(base64.b64decode(log["publicKey"]["rawBytes"]))
                return key.public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                ).decode()

            return cls(
                trusted_root_json=text,
                ca_chains_pem="".join(pem_chain(ca) for ca in cas),
                rekor_url=str(tlogs[0]["baseUrl"]),
                rekor_key_pem=pem_key(tlogs[0]),
                ctlog_key_pem=pem_key(ctlogs[0]),
                certificate_authorities=cas,
                tlogs=tlogs,
                ctlogs=ctlogs,
                timestamp_authorities=tsas,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"a certificate chain or log key is malformed ({exc})", path=str(path)) from exc

    def trust_root(self, name: str = TRUST_ROOT_NAME) -> dict[str, Any]:
        """policy-controller's ``TrustRoot`` (``sigstoreKeys``) for this instance."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        def b64(text: str) -> str:
            return base64.b64encode(text.encode()).decode()

        def chain(authority: dict[str, Any]) -> dict[str, Any]:
            pem = "".join(
                x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
                .public_bytes(serialization.Encoding.PEM)
                .decode()
                for c in authority["certChain"]["certificates"]
            )
            subject = authority.get("subject") or {}
            return {
                "subject": {
                    "organization": str(subject.get("organization", "")),
                    "commonName": str(subject.get("commonName", "")),
                },
                "uri": str(authority.get("uri", "")),
                "certChain": b64(pem),
            }

        def log(item: dict[str, Any], pem: str) -> dict[str, Any]:
            return {"baseURL": str(item["baseUrl"]), "hashAlgorithm": "sha-256", "publicKey": b64(pem)}

        return {
            "apiVersion": "policy.sigstore.dev/v1alpha1",
            "kind": "TrustRoot",
            "metadata": {"name": name},
            "spec": {
                "sigstoreKeys": {
                    "certificateAuthorities": [chain(ca) for ca in self.certificate_authorities],
                    "tLogs": [log(self.tlogs[0], self.rekor_key_pem)],
                    "ctLogs": [log(self.ctlogs[0], self.ctlog_key_pem)],
                    "timestampAuthorities": [chain(t) for t in self.timestamp_authorities],
                }
            },
        }


@dataclass(frozen=True, slots=True)
class TufRepository:
    """A TUF repository distributing the instance's trusted root: its URL and its initial ``root.json``."""

    mirror: str
    root_json: bytes


def policy_kind(doc: Any, source: str) -> PolicyKind:
    """The kind of a shipped keyless policy document; bad input otherwise."""
    kind = doc.get("kind") if isinstance(doc, dict) else None
    try:
        return PolicyKind(str(kind))
    except ValueError:
        raise InputError(
            f"kind {kind!r} is not an admission policy plugingate renders ({', '.join(k.value for k in PolicyKind)})",
            path=source,
        ) from None


def render_keyless(
    text: str,
    signer: KeylessIdentity,
    *,
    source: str = "the policy",
    instance: SigstoreInstance | None = None,
    tuf: TufRepository | None = None,
) -> str:
    """The policy in ``text`` with its keyless attestors set to ``signer`` (and ``instance``): YAML.

    A ClusterImagePolicy with an instance comes with its ``TrustRoot`` first (two documents). Raises
    ``InputError`` when the policy has no keyless attestor, or a placeholder is left after rendering.
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not YAML: {exc}", path=source) from exc
    kind = policy_kind(doc, source)
    if kind is PolicyKind.IMAGE_VALIDATING_POLICY and instance is not None and tuf is None:
        raise InputError(
            "an ImageValidatingPolicy for a private Sigstore also needs its TUF repository "
            "(Kyverno initialises a TUF client for every keyless attestor, the public one by default)",
            field="--tuf-mirror",
            hint="give --tuf-mirror URL and --tuf-root root.json of the instance's TUF repository",
        )
    edited = 0
    if kind is PolicyKind.CLUSTER_POLICY:
        for keyless in _cluster_policy_attestors(doc):
            _set_cluster_policy(keyless, signer, instance)
            edited += 1
    elif kind is PolicyKind.IMAGE_VALIDATING_POLICY:
        for cosign in _ivp_attestors(doc):
            _set_ivp(cosign, signer, instance, tuf)
            edited += 1
    else:
        for authority in _cip_authorities(doc):
            _set_cip(authority, signer, instance)
            edited += 1
    if edited == 0:
        raise InputError(f"the {kind} has no keyless attestor to set", path=source)
    docs: list[Any] = [doc]
    if kind is PolicyKind.CLUSTER_IMAGE_POLICY and instance is not None:
        docs.insert(0, instance.trust_root())
    rendered = yaml.safe_dump_all(docs, sort_keys=False, width=1000)
    if PLACEHOLDER in rendered:
        raise InputError(f"a {PLACEHOLDER}… placeholder is left in the rendered policy", path=source)
    return rendered


def _cluster_policy_attestors(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for rule in doc.get("spec", {}).get("rules", []) or []:
        for verify in rule.get("verifyImages", []) or []:
            for attestation in verify.get("attestations", []) or []:
                for attestor in attestation.get("attestors", []) or []:
                    for entry in attestor.get("entries", []) or []:
                        if isinstance(entry.get("keyless"), dict):
                            yield entry["keyless"]


def _set_cluster_policy(keyless: dict[str, Any], signer: KeylessIdentity, instance: SigstoreInstance | None) -> None:
    for field in ("subject", "subjectRegExp", "issuer", "issuerRegExp"):
        keyless.pop(field, None)
    keyless.update(_identity(signer))
    if instance is not None:
        keyless["roots"] = instance.ca_chains_pem
        keyless["rekor"] = {"url": instance.rekor_url, "pubkey": instance.rekor_key_pem}
        keyless["ctlog"] = {"pubkey": instance.ctlog_key_pem}


def _ivp_attestors(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for attestor in doc.get("spec", {}).get("attestors", []) or []:
        cosign = attestor.get("cosign")
        if isinstance(cosign, dict) and isinstance(cosign.get("keyless"), dict):
            yield cosign


def _identity(signer: KeylessIdentity) -> dict[str, str]:
    """The engines' identity fields: ``issuer`` and ``subject``, or ``subjectRegExp`` anchored.

    # NOTE: the engines search with a Go regexp (unanchored, as cosign does); plugingate's
    # ``--identity-regex`` must match the whole identity, so that ``https://github.com/acme/.*`` cannot
    # match ``https://github.com/acme-evil/…?x=https://github.com/acme/``. Anchored here to say the same.
    """
    out = {"issuer": signer.issuer}
    if signer.identity is not None:
        out["subject"] = signer.identity
    else:
        assert signer.identity_regex is not None
        out["subjectRegExp"] = f"^(?:{signer.identity_regex})$"
    return out


def _set_ivp(
    cosign: dict[str, Any], signer: KeylessIdentity, instance: SigstoreInstance | None, tuf: TufRepository | None
) -> None:
    cosign["keyless"]["identities"] = [_identity(signer)]
    if instance is not None:
        cosign["ctlog"] = {"url": instance.rekor_url}
        cosign["trustedRoot"] = {"value": instance.trusted_root_json}
    if tuf is not None:
        cosign["tuf"] = {"mirror": tuf.mirror, "root": {"data": base64.b64encode(tuf.root_json).decode()}}


def _cip_authorities(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for authority in doc.get("spec", {}).get("authorities", []) or []:
        if isinstance(authority.get("keyless"), dict):
            yield authority


def _set_cip(authority: dict[str, Any], signer: KeylessIdentity, instance: SigstoreInstance | None) -> None:
    keyless = authority["keyless"]
    keyless["identities"] = [_identity(signer)]
    if instance is not None:
        # NOTE: no URLs: with only the TrustRoot's keys policy-controller verifies offline.
        keyless.pop("url", None)
        keyless["trustRootRef"] = TRUST_ROOT_NAME
        authority["ctlog"] = {"trustRootRef": TRUST_ROOT_NAME}
