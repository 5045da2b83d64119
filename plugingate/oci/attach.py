"""Publish attestations beside an image the way cosign does, so cosign, Kyverno and policy-controller find them.

Legacy layout (what every admission controller reads today): the tag ``sha256-<hex>.att`` in the
image's repository holds an OCI image manifest whose layers are DSSE envelopes
(``application/vnd.dsse.envelope.v1+json``), each annotated with its ``predicateType`` and the
``dev.cosignproject.cosign/signature`` annotation (empty: the signature is inside the envelope;
cosign refuses a layer without it). What is already there is kept: new envelopes are appended,
and an envelope already present is not added twice.

Referrers layout (optional): one OCI manifest per attestation whose ``subject`` is the image and
whose artifact type is a Sigstore bundle, pushed by digest; a registry without the referrers API gets
the ``sha256-<hex>`` fallback tag index of the OCI distribution spec.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plugingate.errors import InputError
from plugingate.oci.client import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Manifest,
    RegistryClient,
    RegistryError,
    sha256_digest,
)
from plugingate.oci.reference import ImageRef

DSSE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
PREDICATE_ANNOTATION = "predicateType"
BUNDLE_ARTIFACT_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
REKOR_BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
_MAX_LAYERS = 1000


@dataclass(frozen=True, slots=True)
class Attestation:
    """One attestation to publish: the exact DSSE envelope bytes, or a Sigstore bundle's."""

    data: bytes
    predicate_type: str
    source: str
    is_bundle: bool = False

    @property
    def legacy_annotations(self) -> dict[str, str] | None:
        """cosign's keyless annotations for a bundle's ``.att`` layer, or None when it cannot have them.

        # NOTE: cosign's legacy layout keeps a keyless signature's material beside the envelope: the
        # certificate (PEM), the rest of its chain, and Rekor's signed entry timestamp over the entry
        # (``{"SignedEntryTimestamp", "Payload": {body, integratedTime, logIndex, logID}}``). A bundle
        # holds all of it; one without an inclusion promise (Rekor v2) cannot be written so. The RFC 3161
        # timestamp is left out: cosign checks a legacy attestation's timestamp over the envelope, and a
        # bundle's covers the signature, so cosign would refuse it.
        """
        if not self.is_bundle:
            return {}
        return _legacy_keyless_annotations(json.loads(self.data))

    @property
    def envelope_bytes(self) -> bytes:
        """The DSSE envelope (a bundle's ``dsseEnvelope``, re-serialised) for the legacy layout."""
        if not self.is_bundle:
            return self.data
        return json.dumps(json.loads(self.data)["dsseEnvelope"], separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class AttachResult:
    """What ``attach`` did: the tag and manifest it wrote, how many layers it added and kept."""

    image: str
    tag: str
    manifest_digest: str
    added: int
    kept: int
    referrers: tuple[str, ...] = ()


def _pem(der_b64: str) -> str:
    body = base64.b64encode(base64.b64decode(der_b64, validate=True)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _legacy_keyless_annotations(bundle: dict[str, Any]) -> dict[str, str] | None:
    material = bundle.get("verificationMaterial")
    if not isinstance(material, dict):
        return None
    chain = material.get("x509CertificateChain", {}).get("certificates") if "x509CertificateChain" in material else None
    single = material.get("certificate")
    certs = [c["rawBytes"] for c in chain] if isinstance(chain, list) and chain else []
    if not certs and isinstance(single, dict) and isinstance(single.get("rawBytes"), str):
        certs = [single["rawBytes"]]
    entries = material.get("tlogEntries")
    if not certs or not isinstance(entries, list) or len(entries) != 1:
        return None
    entry = entries[0]
    promise = entry.get("inclusionPromise") if isinstance(entry, dict) else None
    if not isinstance(promise, dict) or not isinstance(promise.get("signedEntryTimestamp"), str):
        return None
    try:
        rekor_bundle = {
            "SignedEntryTimestamp": promise["signedEntryTimestamp"],
            "Payload": {
                "body": entry["canonicalizedBody"],
                "integratedTime": int(entry["integratedTime"]),
                "logIndex": int(entry["logIndex"]),
                "logID": base64.b64decode(entry["logId"]["keyId"], validate=True).hex(),
            },
        }
        annotations = {
            CERTIFICATE_ANNOTATION: _pem(certs[0]),
            REKOR_BUNDLE_ANNOTATION: json.dumps(rekor_bundle, separators=(",", ":")),
        }
        if len(certs) > 1:
            annotations[CHAIN_ANNOTATION] = "".join(_pem(c) for c in certs[1:])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"the Sigstore bundle's certificate or log entry is malformed ({exc})") from exc
    return annotations


def read_attestations(data: bytes, *, source: str) -> list[Attestation]:
    """The attestations of a file: JSONL of DSSE envelopes, one envelope, or one Sigstore bundle."""
    text = data.decode("utf-8", errors="strict")
    try:
        whole = json.loads(text)
        docs: list[tuple[Any, bytes, str]] = [(whole, text.strip().encode(), source)]
    except json.JSONDecodeError:
        docs = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                docs.append((json.loads(line), line.strip().encode(), f"{source}:{number}"))
            except json.JSONDecodeError as exc:
                raise InputError(f"not JSON: {exc.msg}", path=source, line=number) from exc
    out = []
    for doc, raw, where in docs:
        if not isinstance(doc, dict):
            raise InputError("expected a JSON object (a DSSE envelope or a Sigstore bundle)", path=where)
        is_bundle = isinstance(doc.get("mediaType"), str) and "sigstore.bundle" in doc["mediaType"]
        envelope = doc.get("dsseEnvelope") if is_bundle else doc
        if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), str):
            raise InputError("neither a DSSE envelope nor a Sigstore bundle holding one", path=where)
        if envelope.get("payloadType") != "application/vnd.in-toto+json":
            raise InputError(f"payload type {envelope.get('payloadType')!r} is not in-toto", path=where)
        try:
            statement = json.loads(base64.b64decode(envelope["payload"], validate=True))
            predicate_type = statement["predicateType"]
            subjects = statement["subject"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError("the envelope's payload is not an in-toto statement", path=where) from exc
        if not isinstance(predicate_type, str) or not isinstance(subjects, list):
            raise InputError("the statement has no predicateType or subject list", path=where)
        out.append(Attestation(data=raw, predicate_type=predicate_type, source=where, is_bundle=is_bundle))
        _check_subjects_shape(subjects, where)
    if not out:
        raise InputError("holds no attestation", path=source)
    return out


def _check_subjects_shape(subjects: list[Any], where: str) -> None:
    for s in subjects:
        if not isinstance(s, dict) or not isinstance(s.get("digest"), dict):
            raise InputError("a subject has no digest map", path=where)


def statement_subject_digests(attestation: Attestation) -> set[str]:
    """Every ``sha256:<hex>`` subject digest of the attestation's statement."""
    envelope = json.loads(attestation.envelope_bytes)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    return {f"sha256:{s['digest']['sha256']}" for s in statement["subject"] if "sha256" in s.get("digest", {})}


def attach(
    client: RegistryClient,
    image: ImageRef,
    attestations: Sequence[Attestation],
    *,
    referrers: bool = False,
    legacy: bool = True,
) -> AttachResult:
    """Publish ``attestations`` for ``image``; every one must have the image's digest as a subject."""
    for att in attestations:
        if image.digest not in statement_subject_digests(att):
            raise InputError(
                f"the attestation is not about {image.digest} (its subjects are other digests)",
                path=att.source,
                hint="attach it to the image it was made for (see its subjects)",
            )
    target = client.get_manifest(image.repository, image.digest)
    if target is None:
        raise InputError(
            f"{image} does not exist in the registry",
            field="IMAGE",
            hint="push the image first; attestations are attached to an existing manifest",
        )
    tag, digest, added, kept = "", "", 0, 0
    if legacy:
        tag, digest, added, kept = _attach_legacy(client, image, attestations)
    refs: tuple[str, ...] = ()
    if referrers:
        refs = tuple(_attach_referrer(client, image, target, att) for att in attestations)
    return AttachResult(image=str(image), tag=tag, manifest_digest=digest, added=added, kept=kept, referrers=refs)


def attestation_tag(image: ImageRef) -> str:
    """cosign's tag for an image's attestations: ``sha256-<hex>.att``."""
    return f"sha256-{image.hex}.att"


def _attach_legacy(
    client: RegistryClient, image: ImageRef, attestations: Sequence[Attestation]
) -> tuple[str, str, int, int]:
    tag = attestation_tag(image)
    existing = client.get_manifest(image.repository, tag)
    layers: list[dict[str, Any]] = []
    if existing is not None:
        layers = _existing_layers(existing, image, tag)
    present = {layer.get("digest") for layer in layers}
    kept = len(layers)
    added = 0
    for att in attestations:
        body = att.envelope_bytes
        digest = client.put_blob(image.repository, body)
        if digest in present:
            continue
        present.add(digest)
        layers.append(
            {
                "mediaType": DSSE_MEDIA_TYPE,
                "size": len(body),
                "digest": digest,
                "annotations": {
                    SIGNATURE_ANNOTATION: "",
                    PREDICATE_ANNOTATION: att.predicate_type,
                    **(att.legacy_annotations or {}),
                },
            }
        )
        added += 1
    if len(layers) > _MAX_LAYERS:
        raise RegistryError(f"{image.repository}:{tag} would hold more than {_MAX_LAYERS} attestations")
    # NOTE: the config lists the layers as diff_ids (uncompressed = stored), as go-containerregistry
    # computes it for cosign's static layers; tools that rebuild the image from its config need it.
    config = {
        "architecture": "",
        "os": "",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]},
    }
    config_bytes = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
    config_digest = client.put_blob(image.repository, config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "size": len(config_bytes), "digest": config_digest},
        "layers": layers,
    }
    body = json.dumps(manifest, separators=(",", ":")).encode()
    if existing is not None and added == 0:
        return tag, existing.digest, 0, kept
    digest = client.put_manifest(image.repository, tag, body, OCI_MANIFEST)
    return tag, digest, added, kept


