"""``plugingate pack DIR -o FILE.tgz``: a reproducible bundle archive, and its digest."""

from __future__ import annotations

import json
from pathlib import Path

import click

from plugingate.cli.options import OutputFormat, format_option, option, verbosity_options


@click.command("pack")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="Archive to write (.tgz); replaced atomically if it exists.",
)
@format_option()
@verbosity_options
def command(directory: Path, output: Path, output_format: OutputFormat, verbose: bool, quiet: bool) -> None:
    """Pack DIRECTORY (the plugin folder holding plugin.yaml) into a reproducible .tgz.

    The same tree always gives the same bytes, whatever its mtimes, owners or file order, so the
    printed sha256 is the bundle's digest wherever it is packed.
    """
    from plugingate.bundle import pack_directory

    digest = pack_directory(directory, output)
    size = output.stat().st_size
    if output_format is OutputFormat.JSON:
        payload = {"path": str(output), "sha256": digest, "digest": f"sha256:{digest}", "size": size}
        click.echo(json.dumps(payload, indent=2))
    elif quiet:
        click.echo(f"sha256:{digest}")
    else:
        click.echo(f"sha256:{digest}  {output}")
        if verbose:
            click.echo(f"{size} bytes, packed from {directory}", err=True)
