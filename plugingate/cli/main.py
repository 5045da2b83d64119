"""The ``plugingate`` command group, with lazily imported subcommands."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from plugingate import __version__

# NOTE: name -> "module:attribute". A module is imported only when its command runs or its help is
# shown, which keeps start-up time low; a command whose module is missing is simply not listed.
_COMMANDS: dict[str, tuple[str, str]] = {
    "gate": ("plugingate.cli.gate", "the whole pipeline: verify, check, scan, decide, attest"),
    "verify-signature": ("plugingate.cli.verify_signature", "verify a bundle's signature alone"),
    "verify-provenance": ("plugingate.cli.verify_provenance", "verify SLSA provenance or an in-toto layout"),
    "sign": ("plugingate.cli.sign", "sign a bundle (plugin authors): with a key or keyless in CI"),
    "keygen": ("plugingate.cli.keygen", "write a cosign-compatible signing key pair"),
    "pack": ("plugingate.cli.pack", "pack a plugin directory into a reproducible .tgz"),
    "policy": ("plugingate.cli.policy", "work with gate policies (lint) and admission policies (admission)"),
    "sbom": ("plugingate.cli.sbom", "generate the SBOM of a bundle with syft"),
    "scan": ("plugingate.cli.scan", "scan an SBOM for vulnerabilities with grype"),
    "verify-attestation": ("plugingate.cli.verify_attestation", "verify a gate attestation (cluster side)"),
    "revoke": ("plugingate.cli.revoke", "write a signed list of revoked bundle or image digests"),
    "attach": ("plugingate.cli.attach", "publish attestations to an OCI registry as cosign does"),
    "diff": ("plugingate.cli.diff", "what a new version asks for beyond the old one (permission growth)"),
    "approve": ("plugingate.cli.approve", "sign an approval of a new version's permission growth"),
    "doctor": ("plugingate.cli.doctor", "report the tools found, their versions and the database status"),
    "probe": ("plugingate.cli.probe", "run the bundle's images in gVisor and compare what they do with plugin.yaml"),
    "db": ("plugingate.cli.db", "the vulnerability database: status, update, import, build (no fallback)"),
    "render": (
        "plugingate.cli.render",
        "write the runtime controls (Namespace, NetworkPolicy, RBAC, Kyverno) of a plugin",
    ),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in _COMMANDS.items() if importlib.util.find_spec(module)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, _ = entry
        if importlib.util.find_spec(module_name) is None:
            return None
        module = importlib.import_module(module_name)
        command = getattr(module, "command", None)
        if not isinstance(command, click.Command):
            raise RuntimeError(f"{module_name} defines no click command named 'command'")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        listed = set(self.list_commands(ctx))
        rows = [(name, help_) for name, (_, help_) in _COMMANDS.items() if name in listed]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="plugingate")
def cli() -> None:
    """plugingate: decide whether a third-party plugin bundle may enter the platform.

    Exit codes: 0 passed, 1 denied, 2 usage or input error, 3 could not decide (fail closed).
    Every option also reads PLUGINGATE_<OPTION> from the environment.
    """


def main() -> None:
    """Console-script entry point."""
    from plugingate.cli.errors import run_cli

    sys.exit(run_cli(cli))
