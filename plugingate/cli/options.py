"""Options shared by the commands, each also read from ``PLUGINGATE_<NAME>`` as the contract says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from plugingate.report.formats import OutputFormat

__all__ = ["OutputFormat", "format_option", "option", "out_option", "policy_option", "verbosity_options"]

F = TypeVar("F", bound=Callable[..., Any])


def option(*param_decls: str, **attrs: Any) -> Callable[[F], F]:
    """``click.option`` reading ``PLUGINGATE_<LONG NAME>`` (``--out`` → ``PLUGINGATE_OUT``).

    The contract fixes the variable to the option's name alone, not click's default
    ``PLUGINGATE_<COMMAND>_<OPTION>``, so that a pipeline can set ``PLUGINGATE_POLICY`` once for every
    command.
    """
    longs = [d for d in param_decls if d.startswith("--")]
    if longs and "envvar" not in attrs:
        name = longs[0][2:].split("/")[0]
        attrs["envvar"] = "PLUGINGATE_" + name.upper().replace("-", "_")
        attrs.setdefault("show_envvar", True)
    return click.option(*param_decls, **attrs)


def policy_option(required: bool = False) -> Callable[[F], F]:
    """``--policy FILE``: the gate policy (default: the packaged ``default.yaml``)."""
    return option(
        "--policy",
        "policy_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        required=required,
        help="Gate policy file (default: the built-in safe default).",
    )


def out_option(what: str) -> Callable[[F], F]:
    """``--out DIR`` (default ``gate-out``): where a command writes ``what``."""
    return option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("gate-out"),
        show_default=True,
        help=f"Folder for {what}.",
    )


def format_option() -> Callable[[F], F]:
    """``--format text|json|markdown``, handed to the command as an ``OutputFormat`` (never a bare string)."""
    return option(
        "--format",
        "output_format",
        type=click.Choice([f.value for f in OutputFormat]),
        default=OutputFormat.TEXT.value,
        show_default=True,
        callback=lambda _ctx, _param, value: OutputFormat(value),
        help="What to print on stdout.",
    )


def verbosity_options(func: F) -> F:
    """``-v/--verbose`` and ``-q/--quiet``."""
    func = option("-v", "--verbose", is_flag=True, help="Say more (tool commands, timings).")(func)
    return option("-q", "--quiet", is_flag=True, help="Print only the verdict line and errors.")(func)
