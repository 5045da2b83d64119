"""Where keyless signing's instance and token come from, and how bad ones fail (exit 2, or 3).

A private instance's files that cannot be read must never fall back to the public-good instance, and
half a private instance (a trusted root without its signing config) is refused rather than mixed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plugingate.errors import ExitCode, InputError, UndecidedError
from plugingate.pipeline import KeylessSettings
from plugingate.signature.keyless import private_trust_config, resolve_identity_token
from tests.signature.cliutil import invoke

AMBIENT = ("SIGSTORE_ID_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "GITLAB_CI")


@pytest.fixture()
def no_ambient(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AMBIENT:
        monkeypatch.delenv(name, raising=False)


def test_no_private_instance_means_the_public_one() -> None:
    assert private_trust_config(KeylessSettings()) is None


@pytest.mark.parametrize("content", ["not json", "{}", json.dumps({"mediaType": "something/else"}), ""])
def test_unreadable_trust_config_is_bad_input(tmp_path: Path, content: str) -> None:
    path = tmp_path / "trust.json"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        private_trust_config(KeylessSettings(trust_config=path))
    assert info.value.exit_code == ExitCode.USAGE
    assert str(path) in info.value.diagnostics() or info.value.path == str(path)


def test_missing_trust_config_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        private_trust_config(KeylessSettings(trust_config=tmp_path / "absent.json"))


def test_half_a_private_instance_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "trusted_root.json"
    root.write_text("{}")
    with pytest.raises(InputError, match="both --trusted-root and --signing-config"):
        private_trust_config(KeylessSettings(trusted_root=root))
    with pytest.raises(InputError, match="both --trusted-root and --signing-config"):
        private_trust_config(KeylessSettings(signing_config=root))


def test_trust_config_and_the_pair_together_are_refused(tmp_path: Path) -> None:
    f = tmp_path / "f.json"
    f.write_text("{}")
    with pytest.raises(InputError, match="not both"):
        private_trust_config(KeylessSettings(trust_config=f, trusted_root=f, signing_config=f))


def test_token_file_wins_and_is_stripped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", "from-env")
    token = tmp_path / "token"
    token.write_text("from-file\n")
    assert resolve_identity_token(token) == "from-file"
    assert resolve_identity_token(None) == "from-env"


@pytest.mark.parametrize("content", ["", "  \n"])
def test_empty_token_file_is_bad_input(tmp_path: Path, content: str) -> None:
    token = tmp_path / "token"
    token.write_text(content)
    with pytest.raises(InputError, match="empty"):
        resolve_identity_token(token)


def test_blank_env_token_is_no_token(monkeypatch: pytest.MonkeyPatch, no_ambient: None) -> None:
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", "   ")
    with pytest.raises(UndecidedError, match="needs an OIDC identity token") as info:
        resolve_identity_token(None)
    assert info.value.exit_code == ExitCode.UNDECIDED


def test_sign_keyless_with_a_broken_trust_config_exits_2_before_any_network(tmp_path: Path, no_ambient: None) -> None:
    artifact = tmp_path / "a.tgz"
    artifact.write_bytes(b"x")
    trust = tmp_path / "trust.json"
    trust.write_text("[]")
    outcome = invoke("sign", artifact, "--keyless", "--trust-config", trust)
    assert outcome.code == 2, outcome.output
    assert "trust.json" in outcome.output


def test_sign_keyless_without_a_token_exits_3(tmp_path: Path, no_ambient: None) -> None:
    artifact = tmp_path / "a.tgz"
    artifact.write_bytes(b"x")
    outcome = invoke("sign", artifact, "--keyless")
    assert outcome.code == 3, outcome.output
    assert "identity token" in outcome.output


def test_gate_trust_config_needs_attest_keyless(tmp_path: Path) -> None:
    f = tmp_path / "trust.json"
    f.write_text("{}")
    outcome = invoke("gate", tmp_path, "--trust-config", f)
    assert outcome.code == 2, outcome.output
    assert "--attest-keyless" in outcome.output


def test_gate_broken_trust_config_fails_before_scanning(tmp_path: Path) -> None:
    f = tmp_path / "trust.json"
    f.write_text("{")
    outcome = invoke("gate", tmp_path, "--attest-keyless", "--trust-config", f, "--out", tmp_path / "out")
    assert outcome.code == 2, outcome.output
    assert not (tmp_path / "out" / "report.json").exists()
