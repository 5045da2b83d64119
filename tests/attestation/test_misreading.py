"""An attestation cannot be read as a pass unless the gate enforced and found nothing (issue 12, item 1).

Each way a warn or dry-run decision, or an older predicate, could pass for an enforced one, through the
real ``verify-attestation`` CLI: the attestations are signed with the trusted key, so only the
predicate's meaning stands between them and admission.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from plugingate.attestation.signing import sign_statements
from plugingate.attestation.statement import gate_statement
from plugingate.keys import private_key_from_pem
from plugingate.policy.model import Mode

from .cli import run
from .conftest import make_predicate


def sign_raw(
    tmp_path: Path, key_pem: bytes, bundle: Path, edit: dict[str, Any], predicate_type: str | None = None
) -> Path:
    """A gate statement whose predicate dict is edited after building: what an older or broken gate signs."""
    statement = gate_statement(
        bundle_name=bundle.name,
        bundle_sha256=hashlib.sha256(bundle.read_bytes()).hexdigest(),
        image_digests=[],
        predicate=make_predicate(),
    )
    statement["predicate"].update(edit)
    if predicate_type is not None:
        statement["predicateType"] = predicate_type
    out = tmp_path / f"raw-{len(list(tmp_path.glob('raw-*')))}"
    return sign_statements([statement], key=private_key_from_pem(key_pem, password=None), out_dir=out)[0]


@pytest.mark.parametrize(
    ("edit", "rule", "said"),
    [
        # what plugingate < 0.2 signed for `--mode warn` and `PLUGINGATE_MODE=dry-run PLUGINGATE_ATTEST_DRY_RUN=1`
        ({"mode": "warn", "violations": ["PG-CAP-010"]}, "PG-ATT-010", '"warn" mode'),
        ({"mode": "dry-run", "violations": ["PG-CAP-010"]}, "PG-ATT-010", '"dry-run" mode'),
        ({"mode": "warn", "violations": []}, "PG-ATT-010", '"warn" mode'),
        ({"violations": ["PG-VULN-001"]}, "PG-ATT-010", "lists violations (PG-VULN-001)"),
        # what the gate signs now for the same runs
        ({"passed": False, "mode": "warn", "violations": ["PG-CAP-010"]}, "PG-ATT-004", "mode: warn"),
        ({"passed": False, "mode": "dry-run", "violations": []}, "PG-ATT-004", "mode: dry-run"),
        # other spellings of a pass
        ({"passed": "true"}, "PG-ATT-004", 'passed: "true"'),
        ({"passed": 1}, "PG-ATT-004", "passed: 1"),
        ({"mode": "Enforce"}, "PG-ATT-007", "mode"),
    ],
)
def test_only_an_enforced_clean_pass_verifies(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    bundle_file: Path,
    ec_key_pem: tuple[bytes, bytes],
    pub: Path,
    edit: dict[str, Any],
    rule: str,
    said: str,
) -> None:
    att = sign_raw(tmp_path, ec_key_pem[0], bundle_file, edit)
    result = run(
        ["verify-attestation", str(bundle_file), "--attestation", str(att), "--key", str(pub)], monkeypatch, capsys
    )
    assert result.code == 1, result.err
    assert rule in result.err and said in result.err, result.err


def test_a_v1_predicate_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    bundle_file: Path,
    ec_key_pem: tuple[bytes, bytes],
    pub: Path,
) -> None:
    """Even a clean enforce v1 attestation: v1's passed did not mean what v2's does, and v1 had no marker."""
    att = sign_raw(tmp_path, ec_key_pem[0], bundle_file, {}, "https://plugingate.dev/attestation/gate/v1")
    args = ["verify-attestation", str(bundle_file), "--attestation", str(att), "--key", str(pub)]
    result = run(args, monkeypatch, capsys)
    assert result.code == 1 and "PG-ATT-003" in result.err and "also covered warn and dry-run" in result.err
    # asking for the old type by name does not help: its verdict is not checked, so it proves nothing
    result = run([*args, "--type", "https://plugingate.dev/attestation/gate/v1"], monkeypatch, capsys)
    assert result.code == 1 and "PG-ATT-003" in result.err


def test_the_clean_enforced_pass_verifies(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    bundle_file: Path,
    ec_key_pem: tuple[bytes, bytes],
    pub: Path,
) -> None:
    att = sign_raw(tmp_path, ec_key_pem[0], bundle_file, {"mode": str(Mode.ENFORCE), "violations": []})
    result = run(
        ["verify-attestation", str(bundle_file), "--attestation", str(att), "--key", str(pub)], monkeypatch, capsys
    )
    assert result.code == 0, result.err
