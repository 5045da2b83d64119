"""``plugingate db``: provision the vulnerability database from one explicit source, and show it.

``status`` says which database the gate would scan with, where it came from and what it holds;
``update`` (grype's upstream or a mirror), ``import`` (an air-gapped archive with its checksum) and
``build`` (the Go vulnerability database, offline) each provision one and make it the default.
None falls back to another: a source that cannot be had exits 3, naming why.
"""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from plugingate.cli.options import OutputFormat, format_option, option

if TYPE_CHECKING:
    from plugingate.vulnerabilities.sources import Provisioned


@click.group("db")
def command() -> None:
    """The vulnerability database: status, update, import, build."""


@command.command("status")
@format_option()
def status(output_format: str) -> None:
    """The database the gate scans with: source, schema, build time, providers and advisory counts.

    Exit 0 with a readable database, 3 without one.
    """
    from plugingate.vulnerabilities.database import database_dir, read_database_info

    info = read_database_info(database_dir())
    age_hours = round((datetime.now(UTC) - info.built).total_seconds() / 3600, 1)
    if output_format == OutputFormat.JSON:
        click.echo(json.dumps({**info.to_dict(), "ageHours": age_hours}, indent=2))
        return
    click.echo(f"database  {info.cache_dir}")
    click.echo(f"source    {info.kind}: {info.source}")
    click.echo(f"schema    {info.schema}, built {info.to_dict()['built']} ({age_hours} h ago)")
    click.echo(f"advisories {info.advisories}")
    for provider in info.providers:
        row = provider.to_dict()
        click.echo(f"  {provider.name:14} {provider.advisories:7}  data of {row['captured']}  ({provider.processor})")
    if info.kind == "test":
        click.echo("warning: this is the test database (testdata/vulndb): policies refuse it", err=True)


def _provisioned(provisioned: Provisioned, print_env: bool, make_current: bool) -> None:
    from plugingate.vulnerabilities.sources import make_current as set_current

    if make_current:
        set_current(provisioned)
    info = provisioned.info
    if print_env:
        click.echo(f"export GRYPE_DB_CACHE_DIR={shlex.quote(str(provisioned.cache_dir))}")
    else:
        state = "reused" if provisioned.reused else "ready"
        click.echo(
            f"{state}: {provisioned.cache_dir} ({info.kind}: {info.source}; {info.advisories} advisories from "
            f"{', '.join(p.name for p in info.providers) or 'no provider'})"
        )
    if make_current and not print_env:
        click.echo("it is now the default database (GRYPE_DB_CACHE_DIR overrides it)", err=True)


_print_env = option(
    "--print-env", is_flag=True, envvar=None, help="Print `export GRYPE_DB_CACHE_DIR=…` for a shell to eval."
)
_current = option(
    "--make-current/--no-make-current",
    default=True,
    envvar=None,
    show_default=True,
    help="Make it the database the gate uses by default.",
)


@command.command("build")
@option("--vulndb-version", envvar=None, help="golang.org/x/vulndb version (default: the pinned one).")
@option(
    "--providers",
    "providers",
    multiple=True,
    envvar=None,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of vunnel provider workspaces to merge in (repeatable).",
)
@_print_env
@_current
def build(vulndb_version: str | None, providers: tuple[Path, ...], print_env: bool, make_current: bool) -> None:
    """Build a database offline from the Go vulnerability database (a pinned golang.org/x/vulndb).

    The module comes through the Go module proxy, checked against the Go checksum database; its
    OSV records become grype advisories (provider go-vulndb) with grype's own builder.
    """
    from plugingate.tools import ToolRunner
    from plugingate.vulnerabilities.sources import build_go_vulndb, pinned_vulndb_version

    version = vulndb_version or pinned_vulndb_version()
    _provisioned(build_go_vulndb(ToolRunner(), version=version, extra_providers=providers), print_env, make_current)


@command.command("import")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@option("--sha256", "sha256", required=True, envvar=None, help="The archive's published sha256 (hex).")
@_print_env
@_current
def import_(archive: Path, sha256: str, print_env: bool, make_current: bool) -> None:
    """Import a mirrored database archive after checking its sha256 (air-gapped platforms)."""
    from plugingate.tools import ToolRunner
    from plugingate.vulnerabilities.sources import import_archive

    _provisioned(import_archive(ToolRunner(), archive, sha256), print_env, make_current)


@command.command("update")
@_print_env
@_current
def update(print_env: bool, make_current: bool) -> None:
    """grype's own database (GRYPE_DB_UPDATE_URL names a mirror's listing); no fallback."""
    from plugingate.tools import ToolRunner
    from plugingate.vulnerabilities.sources import update_upstream

    _provisioned(update_upstream(ToolRunner()), print_env, make_current)
