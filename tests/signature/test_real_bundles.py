"""Real Sigstore bundles (public-good production and staging) verify offline as the fixtures' table says.

Each one must also fail with a wrong identity, a wrong issuer, and one changed byte of its artifact
(one changed hex digit where only a digest is kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.signature.cliutil import invoke

FIX = FIXTURES / "sigstore"
GH = "https://token.actions.githubusercontent.com"

pytestmark = pytest.mark.skipif(not FIX.is_dir(), reason=f"Sigstore fixtures not found at {FIX}")


@dataclass(frozen=True)
class Case:
    artifact: str
    bundle: str
    staging: bool
    identity: str
    issuer: str


PASSING = [
    Case(
        "sha256:c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201",
        "bundle_v3_github.whl.sigstore",
        False,
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
        GH,
    ),
    Case("bundle_v3.txt", "bundle_v3.txt.sigstore", True, "william@yossarian.net", "https://github.com/login/oauth"),
    Case(
        "staging-rekor-v2.txt",
        "staging-rekor-v2.txt.sigstore.json",
        True,
        "jku@goto.fi",
        "https://github.com/login/oauth",
    ),
    Case(
        "dsse-subject-a.txt",
        "a.dsse.staging-rekor-v2.txt.sigstore.json",
        True,
        "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
        "extremely-dangerous-oidc-beacon.yml@refs/heads/main",
        GH,
    ),
]


def _artifact(case: Case, tmp: Path, *, tamper: bool = False) -> str | Path:
    if case.artifact.startswith("sha256:"):
        if not tamper:
            return case.artifact
        last = case.artifact[-1]
        return case.artifact[:-1] + ("0" if last != "0" else "1")
    data = (FIX / case.artifact).read_bytes()
    if not tamper:
        return FIX / case.artifact
    out = tmp / case.artifact
    out.write_bytes(bytes([data[0] ^ 0x01]) + data[1:])
    return out


def _run(case: Case, artifact: str | Path, identity: str, issuer: str) -> object:
    args: list[str | Path] = [
        "verify-signature",
        artifact,
        "--bundle",
        FIX / case.bundle,
        "--offline",
        "--identity",
        identity,
        "--issuer",
        issuer,
    ]
    if case.staging:
        args.append("--staging")
    return invoke(*args)


@pytest.mark.parametrize("case", PASSING, ids=lambda c: c.bundle)
def test_verifies(case: Case, tmp_path: Path) -> None:
    outcome = _run(case, _artifact(case, tmp_path), case.identity, case.issuer)
    assert outcome.code == 0, outcome.output
    assert case.identity in outcome.output


@pytest.mark.parametrize("case", PASSING, ids=lambda c: c.bundle)
def test_wrong_identity_is_denied_naming_both(case: Case, tmp_path: Path) -> None:
    outcome = _run(case, _artifact(case, tmp_path), "someone-else@example.com", case.issuer)
    assert outcome.code == 1
    assert "PG-SIG-003" in outcome.output
    assert case.identity in outcome.output and "someone-else@example.com" in outcome.output


@pytest.mark.parametrize("case", PASSING, ids=lambda c: c.bundle)
def test_wrong_issuer_is_denied(case: Case, tmp_path: Path) -> None:
    outcome = _run(case, _artifact(case, tmp_path), case.identity, "https://accounts.example.com")
    assert outcome.code == 1
    assert "PG-SIG-003" in outcome.output and "https://accounts.example.com" in outcome.output


@pytest.mark.parametrize("case", PASSING, ids=lambda c: c.bundle)
def test_one_changed_byte_is_denied(case: Case, tmp_path: Path) -> None:
    outcome = _run(case, _artifact(case, tmp_path, tamper=True), case.identity, case.issuer)
    assert outcome.code == 1
    assert "PG-SIG-002" in outcome.output


def test_identity_regex_must_match_in_full(tmp_path: Path) -> None:
    case = PASSING[0]
    ok = invoke(
        "verify-signature",
        case.artifact,
        "--bundle",
        FIX / case.bundle,
        "--offline",
        "--identity-regex",
        r"https://github\.com/trailofbits/.+",
        "--issuer",
        GH,
    )
    assert ok.code == 0, ok.output
    partial = invoke(
        "verify-signature",
        case.artifact,
        "--bundle",
        FIX / case.bundle,
        "--offline",
        "--identity-regex",
        r"https://github\.com/trailofbits",
        "--issuer",
        GH,
    )
    assert partial.code == 1
    # the denial says why: the regex matched only a part, and how to ask for cosign's semantics
    assert "must match the whole identity" in partial.output and "--identity-regex-search" in partial.output
    assert "matches only 'https://github.com/trailofbits'" in partial.output
    searched = invoke(
        "verify-signature",
        case.artifact,
        "--bundle",
        FIX / case.bundle,
        "--offline",
        "--identity-regex",
        r"https://github\.com/trailofbits",
        "--identity-regex-search",
        "--issuer",
        GH,
    )
    assert searched.code == 0, searched.output
    elsewhere = invoke(
        "verify-signature",
        case.artifact,
        "--bundle",
        FIX / case.bundle,
        "--offline",
        "--identity-regex",
        r"^github\.com/trailofbits",
        "--identity-regex-search",
        "--issuer",
        GH,
    )
    assert elsewhere.code == 1 and "contains no match" in elsewhere.output
    alone = invoke(
        "verify-signature",
        case.artifact,
        "--bundle",
        FIX / case.bundle,
        "--offline",
        "--identity",
        case.identity,
        "--identity-regex-search",
    )
    assert alone.code == 2 and "--identity-regex-search needs --identity-regex" in alone.output


def test_github_claims_are_checked() -> None:
    case = PASSING[0]
    base = ["verify-signature", case.artifact, "--bundle", FIX / case.bundle, "--offline", "--identity", case.identity]
    assert (
        invoke(
            *base, "--source-repository", "github.com/trailofbits/rfc8785.py", "--workflow-ref", "refs/tags/v0.1.2"
        ).code
        == 0
    )
    wrong = invoke(*base, "--source-repository", "github.com/evil/rfc8785.py")
    assert wrong.code == 1 and "github.com/evil/rfc8785.py" in wrong.output
    assert invoke(*base, "--workflow-ref", "refs/heads/main").code == 1
    assert invoke(*base, "--runner-environment", "self-hosted").code == 1


@pytest.mark.parametrize(
    ("artifact", "bundle"),
    [
        ("bundle_cve_2022_36056.txt", "bundle_cve_2022_36056.txt.sigstore"),
        ("bundle_no_log_entry.txt", "bundle_no_log_entry.txt.sigstore"),
    ],
)
def test_known_bad_bundles_fail(artifact: str, bundle: str) -> None:
    outcome = invoke(
        "verify-signature",
        FIX / artifact,
        "--bundle",
        FIX / bundle,
        "--offline",
        "--staging",
        "--identity",
        "william@yossarian.net",
        "--issuer",
        "https://github.com/login/oauth",
    )
    assert outcome.code == 1, outcome.output
    assert "PG-SIG-005" in outcome.output


def test_pinned_trusted_root_file_is_used() -> None:
    case = PASSING[0]
    outcome = invoke(
        "verify-signature",
        case.artifact,
        "--bundle",
        FIX / case.bundle,
        "--trusted-root",
        FIX / "trustedroot.v1.json",
        "--identity",
        case.identity,
    )
    assert outcome.code == 0, outcome.output


def test_unreadable_trusted_root_is_undecided(tmp_path: Path) -> None:
    case = PASSING[0]
    bad = tmp_path / "root.json"
    bad.write_text("{not json")
    for root in (bad, tmp_path / "missing.json"):
        outcome = invoke(
            "verify-signature",
            case.artifact,
            "--bundle",
            FIX / case.bundle,
            "--trusted-root",
            root,
            "--identity",
            case.identity,
        )
        assert outcome.code == 3, outcome.output


def test_online_without_network_is_undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    """Online mode with the TUF repository unreachable must exit 3, never 0 nor 1."""
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    case = PASSING[0]
    outcome = invoke("verify-signature", case.artifact, "--bundle", FIX / case.bundle, "--identity", case.identity)
    assert outcome.code == 3, outcome.output
    assert "online" in outcome.output
