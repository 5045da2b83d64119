"""Approvals: signed, verified against the policy's approvers, bound to one plugin and two bundles, dated.

Each way an approval can be worthless is tried: another key, an edit after signing, another payload
type, an expiry in the past, another plugin, other bundles. Each approves nothing and says why.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from plugingate.dsse import sign_envelope
from plugingate.errors import InputError
from plugingate.growth.approvals import Approval, CheckedApproval, Transition, check_approval, sign_approval
from plugingate.growth.read import ReadVersion
from plugingate.policy import load_policy
from plugingate.policy.lint import lint_policy
from plugingate.policy.trust import named_files
from tests.growth.conftest import KeyFiles, make_approval, write_envelope, write_policy

Versions = dict[str, tuple[ReadVersion, ReadVersion]]


def check(path: Path, policy_file: Path, old: ReadVersion, new: ReadVersion) -> CheckedApproval:
    policy = load_policy(policy_file)
    transition = Transition(plugin=new.footprint.name, previous_sha256=old.sha256, bundle_sha256=new.sha256)
    return check_approval(path, policy.approvals.approvers, transition, datetime.now(UTC))


@pytest.fixture
def policy_file(tmp_path: Path, approver: KeyFiles) -> Path:
    return write_policy(tmp_path, approver)


def rule_ids(checked: CheckedApproval) -> list[str]:
    return [f.rule_id for f in checked.findings]


def test_a_valid_approval_verifies(tmp_path: Path, policy_file: Path, approver: KeyFiles, versions: Versions) -> None:
    old, new = versions["egress-host"]
    approval = make_approval(old, new)
    checked = check(write_envelope(tmp_path / "a.json", approval, approver), policy_file, old, new)
    assert checked.findings == () and checked.approval == approval
    assert checked.signer == "platform-security"
    assert checked.approval.items == ("egress:telemetry-acme.example:443/TCP",)
    statement = approval.statement()
    assert statement["subject"] == [{"name": new.name, "digest": {"sha256": new.sha256}}]
    assert statement["predicateType"] == "https://plugingate.dev/approval/v1"


def test_another_key_is_refused(tmp_path: Path, policy_file: Path, stranger: KeyFiles, versions: Versions) -> None:
    old, new = versions["egress-host"]
    checked = check(write_envelope(tmp_path / "a.json", make_approval(old, new), stranger), policy_file, old, new)
    assert checked.approval is None and rule_ids(checked) == ["PG-GRW-002"]
    assert "no signature of the DSSE envelope" in checked.findings[0].message


def test_an_edit_after_signing_is_refused(
    tmp_path: Path, policy_file: Path, approver: KeyFiles, versions: Versions
) -> None:
    old, new = versions["resources"]
    envelope = sign_approval(make_approval(old, new, items=["resources:cpu:1000m"]), approver.key())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["items"].append("resources:memory:536870912")
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(envelope))
    checked = check(path, policy_file, old, new)
    assert checked.approval is None and rule_ids(checked) == ["PG-GRW-002"]


def test_another_payload_type_is_refused(
    tmp_path: Path, policy_file: Path, approver: KeyFiles, versions: Versions
) -> None:
    old, new = versions["egress-host"]
    payload = json.dumps(make_approval(old, new).statement()).encode()
    path = tmp_path / "other-type.json"
    path.write_text(json.dumps(sign_envelope(payload, "application/json", approver.key())))
    checked = check(path, policy_file, old, new)
    assert rule_ids(checked) == ["PG-GRW-002"] and "payload type" in checked.findings[0].message


def test_a_signed_statement_that_is_not_an_approval_is_refused(
    tmp_path: Path, policy_file: Path, approver: KeyFiles, versions: Versions
) -> None:
    old, new = versions["egress-host"]
    statement = make_approval(old, new).statement()
    statement["predicateType"] = "https://plugingate.dev/attestation/gate/v2"
    path = tmp_path / "gate.json"
    path.write_text(
        json.dumps(sign_envelope(json.dumps(statement).encode(), "application/vnd.in-toto+json", approver.key()))
    )
    checked = check(path, policy_file, old, new)
    assert rule_ids(checked) == ["PG-GRW-002"] and "predicateType" in checked.findings[0].message


def test_an_expired_approval_is_refused(
    tmp_path: Path, policy_file: Path, approver: KeyFiles, versions: Versions
) -> None:
    old, new = versions["egress-host"]
    approval = make_approval(old, new, expires_in=-timedelta(seconds=1))
    checked = check(write_envelope(tmp_path / "a.json", approval, approver), policy_file, old, new)
    assert checked.approval is None and rule_ids(checked) == ["PG-GRW-003"]


@pytest.mark.parametrize("what", ["plugin", "previous", "bundle", "swapped"])
def test_an_approval_about_something_else_is_refused(
    tmp_path: Path, policy_file: Path, approver: KeyFiles, versions: Versions, what: str
) -> None:
    old, new = versions["egress-host"]
    # NOTE: every case's old version is the same bundle, so another case's new one is the other bundle.
    other_new = versions["resources"][1]
    approval = make_approval(old, new)
    approval = {
        "plugin": replace(approval, plugin="someone-else"),
        "previous": replace(approval, previous_sha256=other_new.sha256),
        "bundle": replace(approval, bundle_sha256=other_new.sha256),
        "swapped": replace(approval, previous_sha256=new.sha256, bundle_sha256=old.sha256),
    }[what]
    checked = check(write_envelope(tmp_path / "a.json", approval, approver), policy_file, old, new)
    assert checked.approval is None and rule_ids(checked) == ["PG-GRW-004"]


def test_no_approver_verifies_nothing(tmp_path: Path, approver: KeyFiles, versions: Versions) -> None:
    old, new = versions["egress-host"]
    no_approvers = write_policy(tmp_path, None)
    checked = check(write_envelope(tmp_path / "a.json", make_approval(old, new), approver), no_approvers, old, new)
    assert rule_ids(checked) == ["PG-GRW-002"] and "names no approver" in checked.findings[0].message
    assert [i.code for i in lint_policy(load_policy(no_approvers))] == ["PL080"]


def test_not_an_envelope_is_bad_input(tmp_path: Path, policy_file: Path, versions: Versions) -> None:
    old, new = versions["egress-host"]
    path = tmp_path / "approval.json"
    path.write_text('{"items": []}')
    with pytest.raises(InputError) as caught:
        check(path, policy_file, old, new)
    assert "approval.json" in caught.value.diagnostics()


def test_a_statement_round_trips() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    approval = Approval("p", "a" * 64, "1", "p.tgz", "b" * 64, "2", ("x:y",), "me", now, now + timedelta(days=1), "ok")
    assert Approval.from_statement(approval.statement()) == approval
    broken = approval.statement()
    broken["subject"][0]["digest"]["sha256"] = "c" * 64
    with pytest.raises(ValueError, match="subject sha256"):
        Approval.from_statement(broken)


def test_the_policy_reads_approvals_and_its_trust_covers_the_approver_key(
    tmp_path: Path, policy_file: Path, approver: KeyFiles
) -> None:
    policy = load_policy(policy_file)
    assert [str(k) for k in policy.approvals.require_for][:2] == ["egress", "ingress"]
    assert [a.name for a in policy.approvals.approvers] == ["platform-security"]
    assert approver.public in named_files(policy)
    assert lint_policy(policy) == []


def test_a_keyless_approver_or_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    base = write_policy(tmp_path, None).read_text()
    keyless = tmp_path / "keyless.yaml"
    keyless.write_text(
        base + "    approvers:\n    - keyless: {identity: a@example.com, issuer: https://accounts.example.com}\n"
    )
    with pytest.raises(InputError, match="keyless approvers"):
        load_policy(keyless)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(base.replace("- egress", "- everything", 1))
    with pytest.raises(InputError):
        load_policy(unknown)


@pytest.mark.integration
def test_cosign_verifies_an_approval_against_the_new_bundle(tmp_path: Path, approver: KeyFiles) -> None:
    """An approval is a blob attestation about the new bundle archive, as cosign reads one."""
    from tests.attestation.tools import run_cosign
    from tests.conftest import run_cli
    from tests.growth.conftest import GROWTH
    from tests.manifests.kube import require_helper

    require_helper()
    case = GROWTH / "egress-host"
    new = tmp_path / "new.tgz"
    assert run_cli("pack", case / "new", "-o", new).code == 0
    approval = tmp_path / "approval.json"
    made = run_cli(
        "approve", case / "old", new, "--key", approver.private, "--approver", "a", "-o", approval,
        env={"COSIGN_PASSWORD": ""},
    )  # fmt: skip
    assert made.code == 0, made.stderr
    args = ["verify-blob-attestation", "--key", str(approver.public), "--insecure-ignore-tlog"]
    ok = run_cosign(*args, "--type", "https://plugingate.dev/approval/v1", "--signature", str(approval), str(new))
    assert ok.returncode == 0, ok.stderr
    other = tmp_path / "other.tgz"
    other.write_bytes(new.read_bytes() + b"\0")
    bad = run_cosign(*args, "--type", "https://plugingate.dev/approval/v1", "--signature", str(approval), str(other))
    assert bad.returncode != 0


@pytest.mark.integration
def test_an_approval_made_with_cosign_attest_blob_is_honoured(
    tmp_path: Path, policy_file: Path, approver: KeyFiles, versions: Versions
) -> None:
    """The documented alternative to plugingate approve: cosign signs the same predicate (as Statement v0.1)."""
    import os
    import subprocess

    from plugingate.tools.locate import Tool, locate

    old, new = versions["egress-host"]
    statement = make_approval(old, new).statement()
    predicate = tmp_path / "predicate.json"
    predicate.write_text(json.dumps(statement["predicate"]))
    blob = tmp_path / new.name
    blob.write_bytes(b"stand-in: cosign digests this file; the subject must be the new bundle's sha256")
    envelope = tmp_path / "approval.json"
    proc = subprocess.run(
        [str(locate(Tool.COSIGN)[0]), "attest-blob", "--key", str(approver.private), "--predicate", str(predicate),
         "--type", "https://plugingate.dev/approval/v1", "--tlog-upload=false", "--use-signing-config=false",
         "--new-bundle-format=false", "--output-signature", str(envelope), "-y", str(blob)],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "COSIGN_PASSWORD": ""},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # NOTE: cosign names the blob it was given as the subject; the predicate's bundle digest must then agree.
    checked = check(envelope, policy_file, old, new)
    assert rule_ids(checked) == ["PG-GRW-002"] and "differs from predicate bundle.sha256" in checked.findings[0].message
    blob_sha = __import__("hashlib").sha256(blob.read_bytes()).hexdigest()
    statement["predicate"]["bundle"]["sha256"] = blob_sha
    predicate.write_text(json.dumps(statement["predicate"]))
    proc = subprocess.run([*proc.args], capture_output=True, text=True, timeout=120, check=False,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
                               "COSIGN_PASSWORD": ""})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    transition = Transition(plugin=new.footprint.name, previous_sha256=old.sha256, bundle_sha256=blob_sha)
    policy = load_policy(policy_file)
    good = check_approval(envelope, policy.approvals.approvers, transition, datetime.now(UTC))
    assert good.findings == () and good.approval is not None and good.approval.bundle_sha256 == blob_sha
