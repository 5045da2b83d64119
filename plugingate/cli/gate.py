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
@option("--attest-dry-run", is_flag=True, help="Sign attestations in dry-run mode too.")
@option(
    "--mode",
    type=click.Choice(["enforce", "warn", "dry-run"]),
    help="Override the policy's mode (recorded in the report and the attestation).",
)
@option("--no-cache", is_flag=True, help="Run syft and grype even when a cached result exists.")
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
    attest_dry_run: bool,
    mode: str | None,
    no_cache: bool,
    output_format: OutputFormat,
    verbose: bool,
    quiet: bool,
) -> None:
    """Decide whether BUNDLE (a folder, .tar or .tgz with plugin.yaml at its root) may enter the platform.

    Exit 0 passed, 1 denied, 2 bad input, 3 could not decide.
    """
    from plugingate.gate import GateRequest, run_gate
    from plugingate.policy import load_policy

    policy = load_policy(policy_path)
    if mode is not None:
        from dataclasses import replace

        from plugingate.policy import Mode

        policy = replace(policy, mode=Mode(mode))
    if attest_key and attest_keyless:
        raise click.UsageError("--attest-key and --attest-keyless are exclusive")
    private_key = None
    if attest_key is not None:
        from plugingate.keys import load_private_key

        # NOTE: a wrong passphrase or a broken key must fail before minutes of scanning, not after.
        private_key = load_private_key(attest_key)
    request = GateRequest(
        bundle=bundle,
        policy=policy,
        out_dir=out_dir,
        signature=signature,
        provenance=provenance,
        attest_key=attest_key,
        attest_private_key=private_key,
        attest_keyless=attest_keyless,
        attest_in_dry_run=attest_dry_run,
        use_cache=not no_cache,
    )
    result = run_gate(request)
    from plugingate.report.formats import report_format

    report_format(output_format).show(result, sys.stdout, quiet=quiet)
    if output_format is OutputFormat.TEXT and not quiet:
        click.echo(f"outputs: {out_dir}/", err=True)
    if result.exit_code:
        raise click.exceptions.Exit(int(result.exit_code))
