"""``plugingate render BUNDLE``: the runtime controls of an approved declaration, as YAML."""

from __future__ import annotations

import json
from pathlib import Path

import click

from plugingate.cli.options import OutputFormat, format_option, option, out_option, policy_option, verbosity_options


@click.command("render")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@policy_option()
@out_option("runtime.yaml and kustomization.yaml (a Kustomize Component)")
@option(
    "--cni",
    type=click.Choice(["plain", "cilium", "anp"]),
    default=None,
    help="How host names are allowed (overrides the policy's runtime.cni): plain NetworkPolicy only, "
    "CiliumNetworkPolicy toFQDNs, or ClusterNetworkPolicy domainNames.",
)
@option("--namespace", default=None, help="The plugin's namespace (default: spec.namespace, else the plugin's name).")
@option(
    "--api-server-cidr",
    "api_server_cidrs",
    multiple=True,
    help="The API server's endpoint address (CIDR), for plugins that declare Kubernetes API rules "
    "(overrides the policy's runtime.apiServerCIDRs; repeat for several).",
)
@format_option()
@verbosity_options
def command(
    bundle: Path,
    policy_path: Path | None,
    out_dir: Path,
    cni: str | None,
    namespace: str | None,
    api_server_cidrs: tuple[str, ...],
    output_format: OutputFormat,
    verbose: bool,
    quiet: bool,
) -> None:
    """Write the objects that confine BUNDLE's plugin at run time, from its declaration and the policy.

    Only an approved declaration is rendered: the declared capabilities are first checked against the
    policy, and any denying finding stops the command (exit 1, whatever the policy's mode: controls
    rendered from a declaration the platform did not accept would grant what it refused). Exit 2 when
    a declared value cannot be rendered safely.
    """
    from plugingate.bundle import BundleLimits, open_bundle
    from plugingate.capabilities import check_capabilities
    from plugingate.declaration import load_declaration
    from plugingate.policy import load_policy
    from plugingate.policy.model import Cni
    from plugingate.runtime import RenderOptions, render_controls, write_controls

    policy = load_policy(policy_path)
    with open_bundle(bundle, BundleLimits.from_policy(policy.bundle)) as opened:
        declaration = load_declaration(opened.root)
    denying = [f for f in check_capabilities(declaration, policy.capabilities) if f.denies]
    if denying:
        if output_format is OutputFormat.JSON:
            click.echo(json.dumps({"rendered": False, "findings": [f.to_dict() for f in denying]}, indent=2))
        else:
            for finding in denying:
                where = f"  ({finding.location})" if finding.location else ""
                click.echo(f"{finding.severity:7} {finding.rule_id}  {finding.message}{where}")
            click.echo(f"not rendered: the policy denies {len(denying)} declared capabilities", err=True)
        raise click.exceptions.Exit(1)
    options = RenderOptions(
        namespace=namespace,
        cni=Cni(cni) if cni else None,
        api_server_cidrs=api_server_cidrs,
    )
    rendered = render_controls(declaration, policy, options)
    written = write_controls(rendered, out_dir)
    if output_format is OutputFormat.JSON:
        payload = {"rendered": True, **rendered.summary(), "files": [str(p) for p in written]}
        click.echo(json.dumps(payload, indent=2))
        return
    if verbose:
        for obj in rendered.objects:
            click.echo(f"  {obj['kind']}/{obj['metadata']['name']}", err=True)
    if not quiet:
        click.echo(f"{len(rendered.objects)} objects ({rendered.cni}) -> {written[0]} ({rendered.digest})")
