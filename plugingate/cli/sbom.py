"""``plugingate sbom BUNDLE``: the SBOM step alone (CycloneDX, SPDX and syft JSON of a bundle and its images)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from plugingate.cli.options import OutputFormat, format_option, option, out_option, policy_option, verbosity_options


@click.command("sbom")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@policy_option()
@out_option("sbom.cdx.json, sbom.spdx.json and sbom.syft.json")
@option("--no-cache", is_flag=True, help="Run syft even when a cached SBOM of this bundle exists.")
@option("--no-docker", is_flag=True, help="Do not ask a Docker engine for the images of spec.images.")
@format_option()
@verbosity_options
def command(
    bundle: Path,
    policy_path: Path | None,
    out_dir: Path,
    no_cache: bool,
    no_docker: bool,
    output_format: OutputFormat,
    verbose: bool,
    quiet: bool,
) -> None:
    """Write the SBOM of BUNDLE (a folder, .tar or .tgz with plugin.yaml) with syft.

    Images of spec.images come from image archives in the bundle or, failing that, from a Docker
    engine; an image that cannot be scanned denies (exit 1) unless the policy's onSkippedImage is
    warn. Exit 3 when syft is missing or fails.
    """
    from plugingate.bundle import BundleLimits, open_bundle
    from plugingate.cache import ResultCache
    from plugingate.declaration import load_declaration
    from plugingate.findings import Severity
    from plugingate.policy import load_policy
    from plugingate.policy.model import Mode
    from plugingate.sbom import OnSkippedImage, generate_sbom
    from plugingate.tools import ToolRunner

    policy = load_policy(policy_path)
    limits = BundleLimits.from_policy(policy.bundle)
    with open_bundle(bundle, limits) as opened:
        declaration = load_declaration(opened.root)
        result = generate_sbom(
            opened.root,
            name=declaration.name,
            version=declaration.version,
            out_dir=out_dir,
            images=declaration.images,
            runner=ToolRunner(),
            bundle_digest=opened.sha256,
            cache=ResultCache.default(enabled=not no_cache),
            on_skipped_image=OnSkippedImage(policy.vulnerabilities.on_skipped_image),
            use_docker=not no_docker,
        )
    if output_format is OutputFormat.JSON:
        payload = {**result.to_dict(), "findings": [f.to_dict() for f in result.findings]}
        click.echo(json.dumps(payload, indent=2))
    else:
        if not quiet:
            for finding in result.findings:
                click.echo(f"{finding.severity:7} {finding.rule_id}  {finding.message}")
        cached = " (cached: syft did not run)" if result.cached else ""
        written = ", ".join(str(p) for p in (result.cyclonedx_path, result.spdx_path, result.syft_path))
        click.echo(f"{result.packages} packages -> {written}{cached}")
        if verbose:
            click.echo(f"syft {result.syft_version}, {result.seconds:.2f} s", err=True)
    if any(f.severity is Severity.ERROR for f in result.findings) and policy.mode is Mode.ENFORCE:
        raise click.exceptions.Exit(1)
