"""``plugingate verify-attestation SUBJECT --attestation A``: the check admission control makes."""

from __future__ import annotations

import json
from pathlib import Path

import click

from plugingate.cli.options import OutputFormat, format_option, option, verbosity_options

_GATE_TYPE = "https://plugingate.dev/attestation/gate/v2"
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


@click.command(name="verify-attestation")
@click.argument("subject", metavar="SUBJECT")
@option(
    "--attestation",
    "attestation",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="attestations.intoto.jsonl, a DSSE envelope, or a keyless *.sigstore.json bundle.",
)
@option(
    "--key",
    "key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="Trusted public key (PEM); repeatable, any one is enough.",
)
@option("--identity", "identity", help="Keyless: the exact certificate identity (SAN).")
@option("--identity-regex", "identity_regex", help="Keyless: a regular expression the identity must match in full.")
@option(
    "--identity-regex-search",
    "identity_regex_search",
    is_flag=True,
    help="Keyless: --identity-regex may match a part of the identity (cosign's --certificate-identity-regexp).",
)
@option("--issuer", "issuer", default=_GITHUB_ISSUER, show_default=True, help="Keyless: the OIDC issuer.")
@option(
    "--trusted-root",
    "trusted_root",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Keyless: a Sigstore trusted_root.json (private or offline instance).",
)
@option("--staging", "staging", is_flag=True, help="Keyless: trust Sigstore's staging instance.")
@option(
    "--type",
    "predicate_type",
    default=_GATE_TYPE,
    show_default=True,
    help="The predicate type required (the gate's, or the SBOM's / vulnerability scan's).",
)
@option("--policy-digest", "policy_digest", help="Require the gate policy's sha256 (sha256:<hex>).")
@option("--revoked", "revoked", type=_FILE, help="A signed revocation list (plugingate revoke): refuse listed digests.")
@option(
    "--revocation-key",
    "revocation_key",
    type=_FILE,
    multiple=True,
    help="The public key the revocation list must be signed with (required with --revoked).",
)
@option(
    "--max-age",
    "max_age",
    default="720h",
    show_default=True,
    help="A SLSA verification summary (--type https://slsa.dev/verification_summary/v1) older than this is refused.",
)
@format_option()
@verbosity_options
def command(
    subject: str,
    attestation: Path,
    key: tuple[Path, ...],
    identity: str | None,
    identity_regex: str | None,
    identity_regex_search: bool,
    issuer: str,
    trusted_root: Path | None,
    staging: bool,
    predicate_type: str,
    policy_digest: str | None,
    revoked: Path | None,
    revocation_key: tuple[Path, ...],
    max_age: str,
    output_format: OutputFormat,
    verbose: bool,
    quiet: bool,
) -> None:
    """Verify a signed gate attestation about SUBJECT: a bundle file, sha256:<hex>, or IMAGE@sha256:<hex>.

    Checks the signature (--key, or --identity/--identity-regex and --issuer for keyless bundles),
    that a subject has SUBJECT's digest, the predicate type, passed: true in enforce mode with no
    violations, validUntil in the future, --policy-digest when given, and that neither SUBJECT nor
    anything the attestation is about is on the --revoked list. Exit 0 when verified, 1 with the
    reason when not, 3 when the revocation list does not verify.
    """
    from plugingate.attestation.verify import KeylessTrust, KeyTrust, Trust, subject_digest, verify_attestation
    from plugingate.errors import InputError

    trust: Trust
    if identity_regex_search and not identity_regex:
        raise InputError("--identity-regex-search needs --identity-regex", field="--identity-regex-search")
    if key:
        if identity or identity_regex:
            raise InputError("give either --key or --identity/--identity-regex, not both", field="--key")
        from plugingate.keys import load_public_key

        trust = KeyTrust(keys=[load_public_key(p) for p in key])
    elif identity or identity_regex:
        if identity and identity_regex:
            raise InputError("give --identity or --identity-regex, not both", field="--identity")
        trust = KeylessTrust(
            issuer=issuer,
            identity=identity,
            identity_regex=identity_regex,
            identity_regex_search=identity_regex_search,
            trusted_root=trusted_root,
            staging=staging,
        )
    else:
        raise InputError(
            "no trusted signer: give --key PUB, or --identity (or --identity-regex) with --issuer",
            field="--key",
        )
    revocations = None
    if revoked is not None:
        if not revocation_key:
            raise InputError("--revoked needs --revocation-key PUB to check the list's signature", field="--revoked")
        from plugingate.attestation.revocation import load_list
        from plugingate.keys import load_public_key as load_pub

        revocations = load_list(revoked, [load_pub(p) for p in revocation_key])
    elif revocation_key:
        raise InputError("--revocation-key without --revoked", field="--revocation-key")
    from plugingate.units import parse_duration

    try:
        age = parse_duration(max_age)
    except ValueError as exc:
        raise InputError(str(exc), field="--max-age") from exc
    digest = subject_digest(subject)
    result = verify_attestation(
        subject=digest,
        attestation=attestation,
        trust=trust,
        predicate_type=predicate_type,
        policy_digest=policy_digest,
        revocations=revocations,
        max_age=age,
    )
    if quiet:
        click.echo("verified")
    elif output_format is OutputFormat.JSON:
        click.echo(
            json.dumps(
                {
                    "verified": True,
                    "subject": f"{digest[0]}:{digest[1]}",
                    "source": result.source,
                    "signer": result.signer,
                    "predicateType": result.predicate_type,
                    "policy": {"name": result.policy_name, "sha256": result.policy_sha256},
                    "validUntil": result.valid_until.strftime("%Y-%m-%dT%H:%M:%SZ") if result.valid_until else None,
                },
                indent=2,
            )
        )
    else:
        click.echo(f"verified: {result.summary()}")
