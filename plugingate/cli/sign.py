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
@option(
    "--trust-config",
    "trust_config",
    type=_FILE,
    help="Keyless: a private Sigstore instance, as one ClientTrustConfig JSON (trusted root + signing config).",
)
@option("--trusted-root", "trusted_root", type=_FILE, help="Keyless: a private instance's trusted_root.json.")
@option("--signing-config", "signing_config", type=_FILE, help="Keyless: a private instance's signing config (v0.2).")
@option(
    "--identity-token",
    "identity_token",
    type=_FILE,
    help="Keyless: a file holding the OIDC identity token (default: $SIGSTORE_ID_TOKEN, else the CI's own).",
)
def command(
    artifact: Path,
    key: Path | None,
    keyless: bool,
    output_signature: Path | None,
    bundle: Path | None,
    staging: bool,
    trust_config: Path | None,
    trusted_root: Path | None,
    signing_config: Path | None,
    identity_token: Path | None,
) -> None:
    """Sign ARTIFACT (a plugin bundle archive).

    With --key: writes ARTIFACT.sig (base64, as 'cosign sign-blob --key' writes it) and
    ARTIFACT.sigstore.json (a Sigstore bundle naming the key); the key's passphrase comes from
    PLUGINGATE_PASSWORD or COSIGN_PASSWORD. Without --key: keyless, with the OIDC token of
    --identity-token, $SIGSTORE_ID_TOKEN or the CI's ambient identity, against the public-good Sigstore
    or the private instance of --trust-config (or --trusted-root with --signing-config). Exits 2 for
    unreadable trust files, 3 when no token is found or the instance cannot be reached.
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
    from plugingate.pipeline import KeylessSettings

    settings = KeylessSettings(
        trust_config=trust_config,
        trusted_root=trusted_root,
        signing_config=signing_config,
        identity_token=identity_token,
        staging=staging,
    )
    files = sign_keyless(artifact, bundle_path=bundle, settings=settings)
    click.echo(f"Bundle written to {files.bundle}")
