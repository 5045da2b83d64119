"""``plugingate doctor``: which tools were found, their versions, and the vulnerability database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from plugingate.cli.options import OutputFormat, format_option, verbosity_options


@click.command("doctor")
@format_option()
@verbosity_options
def command(output_format: OutputFormat, verbose: bool, quiet: bool) -> None:
    """Report syft, grype, cosign, kustomize, the helpers and the Docker engine, and the database's status.

    Exit 0 when syft, grype, kustomize, k8sdecode, olmvalidate and a readable database are there (a version
    other than the pinned one, an old database, no Docker engine, or no helm, which only chart plugins need,
    are warnings); 3 when something the gate needs is missing.
    """
    from plugingate.errors import Error
    from plugingate.tools import Helper, Tool, ToolRunner
    from plugingate.tools.pins import PINNED_VERSIONS
    from plugingate.vulnerabilities import database_dir, read_database_info

    runner = ToolRunner()
    report: dict[str, dict[str, object]] = {}
    problems: list[str] = []
    warnings: list[str] = []
    for tool in Tool:
        try:
            info = runner.info(tool)
        except Error as exc:
            report[str(tool)] = {"found": False, "error": exc.message}
            (warnings if tool is Tool.COSIGN else problems).append(exc.message)
            continue
        pinned = PINNED_VERSIONS[str(tool)]
        report[str(tool)] = {
            "found": True,
            "path": str(info.path),
            "foundBy": info.found_by,
            "version": info.version,
            "pinned": pinned,
        }
        if info.version != pinned:
            warnings.append(f"{tool} is {info.version}, plugingate is tested with {pinned}")
    # NOTE: the project's helpers: k8sdecode, the gate's second reading of the manifests (without it
    # every gate with manifests exits 3); olmvalidate, operator-framework's validators (spec.operator);
    # helm, which only a plugin declaring spec.chart needs (scripts/setup-helm): its absence is a warning.
    for helper_name in Helper:
        try:
            helper = runner.info(helper_name)
            report[str(helper_name)] = {
                "found": True,
                "path": str(helper.path),
                "foundBy": helper.found_by,
                "version": helper.version,
            }
        except Error as exc:
            report[str(helper_name)] = {"found": False, "error": exc.message}
            (warnings if helper_name is Helper.HELM else problems).append(exc.message)
    report["docker"] = _docker()
    if not report["docker"]["reachable"]:
        warnings.append(
            f"no Docker engine: images of spec.images not shipped in a bundle will be skipped "
            f"({report['docker']['error']})"
        )
    db_dir = database_dir(runner.env)
    try:
        db = read_database_info(db_dir)
        age_hours = (datetime.now(UTC) - db.built).total_seconds() / 3600
        report["database"] = {"ok": True, **db.to_dict(), "ageHours": round(age_hours, 1)}
        if db.kind == "test":
            warnings.append("the vulnerability database is the test database: every shipped policy refuses it")
        if age_hours > 120:
            warnings.append(f"the vulnerability database is {age_hours:.0f} h old (the default maxDatabaseAge is 120h)")
    except Error as exc:
        report["database"] = {"ok": False, "path": str(db_dir), "error": exc.message}
        problems.append(exc.message)
    if output_format is OutputFormat.JSON:
        click.echo(json.dumps({"ok": not problems, **report, "problems": problems, "warnings": warnings}, indent=2))
    else:
        tools = [str(t) for t in (*Tool, *Helper)]
        name_width = max(len(name) for name in (*tools, "grype db"))
        version_width = max([10, *(len(str(report[n].get("version", ""))) for n in tools)])

        def row(name: str, version: object, rest: object) -> None:
            click.echo(f"{name:{name_width}} {version!s:{version_width}} {rest}")

        for name in tools:
            entry = report[name]
            if entry["found"]:
                row(name, entry["version"], f"{entry['path']}  (via {entry['foundBy']})")
            else:
                row(name, "missing", entry["error"])
        docker = report["docker"]
        row("docker", docker.get("version") or "no engine", docker.get("host") or docker.get("error"))
        database = report["database"]
        if database["ok"]:
            row(
                "grype db",
                database["schema"],
                f"built {database['built']} ({database['ageHours']} h ago), {database['kind']}: "
                f"{database['source']}, {database['advisories']} advisories, {database['path']}",
            )
        else:
            row("grype db", "missing", database["error"])
        if not quiet:
            for warning in warnings:
                click.echo(f"warning: {warning}", err=True)
            for problem in problems:
                click.echo(f"problem: {problem}", err=True)
    if problems:
        raise click.exceptions.Exit(3)


def _docker() -> dict[str, object]:
    from plugingate.sbom.engine import EngineUnavailableError, connect, explain

    try:
        client = connect(5)
    except EngineUnavailableError as exc:
        return {"reachable": False, "error": str(exc)}
    try:
        version = client.version()
        return {"reachable": True, "version": version.get("Version"), "host": client.api.base_url}
    except Exception as exc:  # NOTE: an engine that stops answering after the ping is no usable engine
        return {"reachable": False, "error": explain(exc)}
    finally:
        client.close()
