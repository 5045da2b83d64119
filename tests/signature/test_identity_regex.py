"""``--identity-regex`` matches the whole identity; the denial says so; cosign's search semantics on request only."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from plugingate.errors import InputError
from plugingate.policy import parse_policy
from plugingate.policy.lint import lint_policy
from plugingate.signature.cli_support import signers_from_options
from plugingate.signature.identity import CertificateClaims, KeylessIdentity, identity_regex_mismatch

GH = "https://token.actions.githubusercontent.com"
SAN = "https://github.com/acme/exporter/.github/workflows/release.yml@refs/tags/v1.0.0"
HEAD = b"apiVersion: plugingate.dev/v1\nkind: GatePolicy\nmetadata: {name: p}\n"


def test_a_partial_match_is_refused_and_the_message_says_why() -> None:
    problem = identity_regex_mismatch(r"https://github\.com/acme/", SAN)
    assert problem is not None
    assert "as a whole" in problem and "matches only 'https://github.com/acme/'" in problem
    assert "the regex must match the whole identity" in problem and "--identity-regex-search" in problem
    assert "identityRegexSearch: true" in problem
    assert identity_regex_mismatch(r"https://github\.com/acme/.+", SAN) is None


def test_no_match_at_all_says_the_same_rule_without_a_part() -> None:
    problem = identity_regex_mismatch(r"https://gitlab\.com/.+", SAN)
    assert problem is not None and "matches only" not in problem and "must match the whole identity" in problem


def test_search_semantics_are_cosigns_and_only_on_request() -> None:
    assert identity_regex_mismatch(r"github\.com/acme/", SAN, search=True) is None
    # anchors still anchor in search mode, as in cosign (Go regexp.MatchString)
    assert identity_regex_mismatch(r"^github\.com/acme/", SAN, search=True) is not None
    missing = identity_regex_mismatch(r"github\.com/evil/", SAN, search=True)
    assert missing is not None and "searched anywhere in it" in missing


def test_the_search_attack_that_full_match_stops() -> None:
    """A cosign-style regex ``https://github.com/acme/`` trusts an attacker's SAN that contains it."""
    evil = "https://github.com/evil/x/.github/workflows/a.yml@refs/heads/https://github.com/acme/"
    assert identity_regex_mismatch(r"https://github\.com/acme/", evil) is not None
    assert identity_regex_mismatch(r"https://github\.com/acme/", evil, search=True) is None
    keyless = KeylessIdentity(issuer=GH, identity_regex=r"https://github\.com/acme/")
    assert keyless.mismatches(CertificateClaims(san=evil, issuer=GH))
    assert "as a whole" in keyless.describe()
    searching = KeylessIdentity(issuer=GH, identity_regex=r"https://github\.com/acme/", identity_regex_search=True)
    assert not searching.mismatches(CertificateClaims(san=SAN, issuer=GH))
    assert "containing a match" in searching.describe()


def test_search_needs_a_regex() -> None:
    with pytest.raises(ValueError, match="identityRegex only"):
        KeylessIdentity(issuer=GH, identity=SAN, identity_regex_search=True)
    with pytest.raises(InputError, match="needs --identity-regex"):
        signers_from_options(keys=(), identity=SAN, identity_regex=None, issuer=GH, identity_regex_search=True)
    with pytest.raises(InputError, match="needs --identity-regex"):
        signers_from_options(keys=(), identity=None, identity_regex=None, issuer=GH, identity_regex_search=True)


def test_policy_identity_regex_search_reaches_the_verifier_and_lint() -> None:
    raw = (
        HEAD
        + b"""spec:
  signature:
    trustedSigners:
      - name: whole
        keyless: {issuer: https://token.actions.githubusercontent.com, identityRegex: "https://github\\\\.com/acme/.+"}
      - name: search
        keyless:
          issuer: https://token.actions.githubusercontent.com
          identityRegex: "github\\\\.com/acme/"
          identityRegexSearch: true
"""
    )
    policy = parse_policy(raw, source="p.yaml", base_dir=Path("."))
    whole, search = policy.signature.trusted_signers
    assert whole.keyless is not None and not whole.keyless.identity_regex_search
    assert search.keyless is not None and search.keyless.identity_regex_search
    codes = [(i.code, i.message) for i in lint_policy(policy, today=date(2026, 12, 1))]
    # unanchored is harmless when the regex must match the whole identity; it is the search one that warns
    pl003 = [m for c, m in codes if c == "PL003"]
    assert len(pl003) == 1 and "identityRegexSearch is true" in pl003[0]


def test_policy_schema_refuses_search_without_a_regex() -> None:
    raw = (
        HEAD
        + b"""spec:
  signature:
    trustedSigners:
      - name: exact
        keyless: {issuer: https://token.actions.githubusercontent.com, identity: x, identityRegexSearch: true}
"""
    )
    with pytest.raises(InputError, match="identityRegex"):
        parse_policy(raw, source="p.yaml", base_dir=Path("."))
