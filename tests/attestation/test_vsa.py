"""The SLSA Verification Summary Attestation: the in-toto framework's own message reads it strictly,
``verify-attestation`` checks it, and the real cosign verifies it as a DSSE attestation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from plugingate.attestation.predicate import CheckRecord, CheckStatus, PolicyRef
from plugingate.attestation.signing import sign_statements
from plugingate.attestation.statement import gate_statement, statement_bytes, vsa_statement
from plugingate.attestation.vsa import (
    VSA_PREDICATE_TYPE,
    InputAttestation,
    VerificationResult,
    VerificationSummary,
    build_vsa,
)
from plugingate.keys import private_key_from_pem
from plugingate.policy.trust import PolicyTrust, PolicyTrustKind
from plugingate.provenance.result import ProvenanceResult

from .cli import run
from .conftest import IMAGE_DIGEST, POLICY_SHA, make_predicate
from .tools import run_cosign


def pypi_message() -> Any:
    """``predicates.vsa.v1.VerificationSummary`` exactly as the PyPI in-toto-attestation package ships it."""
    from in_toto_attestation.predicates.vsa.v1 import vsa_pb2

    return vsa_pb2.VerificationSummary()


def spec_message() -> Any:
    """The same message with in-toto/attestation#429 applied: ``verified_levels`` repeated, as the SLSA spec says.

    NOTE: in-toto-attestation 0.9.3 (the newest on PyPI) still declares ``string verified_levels``;
    the VSA spec, and the upstream proto since #429 (issue #425: "the .MD is authoritative"), make
    it a list. The fix is applied to the package's own descriptor, in a private pool, and nothing else.
    """
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from in_toto_attestation.predicates.vsa.v1 import vsa_pb2

    proto = descriptor_pb2.FileDescriptorProto()
    vsa_pb2.DESCRIPTOR.CopyToProto(proto)
    (message,) = [m for m in proto.message_type if m.name == "VerificationSummary"]
    (levels,) = [f for f in message.field if f.name == "verified_levels"]
    assert levels.label == descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL, "PyPI fixed it: use pypi_message()"
    levels.label = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
    pool = descriptor_pool.DescriptorPool()
    for dependency in vsa_pb2.DESCRIPTOR.dependencies:
        dep = descriptor_pb2.FileDescriptorProto()
        dependency.CopyToProto(dep)
        pool.Add(dep)
    pool.Add(proto)
    full_name = f"{proto.package}.VerificationSummary"
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))()


def strict_parse(predicate: dict[str, Any]) -> Any:
    """Parse with the framework's message, unknown fields refused (no ignore_unknown_fields).

    Every field but ``verifiedLevels`` is checked by the PyPI message as shipped; the whole predicate
    by the same message with the upstream fix (see ``spec_message``).
    """
    from google.protobuf import json_format

    without_levels = {k: v for k, v in predicate.items() if k != "verifiedLevels"}
    json_format.Parse(json.dumps(without_levels), pypi_message())
    return json_format.Parse(json.dumps(predicate), spec_message())


def test_the_pypi_message_still_has_the_string_levels_bug() -> None:
    """When this fails, PyPI's message follows the spec: drop ``spec_message`` and parse with it alone."""
    from google.protobuf import json_format

    with pytest.raises(json_format.ParseError, match="verifiedLevels"):
        json_format.Parse(json.dumps(summary().to_dict()), pypi_message())


def summary(**changes: Any) -> VerificationSummary:
    inputs = [InputAttestation(uri="https://cyclonedx.org/bom", sha256="a" * 64)]
    return replace(
        build_vsa(make_predicate(), bundle_name="acme-exporter-1.4.2.tgz", bundle_sha256="f" * 64, inputs=inputs),
        **changes,
    )


