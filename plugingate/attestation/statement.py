"""in-toto Statement v1 documents: the gate decision, the SBOM and the vulnerability scan.

Statements are plain dicts (see the notes: the protobuf-based model turns integers into floats),
serialised once, canonically, by ``statement_bytes`` so that what is signed is what is written.
Subjects are the bundle (its file name and sha256) and every image digest in ``spec.images``, so
that one attestation serves both ``verify-attestation BUNDLE`` in CI and image admission in the
cluster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from plugingate.attestation.predicate import GATE_PREDICATE_TYPE, GatePredicate, rfc3339


class _Predicate(Protocol):
    """A predicate that renders itself (``vsa.VerificationSummary``).

    # NOTE: a protocol, not the VSA module's class: that module imports this one, and an import back
    # (even for typing) would close a circle.
    """

    def to_dict(self) -> dict[str, Any]:
        """The predicate as signed."""
        ...


STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
CYCLONEDX_PREDICATE_TYPE = "https://cyclonedx.org/bom"
VULN_PREDICATE_TYPE = "https://cosign.sigstore.dev/attestation/vuln/v1"
VSA_PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"

_HEX = {"sha256": 64, "sha512": 128}
_DIGEST = re.compile(r"^(sha256|sha512):([0-9a-f]+)$")


def parse_digest(value: str) -> tuple[str, str]:
    """``sha256:<hex>`` (or bare 64 hex digits) → ``("sha256", hex)``; ``ValueError`` otherwise."""
    text = value.strip().lower()
    if len(text) == 64 and ":" not in text:
        text = "sha256:" + text
    match = _DIGEST.match(text)
    if not match or len(match.group(2)) != _HEX[match.group(1)]:
        raise ValueError(f"not a digest: {value!r} (expected sha256:<64 hex digits>)")
    return match.group(1), match.group(2)


def image_subject_name(ref: str) -> str:
    """The subject name of an image: its reference without the ``@digest`` (and without a tag)."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if len(last) == 2 and ":" in last[1]:
        name = last[0] + "/" + last[1].split(":", 1)[0]
    elif len(last) == 1 and ":" in name:
        name = name.split(":", 1)[0]
    return name


def subjects(*, bundle_name: str, bundle_sha256: str, image_digests: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The statement subjects: the bundle first, then each distinct image (name, digest)."""
    algo, hexdigest = parse_digest(bundle_sha256)
    if algo != "sha256":
        raise ValueError("the bundle subject needs a sha256 digest")
    out: list[dict[str, Any]] = [{"name": bundle_name, "digest": {"sha256": hexdigest}}]
    seen = {("bundle", hexdigest)}
    for name, digest in image_digests:
        ialgo, ihex = parse_digest(digest)
        key = (image_subject_name(name), ihex)
        if key in seen:
            continue
        seen.add(key)
        out.append({"name": key[0], "digest": {ialgo: ihex}})
    return out


def _statement(subject: list[dict[str, Any]], predicate_type: str, predicate: Any) -> dict[str, Any]:
    return {"_type": STATEMENT_TYPE, "subject": subject, "predicateType": predicate_type, "predicate": predicate}


def gate_statement(
    *,
    bundle_name: str,
    bundle_sha256: str,
    image_digests: Sequence[tuple[str, str]],
    predicate: GatePredicate,
) -> dict[str, Any]:
    """The gate attestation (``https://plugingate.dev/attestation/gate/v2``).

    ``image_digests`` holds ``(image reference or name, "sha256:<hex>")`` pairs from ``spec.images``.
    """
    return _statement(
        subjects(bundle_name=bundle_name, bundle_sha256=bundle_sha256, image_digests=image_digests),
        GATE_PREDICATE_TYPE,
        predicate.to_dict(),
    )


def sbom_statement(
    *,
    bundle_name: str,
    bundle_sha256: str,
    image_digests: Sequence[tuple[str, str]],
    sbom: Mapping[str, Any],
) -> dict[str, Any]:
    """The CycloneDX SBOM attestation: the predicate is the CycloneDX JSON document itself, as cosign does."""
    if sbom.get("bomFormat") != "CycloneDX":
        raise ValueError("the SBOM predicate must be a CycloneDX JSON document (bomFormat: CycloneDX)")
    return _statement(
        subjects(bundle_name=bundle_name, bundle_sha256=bundle_sha256, image_digests=image_digests),
        CYCLONEDX_PREDICATE_TYPE,
        dict(sbom),
    )


def unembedded_statement(
    *,
    bundle_name: str,
    bundle_sha256: str,
    image_digests: Sequence[tuple[str, str]],
    predicate_type: str,
) -> dict[str, Any]:
    """A statement of ``predicate_type`` without its predicate: never signed, only its type is reported."""
    return _statement(
        subjects(bundle_name=bundle_name, bundle_sha256=bundle_sha256, image_digests=image_digests),
        predicate_type,
        None,
    )


def vuln_statement(
    *,
    bundle_name: str,
    bundle_sha256: str,
    image_digests: Sequence[tuple[str, str]],
    scanner_version: str,
    db_built: datetime | None,
    db_uri: str,
    result: Mapping[str, Any],
    started: datetime,
    finished: datetime,
    scanner_uri: str = "pkg:github/anchore/grype",
) -> dict[str, Any]:
    """The vulnerability scan as cosign's vuln predicate (``https://cosign.sigstore.dev/attestation/vuln/v1``).

    ``result`` is grype's JSON output (or the gate's filtered view of it) and is carried verbatim.
    """
    predicate = {
        "invocation": {"parameters": None, "uri": "", "event_id": "", "builder.id": ""},
        "scanner": {
            "uri": f"{scanner_uri}@{scanner_version}",
            "version": scanner_version,
            "db": {"uri": db_uri, "version": rfc3339(db_built) if db_built is not None else ""},
            "result": dict(result),
        },
        "metadata": {"scanStartedOn": rfc3339(started), "scanFinishedOn": rfc3339(finished)},
    }
    return _statement(
        subjects(bundle_name=bundle_name, bundle_sha256=bundle_sha256, image_digests=image_digests),
        VULN_PREDICATE_TYPE,
        predicate,
    )


def vsa_statement(
    *,
    bundle_name: str,
    bundle_sha256: str,
    image_digests: Sequence[tuple[str, str]],
    summary: _Predicate,
) -> dict[str, Any]:
    """The SLSA Verification Summary Attestation (``https://slsa.dev/verification_summary/v1``), same subjects."""
    return _statement(
        subjects(bundle_name=bundle_name, bundle_sha256=bundle_sha256, image_digests=image_digests),
        VSA_PREDICATE_TYPE,
        summary.to_dict(),
    )


def statement_bytes(statement: Mapping[str, Any]) -> bytes:
    """The canonical serialisation that is signed (sorted keys, no spaces, UTF-8)."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
