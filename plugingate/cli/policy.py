"""``plugingate policy lint FILE``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from plugingate.cli.options import OutputFormat, format_option


@click.group("policy")
def command() -> None:
    """Work with gate policies."""


@command.command("lint")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option()
def lint(file: Path, output_format: OutputFormat) -> None:
    """Check a policy's schema and sanity. Exit 0 clean or warnings only, 1 errors, 2 invalid file."""
    from plugingate.findings import Severity
    from plugingate.policy import load_policy
    from plugingate.policy.lint import lint_policy

    policy = load_policy(file)
    issues = lint_policy(policy)
    errors = sum(i.severity is Severity.ERROR for i in issues)
    if output_format is OutputFormat.JSON:
        payload = {
            "policy": {"name": policy.name, "sha256": policy.sha256, "source": policy.source},
            "issues": [
                {"code": i.code, "severity": str(i.severity), "message": i.message, "location": str(i.location)}
                for i in issues
            ],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        for issue in issues:
            click.echo(f"{issue.location}: {issue.severity}: {issue.code} {issue.message}")
        verdict = "invalid" if errors else "ok"
        click.echo(f"{file}: {verdict}: policy {policy.name!r} sha256:{policy.sha256[:12]}, {len(issues)} issue(s)")
    if errors:
        raise click.exceptions.Exit(1)
