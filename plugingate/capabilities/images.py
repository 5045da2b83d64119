"""Declared images against the policy: pinned by digest, from an allowed registry."""

from __future__ import annotations

from plugingate.capabilities import rules
from plugingate.declaration import Declaration
from plugingate.findings import Finding, Location
from plugingate.policy.model import ImagesPolicy


def normalized_repository(ref: str) -> str:
    """The repository as Docker resolves it: ``nginx`` is ``docker.io/library/nginx``."""
    base = ref.split("@", 1)[0]
    _, _, tail = base.rpartition("/")
    if ":" in tail:
        base = base[: len(base) - len(tail)] + tail.split(":", 1)[0]
    parts = base.split("/")
    if len(parts) == 1 or not ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = ["docker.io", *parts]
    if parts[0] in ("index.docker.io", "registry-1.docker.io"):
        parts[0] = "docker.io"
    if parts[0] == "docker.io" and len(parts) == 2:
        parts.insert(1, "library")
    return "/".join(parts).lower()


def registry_allowed(ref: str, allowed: tuple[str, ...]) -> bool:
    """Whether the image comes from one of the ``host[/path]`` prefixes (empty: any)."""
    if not allowed:
        return True
    repo = normalized_repository(ref)
    for prefix in allowed:
        p = prefix.strip().rstrip("/").lower()
        if repo == p or repo.startswith(p + "/"):
            return True
    return False


def check_images(declaration: Declaration, policy: ImagesPolicy) -> list[Finding]:
    """Each image in spec.images must be pinned by digest and come from an allowed registry."""
    findings: list[Finding] = []
    for image in declaration.images:
        location = Location(declaration.path, image.line)
        if policy.require_digest and image.digest is None:
            findings.append(
                rules.IMAGE_NOT_PINNED.finding(
                    f"image {image.name} is {image.ref}; expected a reference pinned by digest "
                    "(…@sha256:<64 hex>) because images.requireDigest is true",
                    location=location,
                    image=image.ref,
                )
            )
        if not registry_allowed(image.ref, policy.allowed_registries):
            findings.append(
                rules.IMAGE_REGISTRY.finding(
                    f"image {image.name} comes from {normalized_repository(image.ref)}; expected one of "
                    f"images.allowedRegistries: {', '.join(policy.allowed_registries)}",
                    location=location,
                    image=image.ref,
                )
            )
    return findings
