"""``plugingate attach IMAGE@sha256:… --attestation FILE``: publish attestations as cosign does."""

from __future__ import annotations

import json
from pathlib import Path

import click

from plugingate.cli.options import OutputFormat, format_option, option, verbosity_options

_MAX_FILE_BYTES = 64 * 1024 * 1024


@click.command(name="attach")
@click.argument("image")
@option(
    "--attestation",
    "attestations",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    required=True,
    help="attestations.intoto.jsonl, a DSSE envelope, or a *.sigstore.json bundle; repeatable.",
)
@option("--referrers", "referrers", is_flag=True, help="Also publish each one as an OCI referrer (Sigstore bundle).")
@option(
    "--insecure",
    "insecure",
    is_flag=True,
    help="Allow plain HTTP to a registry that is not on localhost (test registries only).",
)
@format_option()
@verbosity_options
def command(
    image: str,
    attestations: tuple[Path, ...],
    referrers: bool,
    insecure: bool,
    output_format: OutputFormat,
    verbose: bool,
    quiet: bool,
) -> None:
    """Attach attestations to IMAGE (pinned by digest) in its registry.

    Writes cosign's layout: the tag sha256-<hex>.att holding one DSSE layer per attestation, appended
    to the ones already there. Only attestations whose subjects include IMAGE's digest are attached.
    Credentials come from $DOCKER_CONFIG/config.json (or ~/.docker/config.json). Keyless Sigstore
    bundles carry their certificate and Rekor entry as cosign's annotations; --referrers also
    publishes each bundle as an OCI referrer.
    """
    from plugingate.errors import InputError
    from plugingate.files import read_bounded
    from plugingate.oci.attach import attach, read_attestations
    from plugingate.oci.auth import lookup_credentials
    from plugingate.oci.client import RegistryClient
    from plugingate.oci.reference import parse_image_ref

    ref = parse_image_ref(image)
    items = []
    for path in attestations:
        data = read_bounded(path, _MAX_FILE_BYTES, "the attestation file")
        try:
            items.extend(read_attestations(data, source=str(path)))
        except UnicodeDecodeError as exc:
            raise InputError("not UTF-8 text", path=str(path)) from exc
    # NOTE: a keyless bundle goes into cosign's .att layout with its certificate and Rekor's signed
    # entry timestamp as annotations (what Kyverno's ClusterPolicy and policy-controller read); one
    # without an inclusion promise (a Rekor v2 entry) cannot be written so, and is published as a referrer only.
    unlegacy = [a for a in items if a.is_bundle and a.legacy_annotations is None]
    if unlegacy and not referrers:
        raise InputError(
            "this keyless Sigstore bundle has no Rekor inclusion promise, so cosign's .att layout cannot hold "
            "it; it can be attached only in the referrers form",
            path=unlegacy[0].source,
            hint="add --referrers",
        )
    client = RegistryClient(ref.registry, credentials=lookup_credentials(ref.registry), insecure=insecure)
    result = attach(client, ref, items, referrers=referrers, legacy=not unlegacy)
    if output_format is OutputFormat.JSON:
        click.echo(
            json.dumps(
                {
                    "image": result.image,
                    "tag": result.tag,
                    "manifest": result.manifest_digest,
                    "added": result.added,
                    "kept": result.kept,
                    "referrers": list(result.referrers),
                },
                indent=2,
            )
        )
    elif not quiet:
        if result.tag:
            click.echo(
                f"attached {result.added} attestation(s) to {result.image} as {ref.registry}/{ref.repository}:"
                f"{result.tag} ({result.kept} already there), manifest {result.manifest_digest}"
            )
        for digest in result.referrers:
            click.echo(f"referrer {ref.registry}/{ref.repository}@{digest}")
