"""``plugingate policy lint FILE``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from plugingate.cli.options import OutputFormat, format_option, option


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


@command.command("admission")
@click.argument("template", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("--identity", "identity", help="The CI identity (certificate SAN) that signs the gate's attestations.")
@option("--identity-regex", "identity_regex", help="A regular expression the SAN must match instead.")
@option(
    "--issuer",
    "issuer",
    default="https://token.actions.githubusercontent.com",
    show_default=True,
    help="The OIDC issuer of the signing identity.",
)
@option(
    "--trusted-root",
    "trusted_root",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="trusted_root.json of a private Sigstore instance (default: the public one the template names).",
)
@option("--tuf-mirror", "tuf_mirror", help="The instance's TUF repository (ImageValidatingPolicy only).")
@option(
    "--tuf-root",
    "tuf_root",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The initial root.json of that TUF repository.",
)
@option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (else stdout).")
def admission(
    template: Path,
    identity: str | None,
    identity_regex: str | None,
    issuer: str,
    trusted_root: Path | None,
    tuf_mirror: str | None,
    tuf_root: Path | None,
    output: Path | None,
) -> None:
    """Render a shipped keyless admission policy (TEMPLATE) for a CI identity and a Sigstore instance.

    TEMPLATE is policies/kyverno/clusterpolicy-keyless.yaml, imagevalidatingpolicy-keyless.yaml or
    policies/policy-controller/clusterimagepolicy-keyless.yaml. With --trusted-root the policy trusts
    that private instance (a ClusterImagePolicy comes with its TrustRoot); see docs/attestation.md.
    """
    from plugingate.attestation.admission import SigstoreInstance, TufRepository, render_keyless
    from plugingate.errors import InputError
    from plugingate.signature.identity import KeylessIdentity

    if (identity is None) == (identity_regex is None):
        raise InputError("give exactly one of --identity and --identity-regex", field="--identity")
    try:
        signer = KeylessIdentity(issuer=issuer, identity=identity, identity_regex=identity_regex)
    except (ValueError, re.error) as exc:
        raise InputError(str(exc), field="--identity-regex") from exc
    if (tuf_mirror is None) != (tuf_root is None):
        raise InputError("--tuf-mirror and --tuf-root go together", field="--tuf-mirror")
    instance = SigstoreInstance.from_trusted_root(trusted_root) if trusted_root is not None else None
    tuf = TufRepository(tuf_mirror, tuf_root.read_bytes()) if tuf_mirror and tuf_root else None
    rendered = render_keyless(
        template.read_text(encoding="utf-8"),
        signer,
        source=str(template),
        instance=instance,
        tuf=tuf,
    )
    if output is None:
        click.echo(rendered, nl=False)
    else:
        from plugingate.files import write_atomic

        write_atomic(output, rendered)
