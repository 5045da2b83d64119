"""slsa-verifier's builder-id form: a bare id trusts any ref, ``@REF`` pins one, and the signer comes from it.

Against the real provenance fixtures (testdata/fixtures/provenance): the slsa-github-generator's
generic generator at refs/heads/main (SLSA v0.2) and its container-based builder at refs/tags/v1.7.0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plugingate.policy import model
from plugingate.provenance.slsa import BuilderId, builder_trusted
from plugingate.provenance.step import verify_bundle_provenance
from plugingate.signature.identity import GITHUB_ACTIONS_ISSUER, CertificateClaims, KeylessIdentity, TrustedSigner
from tests.conftest import FIXTURES
from tests.signature.cliutil import invoke

FIX = FIXTURES / "provenance"
WORKFLOWS = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/"
GEN = WORKFLOWS + "generator_generic_slsa3.yml"
GEN_FILE = FIX / "verifiers_internal_gha_testdata_bundle_valid-v0.3.intoto.sigstore"
HELLO = "sha256:2892146b063a94cb4a4318c0e98d38af12dcf2b1e29237486b58463b59607bbd"
CONTAINER = WORKFLOWS + "builder_container-based_slsa3.yml"
CONTAINER_FILE = FIX / (
    "cli_slsa-verifier_testdata_gha_container-based_v1.7.0_gha_container-based-binary-linux-amd64"
    + "-v14.2.intoto.sigstore"
)
EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SOURCE = "github.com/slsa-framework/example-package"

needs_fixtures = pytest.mark.skipif(not FIX.is_dir(), reason=f"provenance fixtures not found at {FIX}")


def test_builder_id_forms() -> None:
    main = f"{GEN}@refs/heads/main"
    assert builder_trusted(main, [GEN]) and builder_trusted(main, [f"{GEN}@"]) and builder_trusted(main, [main])
    assert not builder_trusted(main, [f"{GEN}@refs/tags/v2.1.0"])
    tagged = f"{CONTAINER}@refs/tags/v1.7.0"
    assert builder_trusted(tagged, [f"{CONTAINER}@v1.7.0"]) and builder_trusted(tagged, [tagged])
    assert not builder_trusted(tagged, [f"{CONTAINER}@v1.6.0"])
    # names are compared whole: no prefix, no suffix, no case folding, no second '@'
    for evil in (f"{GEN}.evil@refs/heads/main", f"{GEN[:-4]}@refs/heads/main", f"{GEN.upper()}@refs/heads/main"):
        assert not builder_trusted(evil, [GEN]), evil
    assert not builder_trusted(f"{GEN}@refs/heads/main@x", [GEN])
    assert not builder_trusted(main, [f"{GEN}@a@b"]) and BuilderId.parse("") is None
    # a builder without a ref is matched by a bare id only
    assert builder_trusted("https://ci.example/builder", ["https://ci.example/builder"])
    assert not builder_trusted("https://ci.example/builder", ["https://ci.example/builder@v1"])


def test_signer_named_by_a_workflow_builder_id() -> None:
    def san(value: str) -> CertificateClaims:
        return CertificateClaims(san=value, issuer=GITHUB_ACTIONS_ISSUER)

    bare = BuilderId.parse(GEN)
    assert bare is not None and (signer := bare.signer()) is not None
    assert not signer.mismatches(san(f"{GEN}@refs/heads/main"))
    assert signer.mismatches(san(f"{GEN}.evil@refs/heads/main")) and signer.mismatches(san(GEN))
    assert signer.mismatches(CertificateClaims(san=f"{GEN}@refs/heads/main", issuer="https://evil.example"))
    pinned = BuilderId.parse(f"{CONTAINER}@v1.7.0")
    assert pinned is not None and (signer := pinned.signer()) is not None
    assert not signer.mismatches(san(f"{CONTAINER}@refs/tags/v1.7.0"))
    assert signer.mismatches(san(f"{CONTAINER}@refs/tags/v1.7.01"))
    for other in ("https://github.com/actions/runner/github-hosted", "https://ci.example/builder@v1"):
        parsed = BuilderId.parse(other)
        assert parsed is not None and parsed.signer() is None


def _gen(*extra: str) -> object:
    return invoke("verify-provenance", HELLO, "--attestation", GEN_FILE, "--offline", *extra)


@needs_fixtures
def test_bare_builder_id_trusts_any_ref_and_names_the_signer() -> None:
    ok = _gen("--builder-id", GEN, "--source-uri", SOURCE)
    assert ok.code == 0, ok.output
    assert _gen("--builder-id", f"{GEN}@refs/heads/main", "--source-uri", SOURCE).code == 0
    # slsa-verifier spells the source without a scheme; git+https:// and https:// are the same repository
    assert _gen("--builder-id", GEN, "--source-uri", f"git+https://{SOURCE}").code == 0
    assert _gen("--builder-id", GEN, "--source-uri", f"https://{SOURCE}").code == 0


@needs_fixtures
def test_pinned_builder_id_refuses_another_ref() -> None:
    other = _gen("--builder-id", f"{GEN}@refs/tags/v2.1.0", "--source-uri", SOURCE)
    assert other.code == 1 and "PG-PRV-005" in other.output  # the signer it names did not sign
    # with the signer given, the builder check itself refuses the other ref
    signer = ["--identity", f"{GEN}@refs/heads/main"]
    pinned = _gen(*signer, "--builder-id", f"{GEN}@refs/tags/v2.1.0", "--source-uri", SOURCE)
    assert pinned.code == 1 and "PG-PRV-002" in pinned.output
    assert _gen(*signer, "--builder-id", GEN, "--source-uri", SOURCE).code == 0


@needs_fixtures
def test_a_lookalike_builder_is_not_trusted() -> None:
    for evil in (GEN[:-4], GEN + ".evil", GEN.replace("slsa-framework", "slsa-framew0rk")):
        outcome = _gen("--builder-id", evil, "--source-uri", SOURCE)
        assert outcome.code == 1 and "PG-PRV-005" in outcome.output, evil
        signed = _gen("--identity", f"{GEN}@refs/heads/main", "--builder-id", evil, "--source-uri", SOURCE)
        assert signed.code == 1 and "PG-PRV-002" in signed.output, evil


@needs_fixtures
def test_signer_from_builder_needs_the_source_and_a_workflow() -> None:
    no_source = _gen("--builder-id", GEN)
    assert no_source.code == 2 and "--source-uri" in no_source.output
    runner = _gen("--builder-id", "https://github.com/actions/runner/github-hosted", "--source-uri", SOURCE)
    assert runner.code == 2 and "does not name its signer" in runner.output
    assert _gen("--builder-id", GEN, "--source-uri", "github.com/acme/exporter").code == 1


@needs_fixtures
def test_tag_builder_with_short_version() -> None:
    base = ["verify-provenance", EMPTY, "--attestation", CONTAINER_FILE, "--offline", "--source-uri", SOURCE]
    assert invoke(*base, "--builder-id", f"{CONTAINER}@v1.7.0").code == 0
    assert invoke(*base, "--builder-id", CONTAINER).code == 0
    assert invoke(*base, "--builder-id", f"{CONTAINER}@v1.6.0").code == 1


@needs_fixtures
def test_gate_step_takes_the_signer_from_a_trusted_builder() -> None:
    """The gate: no provenance.signers, the signature's signers are someone else's; the builder signs."""
    other = TrustedSigner(name="author", keyless=KeylessIdentity(issuer=GITHUB_ACTIONS_ISSUER, identity="x"))
    signature = model.SignaturePolicy(trusted_signers=(other,), offline=True)
    pinned = model.ProvenancePolicy(required=True, trusted_builders=(GEN,), source_repositories=(SOURCE,))
    result = verify_bundle_provenance(None, HELLO, pinned, attestation=GEN_FILE, signature_section=signature)
    assert result.verified and not result.findings, result.findings
    # without the source pinned, a builder names no signer: the signature's signers alone are tried
    loose = model.ProvenancePolicy(required=True, trusted_builders=(GEN,))
    result = verify_bundle_provenance(None, HELLO, loose, attestation=GEN_FILE, signature_section=signature)
    assert [f.rule_id for f in result.findings] == ["PG-PRV-005"]


def test_malformed_builder_ids_are_bad_input(tmp_path: Path) -> None:
    from plugingate.errors import InputError
    from plugingate.policy import parse_policy

    outcome = _gen("--identity", f"{GEN}@refs/heads/main", "--builder-id", f"{GEN}@a@b", "--source-uri", SOURCE)
    assert outcome.code == 2 and "is not a builder id" in outcome.output
    head = b"apiVersion: plugingate.dev/v1\nkind: GatePolicy\nmetadata: {name: p}\n"
    with pytest.raises(InputError, match="not a builder id") as caught:
        parse_policy(
            head + b"spec:\n  provenance:\n    trustedBuilders: ['x@y@z']\n", source="p.yaml", base_dir=tmp_path
        )
    assert caught.value.line == 6
