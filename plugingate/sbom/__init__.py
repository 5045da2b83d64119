"""The SBOM step: syft on the unpacked bundle and the images it runs (CycloneDX, SPDX and syft JSON)."""

from __future__ import annotations

from plugingate.sbom.generate import (
    CYCLONEDX_NAME,
    SPDX_NAME,
    SYFT_NAME,
    OnSkippedImage,
    SbomResult,
    ScannedImage,
    generate_sbom,
)
from plugingate.sbom.images import Image, ImageRef, SkippedImage, UnprovenImage

__all__ = [
    "CYCLONEDX_NAME",
    "SPDX_NAME",
    "SYFT_NAME",
    "Image",
    "ImageRef",
    "OnSkippedImage",
    "SbomResult",
    "ScannedImage",
    "SkippedImage",
    "UnprovenImage",
    "generate_sbom",
]
