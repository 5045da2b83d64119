"""``plugingate keygen --output-prefix P``: a cosign-compatible key pair, ``P.key`` and ``P.pub``."""

from __future__ import annotations

from pathlib import Path

import click

from plugingate.cli.options import option


@click.command(name="keygen")
@option(
    "--output-prefix",
    "output_prefix",
    default="cosign",
    show_default=True,
    help="Write PREFIX.key (encrypted private key) and PREFIX.pub (public key).",
)
@option("--force", "force", is_flag=True, help="Overwrite existing files.")
def command(output_prefix: str, force: bool) -> None:
    """Write an ECDSA P-256 key pair as 'cosign generate-key-pair' does.

    The private key is encrypted (scrypt + NaCl secretbox, cosign's format) with the passphrase in
    PLUGINGATE_PASSWORD or COSIGN_PASSWORD; an empty value is an empty passphrase, as with cosign.
    Without either variable, the passphrase is asked for on the terminal.
    """
    from plugingate.errors import InputError
    from plugingate.keys import generate_key_pair, password_from_env, write_private

    private_path = Path(f"{output_prefix}.key")
    public_path = Path(f"{output_prefix}.pub")
    for path in (private_path, public_path):
        if path.exists() and not force:
            raise InputError("exists; refusing to overwrite it (use --force)", path=str(path))
    password = password_from_env()
    if password is None:
        password = click.prompt(
            "Passphrase for the private key",
            hide_input=True,
            confirmation_prompt=True,
            default="",
            show_default=False,
        ).encode()
    pair = generate_key_pair(password)
    if force:
        private_path.unlink(missing_ok=True)
    write_private(private_path, pair.private_pem)
    public_path.write_bytes(pair.public_pem)
    click.echo(f"Private key written to {private_path}")
    click.echo(f"Public key written to {public_path}")
