"""The gate predicate and statements: shape, schema, subjects and validUntil."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import jsonschema
import pytest

from plugingate.attestation.predicate import (
    GATE_PREDICATE_TYPE,
    PREDICATE_SCHEMA,
    PolicyRef,
    compute_valid_until,
    exception_expiry_instant,
    parse_rfc3339,
)
from plugingate.attestation.statement import (
    CYCLONEDX_PREDICATE_TYPE,
    VULN_PREDICATE_TYPE,
    gate_statement,
    image_subject_name,
    parse_digest,
    sbom_statement,
    statement_bytes,
    vuln_statement,
)
from plugingate.policy.model import Mode
from plugingate.policy.trust import UNPINNED, PolicyTrust, PolicyTrustKind
from plugingate.schemas import load_schema

from .conftest import IMAGE_DIGEST, make_predicate

BUNDLE_SHA = hashlib.sha256(b"bundle").hexdigest()


def test_predicate_matches_the_shipped_schema() -> None:
    predicate = make_predicate().to_dict()
    jsonschema.Draft202012Validator(load_schema(PREDICATE_SCHEMA)).validate(predicate)
    assert predicate["passed"] is True
    assert predicate["policy"] == {
        "name": "default",
        "sha256": hashlib.sha256(b"policy").hexdigest(),
        "version": "1",
        "trust": UNPINNED.to_dict(),
    }
    assert predicate["fromCache"] is False and predicate["mode"] == "enforce" and predicate["violations"] == []
    assert predicate["vulnerabilities"]["counts"] == {
        "critical": 0,
        "high": 0,
        "medium": 2,
        "low": 0,
        "negligible": 0,
        "unknown": 0,
    }
    assert predicate["vulnerabilities"]["exceptionsApplied"][0]["expires"] == "2099-01-31"
    assert predicate["evaluatedAt"].endswith("Z") and predicate["validUntil"].endswith("Z")


def test_schema_rejects_unknown_keys_and_bad_values() -> None:
    validator = jsonschema.Draft202012Validator(load_schema(PREDICATE_SCHEMA))
    predicate = make_predicate().to_dict()
    assert not list(validator.iter_errors(predicate))
    for broken in (
        {**predicate, "extra": 1},
        {**predicate, "passed": "yes"},
        {**predicate, "validUntil": "tomorrow"},
        {**predicate, "policy": {"name": "p", "sha256": "abc"}},
        {**predicate, "signature": {**predicate["signature"], "surprise": True}},
        {**predicate, "policy": {k: v for k, v in predicate["policy"].items() if k != "trust"}},
        {**predicate, "policy": {**predicate["policy"], "trust": "trusted"}},
        {k: v for k, v in predicate.items() if k != "fromCache"},
        # a pass that another reader could take for a pass: the schema refuses it too
        {**predicate, "mode": "warn"},
        {**predicate, "mode": "dry-run"},
        {**predicate, "violations": ["PG-CAP-010"]},
    ):
        assert list(validator.iter_errors(broken)), broken


def test_valid_until_is_the_earliest_of_window_and_exception_expiries() -> None:
    now = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
    assert compute_valid_until(now, timedelta(hours=720)) == now + timedelta(hours=720)
    soon = date(2026, 12, 3)
    assert compute_valid_until(now, timedelta(hours=720), [date(2027, 5, 1), soon]) == datetime(2026, 12, 4, tzinfo=UTC)
    assert exception_expiry_instant(soon) == datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="positive"):
        compute_valid_until(now, timedelta(0))


@pytest.mark.parametrize(
    "changes",
    [
        {"mode": Mode.WARN},
        {"mode": Mode.DRY_RUN},
        {"violations": ("PG-CAP-010",)},
        {"mode": "warn"},  # another spelling of the same mode
    ],
)
def test_a_pass_is_only_an_enforced_clean_decision(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="passed: true needs mode enforce and no violations"):
        make_predicate(**changes)
    recorded = make_predicate(passed=False, **changes).to_dict()
    assert recorded["passed"] is False
    jsonschema.Draft202012Validator(load_schema(PREDICATE_SCHEMA)).validate(recorded)


def test_policy_trust_and_cache_are_recorded() -> None:
    predicate = make_predicate(
        policy=PolicyRef(name="p", sha256="a" * 64, trust=PolicyTrust(PolicyTrustKind.PINNED, "pinned by the test")),
        from_cache=True,
    ).to_dict()
    assert predicate["policy"]["trust"]["kind"] == "pinned-digest" and predicate["fromCache"] is True


def test_predicate_refuses_valid_until_not_after_evaluation() -> None:
    now = datetime.now(UTC)
    with pytest.raises(ValueError, match="not after"):
        make_predicate(evaluated_at=now, valid_until=now - timedelta(seconds=1))


def test_gate_statement_subjects_are_bundle_and_images() -> None:
    other = "sha256:" + "b" * 64
    statement = gate_statement(
        bundle_name="acme.tgz",
        bundle_sha256=BUNDLE_SHA,
        image_digests=[
            ("registry.example.com:5000/acme/exporter@" + IMAGE_DIGEST, IMAGE_DIGEST),
            ("registry.example.com/acme/sidecar:1.0", other),
            ("registry.example.com:5000/acme/exporter", IMAGE_DIGEST),  # the same image twice: once
        ],
        predicate=make_predicate(),
    )
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == GATE_PREDICATE_TYPE
    assert statement["subject"] == [
        {"name": "acme.tgz", "digest": {"sha256": BUNDLE_SHA}},
        {"name": "registry.example.com:5000/acme/exporter", "digest": {"sha256": IMAGE_DIGEST[7:]}},
        {"name": "registry.example.com/acme/sidecar", "digest": {"sha256": "b" * 64}},
    ]
    # canonical bytes: stable and sorted
    assert statement_bytes(statement) == statement_bytes(dict(reversed(list(statement.items()))))


def test_sbom_and_vuln_statements() -> None:
    sbom = sbom_statement(
        bundle_name="a.tgz", bundle_sha256=BUNDLE_SHA, image_digests=[], sbom={"bomFormat": "CycloneDX"}
    )
    assert sbom["predicateType"] == CYCLONEDX_PREDICATE_TYPE and sbom["predicate"]["bomFormat"] == "CycloneDX"
    with pytest.raises(ValueError, match="CycloneDX"):
        sbom_statement(bundle_name="a.tgz", bundle_sha256=BUNDLE_SHA, image_digests=[], sbom={"spdxVersion": "2.3"})
    t = datetime(2026, 11, 29, 21, 0, 5, 123, tzinfo=UTC)
    vuln = vuln_statement(
        bundle_name="a.tgz",
        bundle_sha256=BUNDLE_SHA,
        image_digests=[],
        scanner_version="0.121.2",
        db_built=t,
        db_uri="file:///db",
        result={"matches": []},
        started=t,
        finished=t,
    )
    assert vuln["predicateType"] == VULN_PREDICATE_TYPE
    scanner = vuln["predicate"]["scanner"]
    assert scanner["uri"] == "pkg:github/anchore/grype@0.121.2"
    assert scanner["db"]["version"] == "2026-11-29T21:00:05Z"
    assert vuln["predicate"]["metadata"]["scanStartedOn"] == "2026-11-29T21:00:05Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sha256:" + "A" * 64, ("sha256", "a" * 64)),
        ("a" * 64, ("sha256", "a" * 64)),
        ("sha512:" + "0" * 128, ("sha512", "0" * 128)),
    ],
)
def test_parse_digest(value: str, expected: tuple[str, str]) -> None:
    assert parse_digest(value) == expected


@pytest.mark.parametrize("value", ["sha256:abc", "md5:" + "0" * 32, "sha256:" + "g" * 64, ""])
def test_parse_digest_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="not a digest"):
        parse_digest(value)


def test_image_subject_name_drops_tag_and_digest() -> None:
    assert image_subject_name("127.0.0.1:5000/repo@sha256:" + "a" * 64) == "127.0.0.1:5000/repo"
    assert image_subject_name("127.0.0.1:5000/repo:v1") == "127.0.0.1:5000/repo"
    assert image_subject_name("busybox:1.36") == "busybox"


def test_rfc3339_roundtrip() -> None:
    predicate = make_predicate()
    text = predicate.to_dict()["validUntil"]
    assert parse_rfc3339(text) == predicate.valid_until.replace(microsecond=0)
    with pytest.raises(ValueError):
        parse_rfc3339("2026-11-29T21:00:00")
    assert replace(predicate, passed=False).to_dict()["passed"] is False
