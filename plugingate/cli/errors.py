"""One place where errors become messages and exit codes."""

from __future__ import annotations

import sys
import traceback

import click

from plugingate.errors import Error, ExitCode


def run_cli(group: click.Group) -> int:
    """Run the click group; map plugingate errors to their exit codes, and any crash to exit 3.

    A crash is never a pass: an unexpected exception fails closed with exit 3 and its traceback on
    stderr (with ``-v``) so that a bug in a check can't let a bundle through.
    """
    try:
        returned = group.main(standalone_mode=False)
    except Error as exc:
        click.echo(f"plugingate: error: {exc.diagnostics()}", err=True)
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("plugingate: aborted", err=True)
        return int(ExitCode.UNDECIDED)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("plugingate: interrupted", err=True)
        return 130
    except Exception as exc:  # NOTE: fail closed on any bug
        click.echo(f"plugingate: internal error (could not decide): {exc!r}", err=True)
        if "-v" in sys.argv or "--verbose" in sys.argv:
            traceback.print_exc()
        return int(ExitCode.UNDECIDED)
    # NOTE: without standalone mode, click returns the code of a ``click.exceptions.Exit``.
    return returned if isinstance(returned, int) else int(ExitCode.PASSED)