def test_the_framework_reads_every_field() -> None:
    doc = summary().to_dict()
    parsed = strict_parse(doc)
    assert parsed.verifier.id == "https://plugingate.dev/gate"
    assert parsed.verification_result == "PASSED"
    assert parsed.resource_uri == f"pkg:generic/acme-exporter@1.4.2?checksum=sha256:{'f' * 64}"
    assert parsed.policy.uri == "pkg:generic/plugingate-policy/default@1"
    assert dict(parsed.policy.digest) == {"sha256": POLICY_SHA}
    assert [(a.uri, dict(a.digest)) for a in parsed.input_attestations] == [
        ("https://cyclonedx.org/bom", {"sha256": "a" * 64})
    ]
    assert list(parsed.verified_levels) == ["SLSA_BUILD_LEVEL_0", "PLUGINGATE_GATE_PASSED", "PLUGINGATE_BUNDLE_SIGNED"]
    assert parsed.time_verified.ToDatetime(tzinfo=UTC) == make_predicate().evaluated_at.replace(microsecond=0)
    assert parsed.slsa_version == "1.0"


def test_strict_parsing_would_catch_an_extra_field() -> None:
    """The check above is strict: a field the message does not define is refused, so none is emitted."""
    from google.protobuf import json_format

    with pytest.raises(json_format.ParseError):
        strict_parse({**summary().to_dict(), "plugingateMode": "enforce"})


def _built_by(builder: str) -> ProvenanceResult:
    from plugingate.provenance.slsa import ProvenanceFacts

    facts = ProvenanceFacts(
        predicate_type="https://slsa.dev/provenance/v1",
        builder_id=builder,
        source_repository=None,
        source_ref=None,
        build_type=None,
        subjects=(),
    )
    return ProvenanceResult(findings=(), facts=facts)


def test_levels_follow_what_was_verified() -> None:
    predicate = make_predicate(
        passed=False,
        violations=("PG-CAP-010",),
        provenance=CheckRecord(status=CheckStatus.VERIFIED, required=True, result=_built_by("https://b")),
        policy=PolicyRef(name="p", sha256=POLICY_SHA, trust=PolicyTrust(PolicyTrustKind.SIGNED, "signed by the test")),
    )
    vsa = build_vsa(predicate, bundle_name="x.tgz", bundle_sha256="f" * 64).to_dict()
    assert vsa["verificationResult"] == "FAILED"
    assert vsa["verifiedLevels"] == ["SLSA_BUILD_LEVEL_2", "PLUGINGATE_BUNDLE_SIGNED", "PLUGINGATE_POLICY_TRUSTED"]
    assert all(not lv.startswith("SLSA_") or lv.startswith("SLSA_BUILD_LEVEL_") for lv in vsa["verifiedLevels"])
    assert vsa["resourceUri"] == f"pkg:generic/acme-exporter@1.4.2?checksum=sha256:{'f' * 64}"
    strict_parse(vsa)


@pytest.mark.parametrize(
    "levels",
    [
        ["PLUGINGATE_GATE_PASSED"],  # no SLSA build level
        ["SLSA_BUILD_LEVEL_1", "SLSA_BUILD_LEVEL_2"],  # two of one track
        ["SLSA_BUILD_LEVEL_2", "SLSA_SOURCE_LEVEL_9"],  # our own level under the SLSA_ prefix
        ["SLSA_BUILD_LEVEL_2", "gate-passed"],
    ],
)
def test_levels_are_checked(levels: list[str]) -> None:
    with pytest.raises(ValueError, match=r"verifiedLevels|own levels"):
        summary(verified_levels=levels)


Env = tuple[pytest.MonkeyPatch, pytest.CaptureFixture[str]]


def sign_vsa(
    tmp_path: Path, key_pem: bytes, bundle: Path, vsa: VerificationSummary, edit: dict[str, Any] | None = None
) -> Path:
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    common: dict[str, Any] = {
        "bundle_name": bundle.name,
        "bundle_sha256": digest,
        "image_digests": [("registry.example.com/acme/exporter", IMAGE_DIGEST)],
    }
    statement = vsa_statement(**common, summary=vsa)
    statement["predicate"].update(edit or {})
    gate = gate_statement(**common, predicate=make_predicate())
    out = tmp_path / f"vsa-{len(list(tmp_path.glob('vsa-*')))}"
    return sign_statements([gate, statement], key=private_key_from_pem(key_pem, password=None), out_dir=out)[0]


