"""``plugingate scan SBOM``: the vulnerability step alone (grype, then thresholds, exceptions, VEX)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from plugingate.cli.options import OutputFormat, format_option, option, out_option, policy_option, verbosity_options


def _parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time (2026-01-31T12:00:00Z)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.command("scan")
@click.argument("sbom", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@policy_option()
@out_option("vulns.json")
@option("--no-cache", is_flag=True, help="Run grype even when a cached scan of this SBOM exists.")
@option(
    "--now",
    "now_text",
    help="Evaluate exceptions and the database's age at this time (ISO 8601), instead of now.",
)
@format_option()
@verbosity_options
def command(
    sbom: Path,
    policy_path: Path | None,
    out_dir: Path,
    no_cache: bool,
    now_text: str | None,
    output_format: OutputFormat,
    verbose: bool,
    quiet: bool,
) -> None:
    """Scan SBOM (CycloneDX or SPDX JSON, as syft writes it) with grype and apply the policy.

    Exit 0 passed, 1 denied (a vulnerability at or above failOn that no exception or VEX statement
    removes), 2 bad input (policy, VEX), 3 could not decide (grype missing or failing, the database
    missing, unreadable or older than maxDatabaseAge).
    """
    from plugingate.cache import ResultCache
    from plugingate.policy import load_policy
    from plugingate.policy.model import Mode
    from plugingate.tools import ToolRunner
    from plugingate.vulnerabilities import scan_sbom
    from plugingate.vulnerabilities.scan import check_sbom_file

    policy = load_policy(policy_path)
    check_sbom_file(sbom)
    result = scan_sbom(
        sbom,
        policy.vulnerabilities,
        runner=ToolRunner(),
        now=_parse_now(now_text),
        out_dir=out_dir,
        cache=ResultCache.default(enabled=not no_cache),
        policy_digest=policy.sha256,
        policy_source=policy.source,
    )
    if output_format is OutputFormat.JSON:
        payload = {
            "denied": result.denied,
            **result.details(),
            "findings": [f.to_dict() for f in result.findings],
        }
        click.echo(json.dumps(payload, indent=2, default=str))
    elif output_format is OutputFormat.MARKDOWN:
        click.echo(f"**Vulnerabilities**: {result.summary()}\n")
        click.echo("| rule | severity | finding |\n|---|---|---|")
        for finding in result.findings:
            message = finding.message.replace("|", r"\|")
            click.echo(f"| {finding.rule_id} | {finding.severity} | {message} |")
    else:
        if not quiet:
            for finding in result.findings:
                click.echo(f"{finding.severity:7} {finding.rule_id}  {finding.message}")
        verdict = "denied" if result.denied else "passed"
        click.echo(f"{verdict}: {result.summary()}")
        if verbose:
            click.echo(f"grype {result.tools['grype']}, {result.seconds:.2f} s, -> {result.vulns_path}", err=True)
    if result.denied and policy.mode is Mode.ENFORCE:
        raise click.exceptions.Exit(1)
