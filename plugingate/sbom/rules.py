"""The SBOM step's rules (PG-SBOM-0xx)."""

from __future__ import annotations

from plugingate.findings import Rule, Severity, Step

IMAGE_SKIPPED = Rule(
    id="PG-SBOM-001",
    step=Step.SBOM,
    title="An image named in spec.images could not be scanned",
    help="Every image the plugin runs must be scanned. The image was neither in the bundle as an image "
    "archive nor available from a Docker engine. Ship it as a docker-archive/oci-archive in the bundle, "
    "or run the gate where a Docker engine can provide it; the policy's "
    "vulnerabilities.onSkippedImage decides whether this denies (deny) or warns (warn).",
)
IMAGE_ARCHIVE_SCANNED = Rule(
    id="PG-SBOM-002",
    step=Step.SBOM,
    title="An image was scanned",
    help="An image archive in the bundle, or an image from spec.images saved from the Docker engine, "
    "was catalogued and its packages are part of the SBOM.",
    severity=Severity.NOTE,
)
NO_PACKAGES = Rule(
    id="PG-SBOM-003",
    step=Step.SBOM,
    title="The SBOM lists no packages",
    help="syft found no package in the bundle. Nothing could be scanned for vulnerabilities: ship lock "
    "files (requirements.txt with pinned versions, package-lock.json, go.mod) or the images themselves.",
    severity=Severity.WARNING,
)

IMAGE_NOT_PROVEN = Rule(
    id="PG-SBOM-004",
    step=Step.SBOM,
    title="An image's pinned digest is not proven",
    help="An image of spec.images pinned by digest was found (an image archive in the bundle, or the Docker "
    "engine's image) but nothing there proves it is that digest: the manifest or index blob "
    "(blobs/sha256/<hex>) is missing or does not hash to the digest, a config or layer does not hash to "
    "its descriptor, a blob is a link, index.json or manifest.json name another image, a docker save "
    "archive carries no manifest blob, or the engine's image has no repository digest equal to the "
    "reference. The image is neither scanned nor named in the attestation. Ship an OCI layout or archive "
    "holding the image's blobs (skopeo copy docker://REF oci-archive:X.tar, crane pull --format=oci, docker "
    "save of Docker 25+ with the containerd image store), or pin the digest the registry serves. The "
    "policy cannot lower this rule.",
)

RULES = (IMAGE_SKIPPED, IMAGE_ARCHIVE_SCANNED, NO_PACKAGES, IMAGE_NOT_PROVEN)