def verify_vsa(env: Env, subject: str | Path, att: Path, pub: Path, *more: str) -> tuple[int, str]:
    result = run(
        [
            "verify-attestation",
            str(subject),
            "--attestation",
            str(att),
            "--key",
            str(pub),
            "--type",
            VSA_PREDICATE_TYPE,
            *more,
        ],
        *env,
    )
    return result.code, result.out + result.err


def test_verify_attestation_checks_the_vsa(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    bundle_file: Path,
    ec_key_pem: tuple[bytes, bytes],
    pub: Path,
) -> None:
    env = (monkeypatch, capsys)
    good = sign_vsa(tmp_path, ec_key_pem[0], bundle_file, summary())
    code, text = verify_vsa(env, IMAGE_DIGEST, good, pub, "--policy-digest", f"sha256:{POLICY_SHA}")
    assert code == 0, text
    failed = sign_vsa(tmp_path, ec_key_pem[0], bundle_file, summary(result=VerificationResult.FAILED))
    code, text = verify_vsa(env, bundle_file, failed, pub)
    assert code == 1 and "PG-ATT-004" in text and "'FAILED'" in text
    code, text = verify_vsa(env, bundle_file, good, pub, "--policy-digest", "sha256:" + "1" * 64)
    assert code == 1 and "PG-ATT-006" in text
    old = sign_vsa(tmp_path, ec_key_pem[0], bundle_file, summary(time_verified=datetime.now(UTC) - timedelta(days=2)))
    assert verify_vsa(env, bundle_file, old, pub)[0] == 0
    code, text = verify_vsa(env, bundle_file, old, pub, "--max-age", "24h")
    assert code == 1 and "PG-ATT-005" in text
    other = sign_vsa(tmp_path, ec_key_pem[0], bundle_file, summary(verifier_id="https://example.com/another-verifier"))
    code, text = verify_vsa(env, bundle_file, other, pub)
    assert code == 1 and "PG-ATT-011" in text
    lowercase = sign_vsa(tmp_path, ec_key_pem[0], bundle_file, summary(), {"verificationResult": "passed"})
    code, text = verify_vsa(env, bundle_file, lowercase, pub)
    assert code == 1 and "PG-ATT-004" in text
    broken = sign_vsa(tmp_path, ec_key_pem[0], bundle_file, summary(), {"policy": {"uri": "x"}})
    code, text = verify_vsa(env, bundle_file, broken, pub)
    assert code == 1 and "PG-ATT-007" in text
    code, text = verify_vsa(env, bundle_file, good, pub, "--max-age", "soon")
    assert code == 2 and "--max-age" in text


def test_input_attestations_pin_the_statements_bytes() -> None:
    statement = gate_statement(
        bundle_name="a.tgz", bundle_sha256="f" * 64, image_digests=[], predicate=make_predicate()
    )
    from plugingate.attestation.vsa import statement_input

    found = statement_input(statement)
    assert found.sha256 == hashlib.sha256(statement_bytes(statement)).hexdigest()


@pytest.mark.integration
def test_cosign_verifies_the_vsa(tmp_path: Path, bundle_file: Path, ec_key_pem: tuple[bytes, bytes], pub: Path) -> None:
    paths = sign_statements(
        [
            vsa_statement(
                bundle_name=bundle_file.name,
                bundle_sha256=hashlib.sha256(bundle_file.read_bytes()).hexdigest(),
                image_digests=[],
                summary=summary(),
            )
        ],
        key=private_key_from_pem(ec_key_pem[0], password=None),
        out_dir=tmp_path / "out",
    )
    envelope = next(p for p in paths if p.name == "attestation-vsa.dsse.json")
    args = ["verify-blob-attestation", "--key", str(pub), "--insecure-ignore-tlog", "--signature", str(envelope)]
    ok = run_cosign(*args, "--type", VSA_PREDICATE_TYPE, str(bundle_file))
    assert ok.returncode == 0, ok.stderr
    assert "Verified OK" in ok.stderr + ok.stdout
    other = tmp_path / "other.tgz"
    other.write_bytes(b"other")
    assert run_cosign(*args, "--type", VSA_PREDICATE_TYPE, str(other)).returncode != 0
    wrong = run_cosign(*args, "--type", "https://plugingate.dev/attestation/gate/v2", str(bundle_file))
    assert wrong.returncode != 0
