"""``plugingate verify-signature ARTIFACT``: verify a signature alone (Sigstore bundle or raw cosign)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from plugingate.cli.options import OutputFormat, format_option, option, policy_option, verbosity_options

_GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command(name="verify-signature")
@click.argument("artifact")
@option("--bundle", "bundle", type=_FILE, help="A Sigstore bundle (keyless, or managed key with --key).")
@option("--signature", "signature", type=_FILE, help="A base64 signature as 'cosign sign-blob --key' writes it.")
@option("--key", "keys", type=_FILE, multiple=True, help="Trusted public key (PEM); repeatable.")
@option("--identity", "identity", help="Keyless: the exact certificate identity (SAN).")
@option("--identity-regex", "identity_regex", help="Keyless: a regex the whole identity must match.")
@option(
    "--identity-regex-search",
    "identity_regex_search",
    is_flag=True,
    help="Keyless: --identity-regex may match a part of the identity (cosign's --certificate-identity-regexp).",
)
@option("--issuer", "issuer", default=_GITHUB_ISSUER, show_default=True, help="Keyless: the OIDC issuer.")
@option("--source-repository", "source_repository", help="Keyless: the certificate's source repository.")
@option("--workflow-ref", "workflow_ref", help="Keyless: the certificate's ref (refs/heads/main, refs/tags/v1).")
@option("--trigger", "trigger", help="Keyless: the workflow trigger (push, release, ...).")
@option("--runner-environment", "runner_environment", help="Keyless: github-hosted or self-hosted.")
@option("--trusted-root", "trusted_root", type=click.Path(path_type=Path), help="A Sigstore trusted_root.json.")
@option("--offline", "offline", is_flag=True, help="Use the embedded trusted root; no network.")
@option("--staging", "staging", is_flag=True, help="Trust Sigstore's staging instance instead of production.")
@option("--require-tlog", "require_tlog", is_flag=True, help="Key bundles: require a transparency log entry.")
@policy_option()
@format_option()
@verbosity_options
def command(
    artifact: str,
    bundle: Path | None,
    signature: Path | None,
    keys: tuple[Path, ...],
    identity: str | None,
    identity_regex: str | None,
    identity_regex_search: bool,
    issuer: str,
    source_repository: str | None,
    workflow_ref: str | None,
    trigger: str | None,
    runner_environment: str | None,
    trusted_root: Path | None,
    offline: bool,
    staging: bool,
    require_tlog: bool,
    policy_path: Path | None,
    output_format: OutputFormat,
    verbose: bool,
    quiet: bool,
) -> None:
    """Verify ARTIFACT's signature (ARTIFACT: a file, or sha256:<hex>).

    Trusted signers come from --key / --identity (--identity-regex) and --issuer, or else from the
    policy's signature.trustedSigners (--policy). Exit 0 verified, 1 denied (with the rule id and who
    signed), 2 bad input, 3 could not decide (trusted root unreadable, no network for online mode).
    """
    from plugingate.errors import InputError, VerificationError
    from plugingate.signature.artifact import Artifact
    from plugingate.signature.cli_support import signers_from_options
    from plugingate.signature.trust import Instance, TrustSettings
    from plugingate.signature.verifiers import FoundSignature, SignatureFileKind, VerificationRequest

    if (bundle is None) == (signature is None):
        raise InputError("give exactly one of --bundle and --signature", field="--bundle")
    signers = signers_from_options(
        keys=keys,
        identity=identity,
        identity_regex=identity_regex,
        identity_regex_search=identity_regex_search,
        issuer=issuer,
        source_repository=source_repository,
        workflow_ref=workflow_ref,
        trigger=trigger,
        runner_environment=runner_environment,
    )
    if not signers:
        if policy_path is None:
            raise InputError(
                "no trusted signer: give --key, --identity/--identity-regex, or --policy", field="--identity"
            )
        from plugingate.policy.loader import load_policy

        policy = load_policy(policy_path)
        signers = list(policy.signature.trusted_signers)
        trusted_root = trusted_root or policy.signature.trusted_root
        offline = offline or policy.signature.offline
    trust = TrustSettings(
        trusted_root=trusted_root, offline=offline, instance=Instance.STAGING if staging else Instance.PRODUCTION
    )
    target = Artifact.from_argument(artifact)
    # NOTE: the option names the kind; the registered verifier of that kind does the rest.
    given = {SignatureFileKind.SIGSTORE_BUNDLE: bundle, SignatureFileKind.COSIGN_SIGNATURE: signature}
    found = next(FoundSignature(path, kind) for kind, path in given.items() if path is not None)
    request = VerificationRequest(target, signers, trust, source=str(found.path), require_tlog=require_tlog)
    try:
        result = found.verify(request)
    except VerificationError as exc:
        if output_format is OutputFormat.JSON:
            click.echo(json.dumps({"verified": False, "ruleId": exc.rule_id, "message": exc.message}, indent=2))
        else:
            click.echo(f"denied: {exc.rule_id}: {exc.message}")
        raise
    if output_format is OutputFormat.JSON:
        out = {
            "verified": True,
            "artifact": target.name,
            "digest": target.display_digest(),
            "signer": result.signer.to_dict(),
            "trustedSigner": result.trusted_signer.name,
        }
        click.echo(json.dumps(out, indent=2))
    elif not quiet:
        click.echo(f"verified: {target.name} ({target.display_digest()}) {result.describe()}")
