"""Every bundle-verification case of the sigstore-conformance suite, through ``verify-signature``.

A case passes when its folder name does not end in ``_fail`` and fails otherwise; the suite's
README lists what each case probes. A verifier worth trusting gets all of them right, including
the managed-key cases and the ``intoto/0.0.2`` ones that the ``sigstore`` library alone rejects.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.signature.cliutil import invoke

SUITE = FIXTURES / "sigstore-conformance"
DEFAULT_IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
DEFAULT_ISSUER = "https://token.actions.githubusercontent.com"


def _cases() -> list[Path]:
    if not SUITE.is_dir():
        return []
    return sorted(p for p in SUITE.iterdir() if p.is_dir())


def _args(case: Path) -> list[str | Path]:
    artifact = case / "artifact" if (case / "artifact").exists() else SUITE / "a.txt"
    args: list[str | Path] = ["verify-signature", artifact, "--bundle", case / "bundle.sigstore.json", "--offline"]
    if (case / "trusted_root.json").exists():
        args += ["--trusted-root", case / "trusted_root.json"]
    if (case / "key.pub").exists():
        args += ["--key", case / "key.pub"]
    else:
        identity = (case / "identity").read_text().strip() if (case / "identity").exists() else DEFAULT_IDENTITY
        issuer = (case / "issuer").read_text().strip() if (case / "issuer").exists() else DEFAULT_ISSUER
        args += ["--identity", identity, "--issuer", issuer]
    return args


@pytest.mark.skipif(not SUITE.is_dir(), reason=f"sigstore-conformance fixtures not found at {SUITE}")
def test_suite_is_complete() -> None:
    """The suite has the 70 cases its README describes, so a missing folder can't pass silently."""
    assert len(_cases()) == 70


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_case(case: Path) -> None:
    outcome = invoke(*_args(case))
    if case.name.endswith("_fail"):
        assert outcome.code != 0, f"{case.name} must fail but verified: {outcome.output}"
        # NOTE: a malformed trusted root is undecided (3); everything else is a denial or bad input.
        allowed = {3} if case.name.startswith("trust-root-") else {1, 2}
        assert outcome.code in allowed, outcome.output
    else:
        assert outcome.code == 0, f"{case.name} must verify: {outcome.output}"
        assert "verified:" in outcome.output


def test_managed_key_without_key_names_the_hint() -> None:
    case = SUITE / "managed-key-no-key_fail"
    outcome = invoke(
        "verify-signature",
        SUITE / "a.txt",
        "--bundle",
        case / "bundle.sigstore.json",
        "--offline",
        "--identity",
        DEFAULT_IDENTITY,
    )
    assert outcome.code == 1
    assert "managed key" in outcome.output and "TLMsSDfG3ajPsWge" in outcome.output


def test_managed_key_with_another_valid_key_is_untrusted(tmp_path: Path) -> None:
    from plugingate.keys import generate_key_pair

    pub = tmp_path / "other.pub"
    pub.write_bytes(generate_key_pair(b"").public_pem)
    case = SUITE / "managed-key-happy-path"
    outcome = invoke(
        "verify-signature", SUITE / "a.txt", "--bundle", case / "bundle.sigstore.json", "--offline", "--key", pub
    )
    assert outcome.code == 1
    assert "PG-SIG-003" in outcome.output and "TLMsSDfG3ajPsWge" in outcome.output
