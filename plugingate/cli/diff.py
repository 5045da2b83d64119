"""``plugingate diff OLD NEW``: what NEW asks for beyond OLD (informational: exit 0 with the growth listed)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from plugingate.cli.options import OutputFormat, format_option, policy_option


@click.command("diff")
@click.argument("old", type=click.Path(exists=True, path_type=Path))
@click.argument("new", type=click.Path(exists=True, path_type=Path))
@policy_option()
@format_option()
def command(old: Path, new: Path, policy_path: Path | None, output_format: OutputFormat) -> None:
    """List the permission growth of bundle NEW over bundle OLD (folders, .tar or .tgz).

    Both are read as the gate reads them (safe unpacking, plugin.yaml and the manifests, with
    Kubernetes' own reading beside). Each item is printed as the id an approval names. Exit 0 with the
    growth listed, 2 on bad input, 3 when a reader cannot run. --policy sets the bundle limits and how
    a chart is rendered, as for the gate.
    """
    from plugingate.bundle import BundleLimits
    from plugingate.growth.compare import compare
    from plugingate.growth.read import read_version
    from plugingate.growth.show import RENDERERS
    from plugingate.packaging.model import PackagingOptions
    from plugingate.policy import load_policy

    policy = load_policy(policy_path)
    limits, packaging = BundleLimits.from_policy(policy.bundle), PackagingOptions.from_policy(policy)
    before = read_version(old, limits, packaging)
    after = read_version(new, limits, packaging)
    growth = compare(before.footprint, after.footprint)
    sys.stdout.write(RENDERERS[str(output_format)](before, after, growth))
