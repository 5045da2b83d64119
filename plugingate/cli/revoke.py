"""``plugingate revoke DIGEST… --key KEY -o revoked.json``: quarantine bundles or images before ``validUntil``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from plugingate.cli.options import option


@click.command(name="revoke")
@click.argument("digests", metavar="DIGEST…", nargs=-1, required=True)
@option(
    "--key",
    "key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The revocation signing key (cosign's encrypted format, or PEM).",
)
@option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@option("--reason", "reason", help="Why these digests are revoked (recorded with each).")
@option(
    "--configmap",
    "configmap",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the ConfigMap the admission policies look up (plugingate-revocations).",
)
@option("--namespace", "namespace", default="kyverno", show_default=True, help="The ConfigMap's namespace.")
def command(
    digests: tuple[str, ...],
    key: Path,
    output: Path,
    reason: str | None,
    configmap: Path | None,
    namespace: str,
) -> None:
    """Write a signed list of revoked bundle or image digests (sha256:<hex>, or IMAGE@sha256:<hex>).

    The list is a DSSE envelope signed with KEY; 'plugingate verify-attestation --revoked FILE
    --revocation-key PUB' refuses every attestation about a listed digest. Give the whole list each
    time: a new file replaces the old one. --configmap writes the same digests as the ConfigMap the
    shipped Kyverno policies read (apply it with kubectl).
    """
    from datetime import UTC, datetime

    import yaml

    from plugingate.attestation.revocation import configmap as make_configmap
    from plugingate.attestation.revocation import make_list, sign_list
    from plugingate.files import write_atomic
    from plugingate.keys import load_private_key

    revocations = make_list(digests, issued_at=datetime.now(UTC), reason=reason)
    envelope = sign_list(revocations, load_private_key(key))
    write_atomic(output, (json.dumps(envelope, sort_keys=True, indent=2) + "\n").encode())
    click.echo(f"{len(revocations.entries)} digest(s) revoked: {output}")
    if configmap is not None:
        doc = make_configmap(revocations, namespace=namespace)
        write_atomic(configmap, yaml.safe_dump(doc, sort_keys=False).encode())
        click.echo(f"ConfigMap {doc['metadata']['name']} ({namespace}): {configmap}")
