"""Reading one version of a plugin as the gate reads it: the bundle opened and unpacked safely,
plugin.yaml through the declaration loader, the manifests through the manifests loader with
Kubernetes' own reading beside (two readings that differ are bad input, exit 2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.growth.footprint import Footprint, footprint

if TYPE_CHECKING:
    from plugingate.bundle import BundleLimits
    from plugingate.packaging.model import PackagingOptions


@dataclass(frozen=True, slots=True)
class ReadVersion:
    """One version: what was named, the bundle's subject name and sha256, and what it asks for."""

    source: Path
    name: str
    sha256: str
    footprint: Footprint

    @property
    def version(self) -> str:
        return self.footprint.version

    def to_dict(self) -> dict[str, str]:
        return {
            "source": str(self.source),
            "name": self.name,
            "sha256": self.sha256,
            "plugin": self.footprint.name,
            "version": self.version,
        }


def read_version(
    path: Path, limits: BundleLimits | None = None, packaging: PackagingOptions | None = None
) -> ReadVersion:
    """Open, unpack and read the bundle at ``path`` under ``limits`` (the policy's; the defaults when None).

    ``packaging``: how a chart, kustomization or operator bundle is rendered (the policy's, as the
    gate's manifests step renders it; the defaults when None).
    """
    from plugingate.bundle import BundleLimits, open_bundle
    from plugingate.declaration import load_declaration
    from plugingate.manifests import load_manifests
    from plugingate.manifests.kubedecode import HelperReader

    with open_bundle(path, limits or BundleLimits()) as bundle:
        declaration = load_declaration(bundle.root)
        # NOTE: the gate's own reading: a manifest kubectl would read otherwise is refused here too.
        manifests = load_manifests(bundle.root, declaration, second_reading=HelperReader(), packaging=packaging)
        return ReadVersion(
            source=path,
            name=bundle.name,
            sha256=bundle.sha256.removeprefix("sha256:"),
            footprint=footprint(declaration, manifests),
        )
