"""``plugingate verify-attestation``: each way an attestation must be refused, and the way it passes."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from plugingate.attestation.predicate import VulnerabilitySummary
from plugingate.attestation.signing import sign_statements
from plugingate.keys import private_key_from_pem
from plugingate.policy.model import VulnException

from .cli import run
from .conftest import IMAGE_DIGEST, POLICY_SHA, SignFn, make_predicate

Env = tuple[pytest.MonkeyPatch, pytest.CaptureFixture[str]]


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Env:
    return monkeypatch, capsys


def verify(env: Env, *args: str | Path) -> tuple[int, str]:
    result = run(["verify-attestation", *map(str, args)], *env)
    return result.code, result.out + result.err


def test_passes_for_the_bundle_and_each_image(env: Env, sign_gate: SignFn, bundle_file: Path, pub: Path) -> None:
    att = sign_gate()
    code, text = verify(env, bundle_file, "--attestation", att, "--key", pub)
    assert code == 0, text
    assert "verified" in text and "policy default" in text
    code, text = verify(
        env, IMAGE_DIGEST, "--attestation", att, "--key", pub, "--policy-digest", f"sha256:{POLICY_SHA}"
    )
    assert code == 0, text
    image_ref = f"registry.example.com/acme/exporter@{IMAGE_DIGEST}"
    code, text = verify(env, image_ref, "--attestation", att, "--key", pub)
    assert code == 0, text
    code, text = verify(env, bundle_file, "--attestation", att, "--key", pub, "--format", "json")
    assert code == 0 and json.loads(text)["policy"]["sha256"] == POLICY_SHA


def test_ed25519_key(
    env: Env, sign_gate: SignFn, bundle_file: Path, tmp_path: Path, ed_key_pem: tuple[bytes, bytes]
) -> None:
    att = sign_gate(key_pem=ed_key_pem[0])
    (tmp_path / "ed.pub").write_bytes(ed_key_pem[1])
    code, text = verify(env, bundle_file, "--attestation", att, "--key", tmp_path / "ed.pub")
    assert code == 0, text


def test_wrong_key(
    env: Env, sign_gate: SignFn, bundle_file: Path, tmp_path: Path, ed_key_pem: tuple[bytes, bytes]
) -> None:
    (tmp_path / "other.pub").write_bytes(ed_key_pem[1])
    code, text = verify(env, bundle_file, "--attestation", sign_gate(), "--key", tmp_path / "other.pub")
    assert code == 1
    assert "PG-ATT-001" in text and "verifies with a trusted key" in text


def test_wrong_subject(env: Env, sign_gate: SignFn, tmp_path: Path, pub: Path) -> None:
    other = tmp_path / "other.tgz"
    other.write_bytes(b"another bundle")
    code, text = verify(env, other, "--attestation", sign_gate(), "--key", pub)
    assert code == 1
    assert "PG-ATT-002" in text and hashlib.sha256(b"another bundle").hexdigest() in text
    code, text = verify(env, "sha256:" + "0" * 64, "--attestation", sign_gate(name="b"), "--key", pub)
    assert code == 1 and "PG-ATT-002" in text


def test_expired(env: Env, sign_gate: SignFn, bundle_file: Path, pub: Path) -> None:
    then = datetime.now(UTC) - timedelta(days=40)
    att = sign_gate(make_predicate(evaluated_at=then, valid_until=then + timedelta(days=30)))
    code, text = verify(env, bundle_file, "--attestation", att, "--key", pub)
    assert code == 1
    assert "PG-ATT-005" in text and "expired at" in text


def test_expired_through_an_applied_exception(env: Env, sign_gate: SignFn, bundle_file: Path, pub: Path) -> None:
    # evaluated two days ago, window of 30 days, but an exception that expired yesterday was applied
    then = datetime.now(UTC) - timedelta(days=2)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date() - timedelta(days=1)
    exc = VulnException(id="CVE-2026-0001", package="pkg:npm/x", expires=yesterday, reason="r")
    from plugingate.attestation.predicate import compute_valid_until

    predicate = make_predicate(
        evaluated_at=then,
        valid_until=compute_valid_until(then, timedelta(days=30), [exc.expires]),
        vulnerabilities=VulnerabilitySummary(counts={}, fail_on="high", exceptions_applied=[exc]),
    )
    code, text = verify(env, bundle_file, "--attestation", sign_gate(predicate), "--key", pub)
    assert code == 1 and "PG-ATT-005" in text


def test_from_the_future(env: Env, sign_gate: SignFn, bundle_file: Path, pub: Path) -> None:
    later = datetime.now(UTC) + timedelta(hours=2)
    att = sign_gate(make_predicate(evaluated_at=later, valid_until=later + timedelta(days=1)))
    code, text = verify(env, bundle_file, "--attestation", att, "--key", pub)
    assert code == 1 and "PG-ATT-008" in text


def test_wrong_predicate_type(env: Env, sign_gate: SignFn, bundle_file: Path, pub: Path, tmp_path: Path) -> None:
    # only the SBOM line: a valid, signed statement about the bundle, but not a gate attestation
    att = sign_gate()
    sbom_only = tmp_path / "sbom.jsonl"
    sbom_only.write_text(att.read_text().splitlines()[0] + "\n")
    code, text = verify(env, bundle_file, "--attestation", sbom_only, "--key", pub)
    assert code == 1
    assert "PG-ATT-003" in text and "https://cyclonedx.org/bom" in text
    code, text = verify(
        env, bundle_file, "--attestation", sbom_only, "--key", pub, "--type", "https://cyclonedx.org/bom"
    )
    assert code == 0, text


def test_not_passed(env: Env, sign_gate: SignFn, bundle_file: Path, pub: Path) -> None:
    att = sign_gate(make_predicate(passed=False, violations=["PG-CAP-010"]))
    code, text = verify(env, bundle_file, "--attestation", att, "--key", pub)
    assert code == 1
    assert "PG-ATT-004" in text and "PG-CAP-010" in text


def test_policy_digest_mismatch(env: Env, sign_gate: SignFn, bundle_file: Path, pub: Path) -> None:
    code, text = verify(
        env, bundle_file, "--attestation", sign_gate(), "--key", pub, "--policy-digest", "sha256:" + "1" * 64
    )
    assert code == 1
    assert "PG-ATT-006" in text and POLICY_SHA in text


def test_tampered_payload(env: Env, sign_gate: SignFn, bundle_file: Path, pub: Path, tmp_path: Path) -> None:
    att = sign_gate()
    lines = att.read_text().splitlines()
    envelope = json.loads(lines[1])
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["passed"] = True
    statement["predicate"]["validUntil"] = "2999-01-01T00:00:00Z"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    forged = tmp_path / "forged.jsonl"
    forged.write_text(json.dumps(envelope) + "\n")
    code, text = verify(env, bundle_file, "--attestation", forged, "--key", pub)
    assert code == 1 and "PG-ATT-001" in text


def test_malformed_predicate_is_denied(
    env: Env, bundle_file: Path, pub: Path, tmp_path: Path, ec_key_pem: tuple[bytes, bytes]
) -> None:
    digest = hashlib.sha256(bundle_file.read_bytes()).hexdigest()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": bundle_file.name, "digest": {"sha256": digest}}],
        "predicateType": "https://plugingate.dev/attestation/gate/v2",
        "predicate": {"passed": True, "validUntil": "2999-01-01T00:00:00Z"},
    }
    att = sign_statements([statement], key=private_key_from_pem(ec_key_pem[0], password=None), out_dir=tmp_path)[0]
    code, text = verify(env, bundle_file, "--attestation", att, "--key", pub)
    assert code == 1 and "PG-ATT-007" in text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json\n", "line 1"),
        ('{"payloadType": "x"}\n[1]\n', "neither a DSSE envelope"),
        ("", "holds no attestation"),
    ],
)
def test_unreadable_attestation_is_a_usage_error(
    env: Env, bundle_file: Path, pub: Path, tmp_path: Path, content: str, expected: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    code, text = verify(env, bundle_file, "--attestation", bad, "--key", pub)
    assert code == 2, text
    assert expected in text or "bad.jsonl:1" in text


def test_needs_a_trusted_signer(env: Env, sign_gate: SignFn, bundle_file: Path) -> None:
    code, text = verify(env, bundle_file, "--attestation", sign_gate())
    assert code == 2 and "no trusted signer" in text


def test_directory_subject_is_refused(env: Env, sign_gate: SignFn, tmp_path: Path, pub: Path) -> None:
    code, text = verify(env, tmp_path, "--attestation", sign_gate(), "--key", pub)
    assert code == 2 and "plugingate pack" in text


def test_exception_expiry_date_is_inclusive(env: Env, sign_gate: SignFn, bundle_file: Path, pub: Path) -> None:
    # an exception expiring today still applies today: the attestation is valid until midnight UTC
    today = datetime.now(UTC).date()
    exc = VulnException(id="CVE-2026-0002", package="pkg:npm/y", expires=today, reason="r")
    now = datetime.now(UTC)
    predicate = make_predicate(
        valid_until=datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1),
        vulnerabilities=replace(make_predicate().vulnerabilities, exceptions_applied=[exc]),
        evaluated_at=now,
    )
    assert predicate.to_dict()["vulnerabilities"]["exceptionsApplied"][0]["expires"] == today.isoformat()
    code, text = verify(env, bundle_file, "--attestation", sign_gate(predicate), "--key", pub)
    assert code == 0, text
    assert date.fromisoformat(text.split("valid until ")[1][:10]) == today + timedelta(days=1)
