"""A chart pinned by digest in an OCI registry (``spec.chart.oci``), pulled as bytes proven by that digest.

Helm stores a chart as an OCI artifact: a manifest whose config has the media type
``application/vnd.cncf.helm.config.v1+json`` and whose one content layer is the chart archive
(``application/vnd.cncf.helm.chart.content.v1.tar+gzip``). The gate fetches the manifest by the
pinned digest and the layer by the digest the manifest names, with the project's own registry client
(each checked against its digest as it arrives), and writes the archive into the work folder, where
it is unpacked and rendered like a chart archive shipped in the bundle. Helm itself never reaches the
network. Plain HTTP only to a registry on this machine (loopback), as everywhere in plugingate.
"""

from __future__ import annotations

import re
from pathlib import Path

from plugingate.declaration import Declaration
from plugingate.errors import InputError
from plugingate.oci.auth import lookup_credentials
from plugingate.oci.client import RegistryClient, RegistryError
from plugingate.oci.reference import parse_image_ref
from plugingate.packaging.chart_source import CHART_LIMITS, chart_field_line

HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CONTENT = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def pull_chart(declaration: Declaration, target: Path) -> Path:
    """The chart archive ``spec.chart.oci`` pins, written to ``target`` (a folder); its path."""
    chart = declaration.chart
    assert chart is not None and chart.oci is not None
    ref = chart.oci
    where = {"path": declaration.path, "line": chart_field_line(declaration, "oci"), "field": "spec.chart.oci"}
    try:
        image = parse_image_ref(ref.removeprefix("oci://"))
    except InputError as exc:
        raise InputError(exc.message, **where) from exc  # type: ignore[arg-type]
    client = RegistryClient(image.registry, credentials=lookup_credentials(image.registry))
    manifest = client.get_manifest(image.repository, image.digest)
    if manifest is None:
        raise RegistryError(f"{ref}: the registry has no manifest {image.digest}")
    doc = manifest.json()
    config: dict[str, object] = doc["config"] if isinstance(doc.get("config"), dict) else {}
    layers = [layer for layer in doc.get("layers") or [] if isinstance(layer, dict)]
    content = [layer for layer in layers if layer.get("mediaType") == HELM_CONTENT]
    if config.get("mediaType") != HELM_CONFIG or len(content) != 1:
        raise InputError(
            f"{ref} is not a Helm chart: expected a config of type {HELM_CONFIG} and one layer of type {HELM_CONTENT}",
            **where,  # type: ignore[arg-type]
            hint="push the chart with `helm push CHART.tgz oci://…` and pin the digest it prints",
        )
    digest = str(content[0].get("digest", ""))
    if not _DIGEST.match(digest):
        raise InputError(f"{ref}: the chart layer's digest {digest!r} is not a sha256 digest", **where)  # type: ignore[arg-type]
    data = client.get_blob(image.repository, digest, limit=CHART_LIMITS.max_archive_bytes)
    target.mkdir(parents=True, exist_ok=True)
    archive = target / f"{image.repository.rsplit('/', 1)[-1]}.tgz"
    archive.write_bytes(data)
    return archive
