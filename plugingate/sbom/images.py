"""Images to catalogue: archives shipped inside a bundle, and images named in ``spec.images``.

An image the plugin runs is scanned from an image archive in the bundle when one matches it, else
saved from a Docker engine when one answers; otherwise it is reported as skipped, and the policy
decides whether that denies. What an archive says it holds (``index.json``, ``manifest.json``) only
finds the candidate: a pinned image is scanned only once ``plugingate.sbom.proof`` has hashed it to
its digest, and an engine's image only when one of its repository digests is the reference, exactly.
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from plugingate.sbom.engine import WHAT_TO_DO, EngineUnavailableError, connect, explain

_MAX_ARCHIVES = 64
_MAX_MEMBERS = 100_000
_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_IMAGE_BYTES = 8 * 1024 * 1024 * 1024


class ImageRef(Protocol):
    """An image the plugin runs, as ``spec.images`` names it (the declaration's objects fit)."""

    @property
    def name(self) -> str: ...

    @property
    def ref(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Image:
    """A plain ``ImageRef``, for callers without a declaration at hand."""

    name: str
    ref: str


class ArchiveKind(StrEnum):
    """The image archive formats syft reads."""

    DOCKER = "docker-archive"
    OCI = "oci-archive"
    OCI_DIR = "oci-dir"


@dataclass(frozen=True, slots=True)
class ImageArchive:
    """An image archive to catalogue: where it is, its format, and what it is known to contain."""

    path: Path
    kind: ArchiveKind
    origin: str
    name: str
    ref: str
    digests: frozenset[str]
    tags: frozenset[str]
    blobs: frozenset[str] = frozenset()
    proven: str | None = None


@dataclass(frozen=True, slots=True)
class UnprovenImage:
    """An image of ``spec.images`` whose pinned digest could not be proven: never scanned nor attested."""

    name: str
    ref: str
    digest: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """As in ``report.json`` and the result cache."""
        return {"name": self.name, "ref": self.ref, "digest": self.digest, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class SkippedImage:
    """An image of ``spec.images`` that could not be scanned, and why."""

    name: str
    ref: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """As in ``report.json`` and the result cache."""
        return {"name": self.name, "ref": self.ref, "reason": self.reason}


def ref_digest(ref: str) -> str | None:
    """The ``sha256:<hex>`` a reference is pinned to, if any."""
    _, sep, digest = ref.partition("@")
    return digest if sep and digest.startswith("sha256:") else None


def find_image_archives(root: Path) -> list[ImageArchive]:
    """Image archives (``*.tar``) inside an unpacked bundle; symlinks are never followed."""
    found: list[ImageArchive] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for filename in sorted(filenames):
            if not filename.endswith(".tar"):
                continue
            path = Path(dirpath) / filename
            if path.is_symlink() or not path.is_file():
                continue
            archive = _inspect_archive(path, root)
            if archive is not None:
                found.append(archive)
                if len(found) >= _MAX_ARCHIVES:
                    return found
    return found


def _inspect_archive(path: Path, root: Path) -> ImageArchive | None:
    rel = path.relative_to(root).as_posix()
    try:
        with tarfile.open(path, "r:") as tar:
            names: dict[str, tarfile.TarInfo] = {}
            for count, member in enumerate(tar):
                if count >= _MAX_MEMBERS:
                    break
                names[member.name.removeprefix("./")] = member
            blobs = frozenset(n.rpartition("/")[2] for n in names if n.startswith("blobs/sha256/"))
            digests: set[str] = set()
            tags: set[str] = set()
            if "manifest.json" in names:
                manifest = _read_json(tar, names["manifest.json"])
                for item in manifest if isinstance(manifest, list) else []:
                    if not isinstance(item, dict):
                        continue
                    config = str(item.get("Config", ""))
                    hexpart = config.removesuffix(".json").rsplit("/", 1)[-1]
                    if len(hexpart) == 64:
                        digests.add(f"sha256:{hexpart}")
                    tags.update(str(t) for t in item.get("RepoTags") or [] if isinstance(t, str))
                kind = ArchiveKind.DOCKER
            elif "oci-layout" in names and "index.json" in names:
                index = _read_json(tar, names["index.json"])
                for item in index.get("manifests", []) if isinstance(index, dict) else []:
                    if isinstance(item, dict) and isinstance(item.get("digest"), str):
                        digests.add(item["digest"])
                        annotations = item.get("annotations") or {}
                        if isinstance(annotations, dict):
                            tag = annotations.get("io.containerd.image.name") or annotations.get(
                                "org.opencontainers.image.ref.name"
                            )
                            if isinstance(tag, str):
                                tags.add(tag)
                kind = ArchiveKind.OCI
            else:
                return None
    except (OSError, tarfile.TarError, ValueError):
        return None
    return ImageArchive(
        path=path,
        kind=kind,
        origin=f"bundle:{rel}",
        name=rel,
        ref=rel,
        digests=frozenset(digests),
        tags=frozenset(tags),
        blobs=blobs,
    )


def layout_dir(root: Path, rel: str) -> ImageArchive | None:
    """An OCI layout folder the bundle ships at ``rel`` (``spec.images[].archive``), if it is one.

    Only a real folder inside ``root`` holding ``oci-layout``: no symbolic link on the way.
    """
    path = root
    for part in Path(rel.removeprefix("./")).parts:
        if part in ("..", "/"):
            return None
        path = path / part
        if path.is_symlink():
            return None
    if not path.is_dir() or not (path / "oci-layout").is_file() or (path / "oci-layout").is_symlink():
        return None
    blob_dir = path / "blobs" / "sha256"
    blobs = frozenset(p.name for p in blob_dir.iterdir()) if blob_dir.is_dir() and not blob_dir.is_symlink() else None
    return ImageArchive(
        path=path,
        kind=ArchiveKind.OCI_DIR,
        origin=f"bundle:{rel.removeprefix('./')}",
        name=rel,
        ref=rel,
        digests=frozenset(),
        tags=frozenset(),
        blobs=blobs or frozenset(),
    )


def _read_json(tar: tarfile.TarFile, member: tarfile.TarInfo) -> object:
    if not member.isfile() or member.size > _MAX_MANIFEST_BYTES:
        raise ValueError(f"{member.name}: not a small regular file")
    handle = tar.extractfile(member)
    if handle is None:
        raise ValueError(f"{member.name}: unreadable")
    return json.loads(handle.read())


def match_archive(image: ImageRef, archives: Sequence[ImageArchive]) -> ImageArchive | None:
    """The bundle archive meant to hold ``image``: the one its ``archive`` field names, else by digest.

    Only a candidate: a digest an archive claims (or a blob named after it) is proven by hashing
    before anything is scanned. A reference that is not pinned by digest matches by tag only.
    """
    named = getattr(image, "archive", None)
    if isinstance(named, str) and named:
        wanted = f"bundle:{named.removeprefix('./')}"
        return next((a for a in archives if a.origin == wanted), None)
    digest = ref_digest(image.ref)
    for archive in archives:
        if digest is not None and (digest in archive.digests or digest.removeprefix("sha256:") in archive.blobs):
            return archive
        if digest is None and image.ref in archive.tags:
            return archive
    return None


def repo_digest_proves(ref: str, repo_digests: Sequence[str]) -> bool:
    """Whether one of an engine image's ``RepoDigests`` is ``ref``'s repository and pinned digest, exactly.

    The engine records a repository digest only for a manifest it pulled or pushed and verified; an
    image id is the config's digest, which no registry serves and a local build can take on.
    Repositories are compared as Docker resolves them (``nginx`` is ``docker.io/library/nginx``).
    """
    from plugingate.capabilities.images import normalized_repository

    digest = ref_digest(ref)
    if digest is None:
        return False
    repository = normalized_repository(ref)
    for entry in repo_digests:
        repo, sep, found = str(entry).rpartition("@")
        if sep and found == digest and normalized_repository(repo) == repository:
            return True
    return False


def save_from_engine(
    images: Sequence[ImageRef],
    dest: Path,
    *,
    timeout: float = 600.0,
    max_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    pull: bool = False,
) -> tuple[list[ImageArchive], list[SkippedImage], list[UnprovenImage]]:
    """Save each image from the Docker engine the environment names (``DOCKER_HOST``) into ``dest``.

    An image pinned by digest is accepted only when one of the engine image's repository digests is
    the reference, exactly (``repo_digest_proves``); an image the engine has under that id or tag but
    not that repository digest is unproven, never saved. An image the engine lacks is pulled only
    when ``pull`` (a gate should not reach registries behind the caller's back). With no engine
    answering, every image is skipped with the reason in plain words (the policy's onSkippedImage
    decides); an engine that answers and then stops raises ``EngineUnavailableError`` (exit 3: the
    check could not be made).
    """
    if not images:
        return [], [], []
    try:
        client = connect(timeout)
    except EngineUnavailableError as exc:
        reason = f"{exc}; {WHAT_TO_DO}"
        return [], [SkippedImage(i.name, i.ref, reason) for i in images], []
    # NOTE: imported after connect(), which words a missing docker package as it words a missing engine.
    import docker.errors
    import requests

    saved: list[ImageArchive] = []
    skipped: list[SkippedImage] = []
    unproven: list[UnprovenImage] = []
    dest.mkdir(parents=True, exist_ok=True)
    try:
        for number, image in enumerate(images):
            # NOTE: the SDK's API errors (ImageNotFound, …) are requests HTTPErrors too, so they are caught
            # first: the engine answered. Any other requests error means it stopped answering after the ping;
            # nothing more can be learnt from it, and skipping silently would hide that the check was not made.
            try:
                found = _engine_image(client, image.ref, pull=pull)
            except docker.errors.DockerException as exc:
                what = "pulling it failed" if pull else "the Docker engine has no such image (not pulled)"
                skipped.append(SkippedImage(image.name, image.ref, f"{what}: {str(exc)[:300]}"))
                continue
            except requests.exceptions.RequestException as exc:
                raise EngineUnavailableError(
                    f"the Docker engine stopped answering while looking up {image.ref}: {explain(exc)}"
                ) from exc
            digest = ref_digest(image.ref)
            repo_digests = [str(d) for d in found.attrs.get("RepoDigests") or []]
            if digest is not None and not repo_digest_proves(image.ref, repo_digests):
                unproven.append(
                    UnprovenImage(
                        image.name,
                        image.ref,
                        digest,
                        f"the engine's image {found.id} has the repository digests {repo_digests or 'none'}; "
                        f"expected {image.ref} among them (an image id is the config's digest, not the registry "
                        "manifest's: push the image and pin the digest the registry returns)",
                    )
                )
                continue
            target = dest / f"image-{number}.tar"
            written = 0
            try:
                with target.open("wb") as out:
                    for chunk in found.save(named=False):
                        written += len(chunk)
                        if written > max_bytes:
                            raise ValueError(f"image is larger than {max_bytes} bytes")
                        out.write(chunk)
            except docker.errors.DockerException as exc:
                target.unlink(missing_ok=True)
                skipped.append(SkippedImage(image.name, image.ref, f"saving the image failed: {exc}"))
                continue
            except requests.exceptions.RequestException as exc:
                # NOTE: before OSError, which requests' errors also are.
                target.unlink(missing_ok=True)
                raise EngineUnavailableError(
                    f"the Docker engine stopped answering while saving {image.ref}: {explain(exc)}"
                ) from exc
            except (ValueError, OSError) as exc:
                target.unlink(missing_ok=True)
                skipped.append(SkippedImage(image.name, image.ref, f"saving the image failed: {exc}"))
                continue
            saved.append(
                ImageArchive(
                    path=target,
                    kind=ArchiveKind.DOCKER,
                    origin="docker engine",
                    name=image.name,
                    ref=image.ref,
                    digests=frozenset({str(found.id), *(d.rpartition("@")[2] for d in repo_digests)}),
                    tags=frozenset(),
                    proven=digest,
                )
            )
    finally:
        client.close()
    return saved, skipped, unproven


def engine_image_ids(images: Sequence[ImageRef], *, timeout: float = 30.0) -> dict[str, str]:
    """The engine's image id and repository digests of each image it has (``ref -> text``).

    Used for cache keys: an image rebuilt under the same tag gets a new id, and an image pushed or
    pulled anew new repository digests, and so a new key.
    """
    if not images:
        return {}
    try:
        client = connect(timeout)
    except EngineUnavailableError:  # NOTE: no engine: no ids
        return {}
    ids: dict[str, str] = {}
    try:
        for image in images:
            try:
                found = _engine_image(client, image.ref, pull=False)
            except Exception:  # noqa: S112 - an image the engine lacks has no id
                continue
            repo_digests = sorted(str(d) for d in found.attrs.get("RepoDigests") or [])
            ids[image.ref] = " ".join([str(found.id), *repo_digests])
    finally:
        client.close()
    return ids


def _engine_image(client: Any, ref: str, *, pull: bool) -> Any:
    import docker.errors

    images = client.images
    try:
        return images.get(ref)
    except docker.errors.ImageNotFound:
        digest = ref_digest(ref)
        if digest is not None:
            # NOTE: an image built locally has no repository digest; its id is its config digest.
            try:
                return images.get(digest)
            except docker.errors.ImageNotFound:
                pass
        if not pull:
            raise
        return images.pull(ref)
