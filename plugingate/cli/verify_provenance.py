"""``plugingate verify-provenance ARTIFACT``: SLSA provenance, or an in-toto layout with its links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from plugingate.cli.options import OutputFormat, format_option, option, verbosity_options

if TYPE_CHECKING:
    from plugingate.signature.identity import TrustedSigner

_GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command(name="verify-provenance")
@click.argument("artifact")
@option("--attestation", "attestation", type=_FILE, help="SLSA provenance: a Sigstore bundle, DSSE envelope or JSONL.")
@option(
    "--source-uri",
    "source_uri",
    multiple=True,
    help="Expected source, as slsa-verifier spells it: github.com/ORG/REPO (also git+https://…; repeatable).",
)
@option("--source-ref", "source_ref", multiple=True, help="Expected ref: refs/heads/main, refs/tags/v1 (repeatable).")
@option(
    "--builder-id",
    "builder_id",
    multiple=True,
    help="Trusted builder id (repeatable): NAME trusts any ref of that builder, NAME@REF one ref. Without "
    "--identity/--key, a GitHub workflow builder id also names the signer.",
)
@option("--key", "keys", type=_FILE, multiple=True, help="Trusted public key of the provenance signer.")
@option("--identity", "identity", help="Keyless: the exact identity of the provenance signer.")
@option("--identity-regex", "identity_regex", help="Keyless: a regex the whole identity must match.")
@option(
    "--identity-regex-search",
    "identity_regex_search",
    is_flag=True,
    help="Keyless: --identity-regex may match a part of the identity (cosign's --certificate-identity-regexp).",
)
@option("--issuer", "issuer", default=_GITHUB_ISSUER, show_default=True, help="Keyless: the OIDC issuer.")
@option("--trusted-root", "trusted_root", type=click.Path(path_type=Path), help="A Sigstore trusted_root.json.")
@option("--offline", "offline", is_flag=True, help="Use the embedded trusted root; no network.")
@option("--staging", "staging", is_flag=True, help="Trust Sigstore's staging instance instead of production.")
@option("--layout", "layout", type=_FILE, help="An in-toto layout (instead of --attestation).")
@option("--layout-key", "layout_keys", type=_FILE, multiple=True, help="Public key of the layout owner.")
@option("--links", "links", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Link metadata folder.")
@option("--enable-inspections", "enable_inspections", is_flag=True, help="Run the layout's inspections (commands!).")
@format_option()
@verbosity_options
def command(
    artifact: str,
    attestation: Path | None,
    source_uri: tuple[str, ...],
    source_ref: tuple[str, ...],
    builder_id: tuple[str, ...],
    keys: tuple[Path, ...],
    identity: str | None,
    identity_regex: str | None,
    identity_regex_search: bool,
    issuer: str,
    trusted_root: Path | None,
    offline: bool,
    staging: bool,
    layout: Path | None,
    layout_keys: tuple[Path, ...],
    links: Path | None,
    enable_inspections: bool,
    output_format: OutputFormat,
    verbose: bool,
    quiet: bool,
) -> None:
    """Verify ARTIFACT's provenance (ARTIFACT: a file, or sha256:<hex> / sha512:<hex>).

    SLSA (--attestation): the signature by a trusted signer (--key, or --identity/--identity-regex
    and --issuer; without them, the signer a GitHub workflow --builder-id names, as slsa-verifier
    does), a subject with ARTIFACT's digest, the builder (--builder-id: NAME for any ref, NAME@REF for
    one), the source repository (--source-uri) and ref (--source-ref). in-toto (--layout, --layout-key, --links): the
    layout's signature and expiry, every step's links and thresholds, the artifact rules, and that
    ARTIFACT is a product of the chain. Exit 0 verified, 1 denied, 2 bad input, 3 undecided.
    """
    from plugingate.errors import InputError, VerificationError
    from plugingate.provenance.result import ProvenanceResult
    from plugingate.provenance.slsa import ProvenanceRequirements
    from plugingate.provenance.verify import verify_slsa_provenance
    from plugingate.signature.artifact import Artifact
    from plugingate.signature.cli_support import signers_from_options
    from plugingate.signature.trust import Instance, TrustSettings

    if (attestation is None) == (layout is None):
        raise InputError("give exactly one of --attestation and --layout", field="--attestation")
    target = Artifact.from_argument(artifact)
    result: ProvenanceResult
    if layout is not None:
        from plugingate.provenance.intoto import verify_layout

        if not layout_keys:
            raise InputError("--layout needs at least one --layout-key", field="--layout-key")
        if links is None:
            raise InputError("--layout needs --links DIR", field="--links")
        result = verify_layout(target, layout, layout_keys, links, enable_inspections=enable_inspections)
    else:
        assert attestation is not None
        signers = signers_from_options(
            keys=keys,
            identity=identity,
            identity_regex=identity_regex,
            identity_regex_search=identity_regex_search,
            issuer=issuer,
        )
        from plugingate.provenance.slsa import BuilderId

        for text in builder_id:
            if BuilderId.parse(text) is None:
                raise InputError(
                    f"{text!r} is not a builder id; expected NAME (any ref) or NAME@REF (one ref)", field="--builder-id"
                )
        if not signers and builder_id:
            signers = _builder_signers(builder_id, source_uri)
        if not signers:
            raise InputError(
                "no trusted signer: give --key or --identity/--identity-regex (or a GitHub workflow --builder-id)",
                field="--identity",
            )
        trust = TrustSettings(
            trusted_root=trusted_root, offline=offline, instance=Instance.STAGING if staging else Instance.PRODUCTION
        )
        requirements = ProvenanceRequirements(
            trusted_builders=builder_id, source_repositories=source_uri, source_refs=source_ref
        )
        result = verify_slsa_provenance(target, attestation, requirements, signers, trust)
    if output_format is OutputFormat.JSON:
        out = {**result.to_dict(), "artifact": target.name, "findings": [f.to_dict() for f in result.findings]}
        click.echo(json.dumps(out, indent=2))
    else:
        for finding in result.findings:
            click.echo(f"denied: {finding.rule_id}: {finding.message}")
        if result.verified and not quiet:
            click.echo(f"verified: {target.name} {result.describe()}")
    if result.findings:
        first = result.findings[0]
        raise VerificationError(
            f"provenance denied ({len(result.findings)} finding(s)): {first.rule_id}: {first.message}",
            rule_id=first.rule_id,
        )
    if not result.verified:
        raise VerificationError("no provenance verified", rule_id="PG-PRV-008")


def _builder_signers(builder_ids: tuple[str, ...], source_uri: tuple[str, ...]) -> list[TrustedSigner]:
    """The signers the builder ids name, as slsa-verifier takes them when no identity is given.

    Anyone can call a reusable workflow, so a signer taken from the builder id is only safe with the source
    pinned: like slsa-verifier, this needs ``--source-uri``.
    """
    from plugingate.errors import InputError
    from plugingate.provenance.slsa import BuilderId, builder_signers

    unnamed = [b for b in builder_ids if (p := BuilderId.parse(b)) is None or p.signer() is None]
    if unnamed:
        raise InputError(
            f"the builder id {unnamed[0]!r} does not name its signer (only a GitHub workflow, "
            "https://github.com/ORG/REPO/.github/workflows/X.yml[@REF], does); give --identity/--identity-regex "
            "or --key",
            field="--builder-id",
        )
    if not source_uri:
        raise InputError(
            "a signer taken from --builder-id trusts whoever calls that workflow; give --source-uri "
            "github.com/ORG/REPO (as slsa-verifier requires) or --identity",
            field="--source-uri",
        )
    return builder_signers(builder_ids)
