"""Image references pinned by digest: ``registry[:port]/repository@sha256:<hex>``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from plugingate.errors import InputError

DOCKER_HUB = "registry-1.docker.io"
_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")
_REPO = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]", "::1")


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A registry host (with port), a repository and a manifest digest."""

    registry: str
    repository: str
    digest: str

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}@{self.digest}"

    @property
    def hex(self) -> str:
        """The digest's hex part."""
        return self.digest.split(":", 1)[1]

    @property
    def is_loopback(self) -> bool:
        """Whether the registry is on this machine (plain HTTP is allowed only there)."""
        return is_loopback(self.registry)


def is_loopback(registry: str) -> bool:
    """``localhost``, ``127.0.0.1`` or ``[::1]``, with or without a port."""
    host = registry.rsplit(":", 1)[0] if not registry.endswith("]") else registry
    return host in _LOOPBACK or registry in _LOOPBACK


def parse_image_ref(text: str) -> ImageRef:
    """Parse ``IMAGE@sha256:<hex>``; a tag is refused (attestations are bound to a digest)."""
    if "@" not in text:
        raise InputError(
            f"{text!r} is not pinned by digest",
            field="IMAGE",
            hint="give IMAGE@sha256:<hex> (crane digest IMAGE or docker buildx imagetools inspect prints it)",
        )
    name, digest = text.rsplit("@", 1)
    if not _DIGEST.match(digest):
        raise InputError(f"{digest!r} is not a sha256 digest (sha256:<64 lower-case hex>)", field="IMAGE")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, name
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in repository:
            repository = "library/" + repository
    last = repository.rsplit("/", 1)[-1]
    if ":" in last:  # NOTE: a tag beside the digest is dropped, as docker does: the digest decides
        repository = repository[: len(repository) - len(last)] + last.split(":", 1)[0]
    if not _REPO.match(repository):
        raise InputError(f"{repository!r} is not a valid repository name", field="IMAGE")
    return ImageRef(registry=registry, repository=repository, digest=digest)
