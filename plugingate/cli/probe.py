"""``plugingate probe BUNDLE``: the shadow run of a bundle's images in gVisor, compared with its declaration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from plugingate.cli.options import OutputFormat, format_option, option, out_option, policy_option, verbosity_options

if TYPE_CHECKING:
    from plugingate.probe.prober import ProbeResult


@click.command("probe")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@policy_option()
@out_option("probe.json")
@option("--duration", type=float, default=None, help="Seconds each image runs (default: the policy's probe.duration).")
@option(
    "--mode",
    type=click.Choice(["enforce", "warn", "dry-run"]),
    default=None,
    help="Override the policy's mode: warn and dry-run report findings and exit 0.",
)
@format_option()
@verbosity_options
def command(
    bundle: Path,
    policy_path: Path | None,
    out_dir: Path,
    duration: float | None,
    mode: str | None,
    output_format: OutputFormat,
    verbose: bool,
    quiet: bool,
) -> None:
    """Run each image of BUNDLE's spec.images (its archive in the bundle) in gVisor with no host network.

    DNS, connections and Kubernetes API calls go to recorders, declared secrets are random canaries,
    runsc's trace gives writes and executions. What goes beyond plugin.yaml is a PG-PRB finding:
    exit 1 in enforce mode. Exit 3 when runsc or dnsmasq is missing or the sandbox cannot start.
    """
    from plugingate.bundle import BundleLimits, open_bundle
    from plugingate.declaration import load_declaration
    from plugingate.files import write_atomic
    from plugingate.manifests import load_manifests
    from plugingate.manifests.kubedecode import HelperReader
    from plugingate.packaging.model import PackagingOptions
    from plugingate.policy import load_policy
    from plugingate.policy.model import Mode
    from plugingate.probe.prober import probe_bundle, settings_for
    from plugingate.probe.sandbox import locate_tools

    policy = load_policy(policy_path)
    settings = settings_for(policy, duration)
    effective = Mode(mode) if mode else policy.mode
    tools = locate_tools()
    limits = BundleLimits.from_policy(policy.bundle)
    with open_bundle(bundle, limits) as opened:
        declaration = load_declaration(opened.root)
        # NOTE: the objects read as the gate reads them (Kubernetes' reading beside, the policy's
        # packaging settings): they say where the plugin's manifests hand each secret over.
        manifests = load_manifests(
            opened.root, declaration, second_reading=HelperReader(), packaging=PackagingOptions.from_policy(policy)
        )
        result = probe_bundle(
            opened.root, declaration, settings, tools, bundle_sha256=opened.sha256, manifests=manifests, limits=limits
        )
    payload = {**result.to_dict(), "mode": str(effective)}
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / "probe.json", json.dumps(payload, indent=2) + "\n")
    if output_format is OutputFormat.JSON:
        click.echo(json.dumps(payload, indent=2))
    elif output_format is OutputFormat.MARKDOWN:
        click.echo(_markdown(result, str(effective)))
    else:
        if not quiet:
            for finding in result.findings:
                click.echo(f"{finding.severity:7} {finding.rule_id}  {finding.message}")
        for obs in result.observations:
            click.echo(
                f"{obs.image}: {obs.exit_status}; {len(obs.dns)} DNS queries, "
                f"{len(obs.connections) + len(obs.trace.connects)} connections, {len(obs.api_calls)} API calls, "
                f"{len(obs.trace.writes)} writes, {len(obs.trace.execs)} executions; memory peak "
                f"{obs.usage.memory_peak_bytes >> 20} MiB, CPU {obs.usage.cpu_seconds:.2f} s"
            )
        verdict = "DENIED" if result.denies else "PASSED"
        click.echo(f"probe {verdict} ({effective}) -> {out_dir / 'probe.json'}")
        if verbose:
            click.echo(f"runsc {result.runsc_version}, {result.seconds:.2f} s", err=True)
    if result.denies and effective is Mode.ENFORCE:
        raise click.exceptions.Exit(1)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(result: ProbeResult, mode: str) -> str:
    """The probe as Markdown (a CI step summary): the verdict, one line per image, the findings."""
    verdict = "❌ DENIED" if result.denies else "✅ PASSED"
    lines = [
        f"# plugingate probe: {verdict} ({mode})",
        "",
        f"{result.plugin} {result.version}, runsc {result.runsc_version}",
        "",
    ]
    for obs in result.observations:
        lines.append(
            f"- **{obs.image}**: {obs.exit_status}; {len(obs.dns)} DNS queries, {len(obs.api_calls)} API calls, "
            f"{len(obs.trace.writes)} writes; memory peak {obs.usage.memory_peak_bytes >> 20} MiB"
        )
    if result.findings:
        lines += ["", "| rule | finding |", "| --- | --- |"]
        lines += [f"| `{f.rule_id}` | {_cell(f.message)} |" for f in result.findings]
    return "\n".join(lines)
