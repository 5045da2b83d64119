"""``plugingate gate BUNDLE``: the whole pipeline."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from plugingate.cli.options import OutputFormat, format_option, option, out_option, policy_option, verbosity_options


@click.command("gate")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@policy_option()
@out_option("every output (report.json, summary.md, SBOMs, SARIF, …)")
@option(
    "--signature",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Signature: a Sigstore bundle or a cosign base64 signature (default: BUNDLE.sigstore.json or BUNDLE.sig).",
)
@option(
    "--provenance",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Provenance attestation (default: BUNDLE.intoto.jsonl).",
)
@option(
    "--attest-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sign the attestations with this cosign-compatible private key.",
)
@option("--attest-keyless", is_flag=True, help="Sign the attestations keyless (Sigstore, ambient CI identity).")
@option(
    "--trust-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="--attest-keyless: a private Sigstore instance (ClientTrustConfig JSON); default: the public-good one.",
)
@option(
    "--identity-token",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="--attest-keyless: a file holding the OIDC token (default: $SIGSTORE_ID_TOKEN, else the CI's own).",
)
@option("--attest-dry-run", is_flag=True, help="Sign attestations in dry-run mode too (saying passed: false).")
@option(
    "--mode",
    type=click.Choice(["enforce", "warn", "dry-run"]),
    help="Override the policy's mode (recorded in the report and the attestation).",
)
@option("--no-cache", is_flag=True, help="Run syft and grype even when a cached result exists.")
@option(
    "--probe",
    is_flag=True,
    help="Also run the images in the gVisor shadow run (plugingate probe) and gate on what they do; writes probe.json.",
)
@option(
    "--probe-duration", type=float, help="Seconds each image runs in the probe (default: the policy's probe.duration)."
)
@option(
    "--policy-digest",
    help="The sha256:<hex> of the policy the platform approved; attestations are signed only under a pinned "
    "or signed policy, and a policy with another digest is denied (PG-POL-001).",
)
@option(
    "--policy-file-digest",
    "policy_file_digests",
    multiple=True,
    help="sha256:<hex> of a file the policy names (key, trusted root, layout, VEX) that the platform approved; "
    "repeatable.",
)
@option(
    "--policy-signature",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The policy's signature (Sigstore bundle or .sig; default: POLICY.sigstore.json or POLICY.sig beside it).",
)
@option(
    "--policy-key",
    "policy_keys",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="A trusted policy signer's public key (PEM); repeatable.",
)
@option("--policy-identity", help="A trusted keyless policy signer: the exact certificate identity.")
@option("--policy-identity-regex", help="A trusted keyless policy signer: a regex the whole identity must match.")
@option("--policy-issuer", help="The keyless policy signer's OIDC issuer (default: GitHub Actions').")
@option(
    "--policy-trusted-root",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A Sigstore trusted_root.json for keyless policy signatures (default: Sigstore's, online).",
)
@option(
    "--previous",
    type=click.Path(exists=True, path_type=Path),
    help="The previous approved version (its bundle, or its gate attestation with --previous-key): growth beyond "
    "it of a kind the policy's approvals.requireFor lists is denied (PG-GRW-001) unless an --approval names it.",
)
@option(
    "--approval",
    "approvals",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="A signed approval of growth over --previous (plugingate approve -o FILE); repeatable.",
)
@option(
    "--previous-key",
    "previous_keys",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="--previous is a gate attestation: the public key it must be signed with (PEM); repeatable.",
)
@format_option()
@verbosity_options
def command(
    bundle: Path,
    policy_path: Path | None,
    out_dir: Path,
    signature: Path | None,
    provenance: Path | None,
    attest_key: Path | None,
    attest_keyless: bool,
    trust_config: Path | None,
    identity_token: Path | None,
    attest_dry_run: bool,
    mode: str | None,
    no_cache: bool,
    probe: bool,
    probe_duration: float | None,
    policy_digest: str | None,
    policy_file_digests: tuple[str, ...],
    policy_signature: Path | None,
    policy_keys: tuple[Path, ...],
    policy_identity: str | None,
    policy_identity_regex: str | None,
    policy_issuer: str | None,
    policy_trusted_root: Path | None,
    previous: Path | None,
    approvals: tuple[Path, ...],
    previous_keys: tuple[Path, ...],
    output_format: OutputFormat,
    verbose: bool,
    quiet: bool,
) -> None:
    """Decide whether BUNDLE (a folder, .tar or .tgz with plugin.yaml at its root) may enter the platform.

    Exit 0 passed, 1 denied, 2 bad input, 3 could not decide.
    """
    from plugingate.gate import GateRequest, run_gate
    from plugingate.policy import default_policy_path, load_policy
    from plugingate.policy.trust import PolicyTrustOptions, establish_trust

    policy = load_policy(policy_path)
    # NOTE: before any scanning: a policy that is not the approved one is denied at once (exit 1).
    policy_trust = establish_trust(
        policy,
        policy_path or default_policy_path(),
        PolicyTrustOptions(
            digest=policy_digest or None,
            signature=policy_signature,
            keys=policy_keys,
            identity=policy_identity or None,
            identity_regex=policy_identity_regex or None,
            issuer=policy_issuer or None,
            trusted_root=policy_trusted_root,
            file_digests=policy_file_digests,
        ),
    )
    if mode is not None:
        from dataclasses import replace

        from plugingate.policy import Mode

        policy = replace(policy, mode=Mode(mode))
    if (approvals or previous_keys) and previous is None:
        raise click.UsageError("--approval and --previous-key go with --previous OLD")
    if attest_key and attest_keyless:
        raise click.UsageError("--attest-key and --attest-keyless are exclusive")
    private_key = None
    if attest_key is not None:
        from plugingate.keys import load_private_key

        # NOTE: a wrong passphrase or a broken key must fail before minutes of scanning, not after.
        private_key = load_private_key(attest_key)
    if (trust_config or identity_token) and not attest_keyless:
        raise click.UsageError("--trust-config and --identity-token go with --attest-keyless")
    keyless_settings = None
    if attest_keyless:
        from plugingate.pipeline import KeylessSettings
        from plugingate.signature.keyless import private_trust_config

        keyless_settings = KeylessSettings(trust_config=trust_config, identity_token=identity_token)
        # NOTE: like the key above, a broken trust config fails before minutes of scanning.
        private_trust_config(keyless_settings)
    request = GateRequest(
        bundle=bundle,
        policy=policy,
        out_dir=out_dir,
        signature=signature,
        provenance=provenance,
        attest_key=attest_key,
        attest_private_key=private_key,
        attest_keyless=attest_keyless,
        attest_keyless_settings=keyless_settings,
        attest_in_dry_run=attest_dry_run,
        use_cache=not no_cache,
        policy_trust=policy_trust,
        probe=probe,
        probe_duration=probe_duration,
        previous=previous,
        approvals=approvals,
        previous_keys=previous_keys,
    )
    if probe:
        from plugingate.probe.prober import settings_for

        settings_for(policy, probe_duration)  # NOTE: a bad --probe-duration fails before minutes of scanning
    result = run_gate(request)
    from plugingate.report.formats import report_format

    report_format(output_format).show(result, sys.stdout, quiet=quiet)
    if output_format is OutputFormat.TEXT and not quiet:
        click.echo(f"outputs: {out_dir}/", err=True)
    if not policy_trust.trusted:
        asked = attest_key is not None or attest_keyless
        click.echo(
            "plugingate: policy not pinned: "
            + (
                "attestations were NOT signed (PG-POL-004); pin the policy with --policy-digest sha256:<digest> or "
                "name its trusted signer with --policy-key / --policy-identity"
                if asked
                else "fine for checking locally; a platform's gate pins it (--policy-digest) or verifies its signature"
            ),
            err=True,
        )
    if result.exit_code:
        raise click.exceptions.Exit(int(result.exit_code))
