"""``plugingate sign ARTIFACT``: sign a bundle with a key (cosign-compatible) or keyless in CI."""

from __future__ import annotations

from pathlib import Path

import click

from plugingate.cli.options import option

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command(name="sign")
@click.argument("artifact", type=_FILE)
@option("--key", "key", type=_FILE, help="Private key (cosign's encrypted format, or PEM).")
@option("--keyless", "keyless", is_flag=True, help="Sign with the CI's ambient OIDC identity (Sigstore).")
@option("--output-signature", "output_signature", type=click.Path(path_type=Path), help="Default ARTIFACT.sig.")
@option("--bundle", "bundle", type=click.Path(path_type=Path), help="Default ARTIFACT.sigstore.json.")
@option("--staging", "staging", is_flag=True, help="Keyless: use Sigstore's staging instance.")
def command(
    artifact: Path, key: Path | None, keyless: bool, output_signature: Path | None, bundle: Path | None, staging: bool
) -> None:
    """Sign ARTIFACT (a plugin bundle archive).

    With --key: writes ARTIFACT.sig (base64, as 'cosign sign-blob --key' writes it) and
    ARTIFACT.sigstore.json (a Sigstore bundle naming the key); the key's passphrase comes from
    PLUGINGATE_PASSWORD or COSIGN_PASSWORD. Without --key: keyless with the ambient CI identity
    (needs network access to Sigstore; exits 3 when no credential or service can be reached).
    """
    from plugingate.errors import InputError
    from plugingate.keys import load_private_key
    from plugingate.signature.sign import sign_keyless, sign_with_key

    if key is not None and keyless:
        raise InputError("give --key or --keyless, not both", field="--key")
    if key is not None:
        files = sign_with_key(artifact, load_private_key(key), signature_path=output_signature, bundle_path=bundle)
        click.echo(f"Signature written to {files.signature}")
        click.echo(f"Bundle written to {files.bundle}")
        return
    files = sign_keyless(artifact, bundle_path=bundle, staging=staging)
    click.echo(f"Bundle written to {files.bundle}")