def _existing_layers(existing: Manifest, image: ImageRef, tag: str) -> list[dict[str, Any]]:
    if existing.media_type not in (OCI_MANIFEST, DOCKER_MANIFEST):
        raise RegistryError(
            f"{image.repository}:{tag} is a {existing.media_type}, not an image manifest; refusing to overwrite it"
        )
    layers = existing.json().get("layers", [])
    if not isinstance(layers, list) or not all(isinstance(x, dict) for x in layers):
        raise RegistryError(f"{image.repository}:{tag} has a malformed layer list; refusing to overwrite it")
    return [dict(x) for x in layers]


def _bundle_bytes(att: Attestation) -> bytes:
    """A Sigstore bundle for the referrers form: the keyless bundle as is, or a key-signed one built."""
    if att.is_bundle:
        return att.data
    envelope = json.loads(att.data)
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": ""}, "tlogEntries": []},
        "dsseEnvelope": envelope,
    }
    return json.dumps(bundle, separators=(",", ":")).encode()


def _attach_referrer(client: RegistryClient, image: ImageRef, target: Manifest, att: Attestation) -> str:
    data = _bundle_bytes(att)
    layer_digest = client.put_blob(image.repository, data)
    empty = b"{}"
    empty_digest = client.put_blob(image.repository, empty)
    annotations = {
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": att.predicate_type,
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": BUNDLE_ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_CONFIG, "size": len(empty), "digest": empty_digest},
        "layers": [{"mediaType": BUNDLE_ARTIFACT_TYPE, "size": len(data), "digest": layer_digest}],
        "subject": {"mediaType": target.media_type, "size": len(target.body), "digest": target.digest},
        "annotations": annotations,
    }
    body = json.dumps(manifest, separators=(",", ":")).encode()
    digest = sha256_digest(body)
    client.put_manifest(image.repository, digest, body, OCI_MANIFEST)
    if client.referrers(image.repository, image.digest) is None:
        _update_fallback_index(client, image, digest, len(body), annotations)
    return digest


def _update_fallback_index(
    client: RegistryClient, image: ImageRef, digest: str, size: int, annotations: dict[str, str]
) -> None:
    """The referrers tag schema: an index at ``sha256-<hex>`` listing the referrers (appended to)."""
    tag = f"sha256-{image.hex}"
    existing = client.get_manifest(image.repository, tag)
    manifests: list[dict[str, Any]] = []
    if existing is not None:
        if existing.media_type != OCI_INDEX:
            raise RegistryError(f"{image.repository}:{tag} is not an OCI index; refusing to overwrite it")
        found = existing.json().get("manifests", [])
        manifests = [dict(m) for m in found if isinstance(m, dict)]
    if any(m.get("digest") == digest for m in manifests):
        return
    manifests.append(
        {
            "mediaType": OCI_MANIFEST,
            "digest": digest,
            "size": size,
            "artifactType": BUNDLE_ARTIFACT_TYPE,
            "annotations": annotations,
        }
    )
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    client.put_manifest(image.repository, tag, json.dumps(index, separators=(",", ":")).encode(), OCI_INDEX)
