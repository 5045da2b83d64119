"""The errors plugingate raises, each mapped to one of the contract's exit codes.

The core never calls ``sys.exit``: it raises one of these, and the CLI catches the base class in one
place, prints the message and the diagnostics, and exits with ``exit_code``. An error that is not one
of these is a bug; the CLI treats it as "could not decide" (exit 3) so that a crash fails closed.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of every command (see the contract)."""

    PASSED = 0
    DENIED = 1
    USAGE = 2
    UNDECIDED = 3


class Error(Exception):
    """Base error: what went wrong, and what a person should do next."""

    exit_code: ExitCode = ExitCode.UNDECIDED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """The message, followed by the hint when there is one."""
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class InputError(Error):
    """An input file is unreadable or invalid (exit 2): names the file, the line and the field."""

    exit_code = ExitCode.USAGE

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ""
        if path:
            where = path
            if line:
                where += f":{line}"
            where += ": "
        if field:
            where += f"{field}: "
        super().__init__(f"{where}{message}", hint=hint)
        self.path = path
        self.line = line
        self.field = field


class BundleError(InputError):
    """A bundle is corrupt, truncated, hostile or over a limit (exit 2)."""


class UndecidedError(Error):
    """A check could not be made: a tool missing or failing, a stale database, a timeout (exit 3)."""

    exit_code = ExitCode.UNDECIDED


class ToolError(UndecidedError):
    """An external tool (syft, grype, cosign, docker) is missing, crashed or timed out (exit 3)."""

    def __init__(self, message: str, *, tool: str, stderr: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.tool = tool
        self.stderr = stderr


class VerificationError(Error):
    """A signature, provenance or attestation check failed (exit 1: denied)."""

    exit_code = ExitCode.DENIED

    def __init__(self, message: str, *, rule_id: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.rule_id = rule_id
