"""Proving that an image archive holds the image a reference pins, by hashing, never by its claims.

An OCI layout names its images in ``index.json`` and a ``docker save`` archive in ``manifest.json``:
both are claims anyone can write. What the cluster runs is the image whose manifest (or index) blob
hashes to the pinned digest, and the config and layers that manifest lists by digest. So the proof
reads ``blobs/sha256/<pinned hex>``, hashes it to the pinned digest, parses it (for an index, picks
the platform manifest and hashes that too), and hashes every blob it references as it copies them
into a fresh OCI layout: syft is then given only that rebuilt layout, made of verified blobs, and
never the archive whose other files (another ``index.json`` entry, another ``manifest.json`` entry)
could make it read another image. A ``docker save`` archive (Docker < 25) carries no registry
digest at all and is refused unless it also holds the manifest blob, as Docker 25+ writes it.

Bounded throughout: manifests at most 4 MiB, at most 1,024 layers, and the blobs together at most
the image size limit; a blob is streamed in 1 MiB chunks and never held whole.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import stat
import tarfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

_CHUNK = 1024 * 1024
_MAX_JSON_BYTES = 4 * 1024 * 1024
_MAX_LAYERS = 1024
_MAX_MEMBERS = 100_000
DEFAULT_MAX_BYTES = 8 * 1024 * 1024 * 1024
_DIGEST = re.compile(r"sha256:([a-f0-9]{64})")

INDEX_TYPES = frozenset(
    {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
)
MANIFEST_TYPES = frozenset(
    {"application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"}
)
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
# NOTE: the platform picked from an index when it holds several images: the one clusters run most.
DEFAULT_PLATFORM = "linux/amd64"


class ImageProofError(Exception):
    """The archive does not prove the pinned digest; ``str(exc)`` says what was found and expected."""


@dataclass(frozen=True, slots=True)
class ProvenImage:
    """A pinned digest proven by an archive's blobs.

    ``digest`` is the pinned one (a manifest's or an index's); ``manifest`` the platform manifest
    scanned (the same digest for a single-platform image); ``layout`` the rebuilt OCI layout of
    verified blobs that syft reads (``None`` when only proven); ``hashed_bytes`` what was hashed.
    """

    digest: str
    manifest: str
    config: str
    platform: str
    layers: int
    hashed_bytes: int
    layout: Path | None

    def to_dict(self) -> dict[str, object]:
        """As in ``report.json`` and the result cache."""
        return {
            "digest": self.digest,
            "manifest": self.manifest,
            "config": self.config,
            "platform": self.platform,
            "layers": self.layers,
            "hashedBytes": self.hashed_bytes,
        }


class _Source(Protocol):
    """Regular files of an image archive by their normalised path."""

    def has(self, name: str) -> bool: ...

    def region(self, name: str) -> tuple[int, int, int] | None: ...

    def open(self, name: str) -> IO[bytes]: ...


class _TarSource:
    """An OCI or docker archive (``.tar``): members by normalised name, links refused when read."""

    def __init__(self, tar: tarfile.TarFile, where: str) -> None:
        self.tar = tar
        self.where = where
        self.members: dict[str, tarfile.TarInfo] = {}
        for count, member in enumerate(tar):
            if count >= _MAX_MEMBERS:
                raise ImageProofError(f"{where} has more than {_MAX_MEMBERS} entries")
            name = _normalise(member.name)
            if name is None:
                if member.isfile() or member.issym() or member.islnk():
                    raise ImageProofError(f"{where} has an entry outside the archive: {member.name!r}")
                continue
            if name in self.members:
                # NOTE: two entries for one path: extractors keep the first or the last one.
                raise ImageProofError(f"{where} has two entries for {name!r}; expected each path once")
            self.members[name] = member

    def has(self, name: str) -> bool:
        return name in self.members

    def region(self, name: str) -> tuple[int, int, int] | None:
        """``(fd, offset, size)`` of a regular, non-sparse member's bytes in an uncompressed tar file."""
        member = self.members[name]
        fileobj = self.tar.fileobj
        if not member.isreg() or member.issparse() or fileobj is None or not hasattr(fileobj, "fileno"):
            return None
        try:
            return int(fileobj.fileno()), int(member.offset_data), int(member.size)
        except (OSError, ValueError, io.UnsupportedOperation):
            return None

    def open(self, name: str) -> IO[bytes]:
        member = self.members[name]
        if member.issym() or member.islnk():
            raise ImageProofError(
                f"{self.where}: {name} is a link to {member.linkname!r}; expected the blob itself (a regular file)"
            )
        if not member.isfile():
            raise ImageProofError(f"{self.where}: {name} is not a regular file")
        handle = self.tar.extractfile(member)
        if handle is None:
            raise ImageProofError(f"{self.where}: {name} cannot be read")
        return handle


class _DirSource:
    """An OCI layout folder: files opened without following a symbolic link anywhere under it."""

    def __init__(self, root: Path, where: str) -> None:
        self.root = root
        self.where = where

    def has(self, name: str) -> bool:
        return os.path.lexists(self.root / name)

    def region(self, name: str) -> tuple[int, int, int] | None:
        """Never: a folder's blob is streamed through its no-follow handle."""
        return None

    def open(self, name: str) -> IO[bytes]:
        path = self.root
        for part in name.split("/"):
            path = path / part
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                raise ImageProofError(
                    f"{self.where}: {path.relative_to(self.root)} is a symbolic link to {str(path.readlink())!r}; "
                    "expected the blob itself (a regular file)"
                )
        if not stat.S_ISREG(path.lstat().st_mode):
            raise ImageProofError(f"{self.where}: {name} is not a regular file")
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        return os.fdopen(fd, "rb")


def _normalise(name: str) -> str | None:
    """A member's path as extractors resolve it; ``None`` for the root or a path leaving the archive."""
    if name.startswith("/"):
        return None
    norm = posixpath.normpath(name)
    if norm in (".", "") or norm == ".." or norm.startswith("../"):
        return None
    return norm


@contextmanager
def _source(archive: Path, where: str) -> Iterator[_Source]:
    if archive.is_dir() and not archive.is_symlink():
        yield _DirSource(archive, where)
        return
    try:
        with tarfile.open(archive, "r:") as tar:
            yield _TarSource(tar, where)
    except (tarfile.TarError, OSError) as exc:
        raise ImageProofError(f"{where} cannot be read as a tar archive: {exc}") from exc


def _blob_name(digest: str) -> str:
    return f"blobs/sha256/{digest.removeprefix('sha256:')}"


def _descriptor(value: object, what: str) -> tuple[str, int, str]:
    """``(digest, size, mediaType)`` of a well-formed sha256 descriptor."""
    if not isinstance(value, Mapping):
        raise ImageProofError(f"{what} is not a descriptor object")
    digest, size, media = value.get("digest"), value.get("size"), value.get("mediaType", "")
    if not isinstance(digest, str) or _DIGEST.fullmatch(digest) is None:
        raise ImageProofError(f"{what} has digest {digest!r}; expected sha256:<64 lowercase hex>")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ImageProofError(f"{what} has size {size!r}; expected a byte count")
    if not isinstance(media, str):
        raise ImageProofError(f"{what} has a mediaType that is not a string")
    return digest, size, media


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        # NOTE: Go's encoding/json keeps the last of two equal keys, other readers the first.
        raise ValueError(f"a key appears twice: {sorted({k for k in keys if keys.count(k) > 1})}")
    return dict(pairs)


class _Prover:
    """One proof: reads blobs from a source, hashing each; copies them to ``layout`` when given."""

    def __init__(self, source: _Source, where: str, layout: Path | None, max_bytes: int) -> None:
        self.source = source
        self.where = where
        self.layout = layout
        self.budget = max_bytes
        self.hashed = 0

    def _candidates(self, digest: str, alias: str | None) -> list[str]:
        names = [n for n in (_blob_name(digest), alias) if n is not None and self.source.has(n)]
        return list(dict.fromkeys(names))

    def blob(self, digest: str, size: int, what: str, *, alias: str | None = None, keep: bool = True) -> bytes | None:
        """Hash the blob of ``digest`` (and any other path that is meant to hold it); bytes if small.

        Every path that holds the blob for some reader (``blobs/sha256/<hex>``, a ``manifest.json``
        layer path) must hash to the digest: one reader must not get other bytes than another.
        """
        names = self._candidates(digest, alias)
        if not names:
            raise ImageProofError(
                f"{self.where}: the blob of {what} ({digest}) is missing; expected {_blob_name(digest)} in the archive"
            )
        if size > self.budget:
            raise ImageProofError(f"{self.where}: {what} ({digest}) is {size} bytes, over the image size limit")
        small: bytes | None = None
        for number, name in enumerate(names):
            copy = keep and number == 0 and self.layout is not None
            small = self._hash(name, digest, size, what, copy=copy, capture=size <= _MAX_JSON_BYTES) or small
        self.budget -= size
        return small

    def _hash(self, name: str, digest: str, size: int, what: str, *, copy: bool, capture: bool) -> bytes | None:
        sha = hashlib.sha256()
        read = 0
        kept = bytearray() if capture else None
        target = tmp = None
        if copy and self.layout is not None:
            target = self.layout / _blob_name(digest)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
        region = self.source.region(name) if tmp is not None and size > _MAX_JSON_BYTES else None
        if region is not None and tmp is not None and region[2] == size:
            # NOTE: a large layer is copied by the kernel (copy_file_range: no trip through Python,
            # a reflink where the file system has them) and the copy is hashed: what is hashed is
            # then the very file syft reads.
            _copy_region(region, tmp, size)
            opened: IO[bytes] = tmp.open("rb")
            sink: Any = _Null()
        else:
            opened = self.source.open(name)
            sink = tmp.open("wb") if tmp is not None else _Null()
        with opened as handle, sink as out:
            while chunk := handle.read(_CHUNK):
                read += len(chunk)
                if read > size:
                    break
                sha.update(chunk)
                out.write(chunk)
                if kept is not None:
                    kept += chunk
        self.hashed += read
        if read != size or "sha256:" + sha.hexdigest() != digest:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            found = f"{read} bytes" if read != size else f"sha256:{sha.hexdigest()}"
            expected = f"{size} bytes" if read != size else digest
            raise ImageProofError(
                f"{self.where}: {name}, the blob of {what}, does not hash to its descriptor: found {found}, "
                f"expected {expected}"
            )
        if tmp is not None and target is not None:
            tmp.replace(target)
        return bytes(kept) if kept is not None else None

    def json_blob(self, digest: str, size: int, what: str, alias: str | None = None) -> dict[str, Any]:
        """A small JSON blob (manifest, index, config), hashed, parsed with duplicate keys refused."""
        if size > _MAX_JSON_BYTES:
            raise ImageProofError(
                f"{self.where}: {what} ({digest}) is {size} bytes; expected at most {_MAX_JSON_BYTES}"
            )
        data = self.blob(digest, size, what, alias=alias)
        try:
            doc = json.loads(data or b"", object_pairs_hook=_no_duplicates)
        except ValueError as exc:
            raise ImageProofError(f"{self.where}: {what} ({digest}) is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise ImageProofError(f"{self.where}: {what} ({digest}) is not a JSON object")
        return doc


def _copy_region(region: tuple[int, int, int], target: Path, size: int) -> None:
    """Copy ``size`` bytes at ``offset`` of ``fd`` into ``target`` in the kernel; fall back to reads."""
    fd, offset, _ = region
    with target.open("wb") as out:
        done = 0
        try:
            while done < size:
                moved = os.copy_file_range(fd, out.fileno(), size - done, offset + done)
                if moved == 0:
                    break
                done += moved
        except OSError:
            pass
        while done < size:
            chunk = os.pread(fd, min(_CHUNK, size - done), offset + done)
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)


class _Null:
    def __enter__(self) -> _Null:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def write(self, _: bytes) -> None:
        return None


def _kind(doc: Mapping[str, Any], declared: str, where: str, digest: str) -> str:
    """``index`` or ``manifest``: the blob's own mediaType, agreeing with the descriptor's and its shape."""
    media = doc.get("mediaType", "")
    if declared and media and declared != media:
        raise ImageProofError(f"{where}: {digest} is a {media} but is referenced as a {declared}")
    media = media or declared
    shaped_index, shaped_manifest = "manifests" in doc, "config" in doc or "layers" in doc
    if shaped_index and shaped_manifest:
        raise ImageProofError(f"{where}: {digest} has both manifests and layers; expected an index or a manifest")
    if media in INDEX_TYPES or (not media and shaped_index):
        if shaped_manifest:
            raise ImageProofError(f"{where}: {digest} is an index with layers")
        return "index"
    if media in MANIFEST_TYPES or (not media and shaped_manifest):
        if shaped_index:
            raise ImageProofError(f"{where}: {digest} is a manifest with manifests")
        return "manifest"
    raise ImageProofError(f"{where}: {digest} has media type {media!r}; expected an OCI or Docker image manifest/index")


def _platform(entry: Mapping[str, Any]) -> str:
    plat = entry.get("platform")
    if not isinstance(plat, Mapping):
        return ""
    text = f"{plat.get('os', '')}/{plat.get('architecture', '')}"
    return f"{text}/{plat['variant']}" if plat.get("variant") else text


def _pick(index: Mapping[str, Any], where: str, digest: str, platform: str) -> tuple[str, int, str, str]:
    entries = index.get("manifests")
    if not isinstance(entries, list) or not entries:
        raise ImageProofError(f"{where}: the index {digest} lists no manifest")
    images: list[tuple[str, int, str, str]] = []
    for number, entry in enumerate(entries):
        d, size, media = _descriptor(entry, f"manifests[{number}] of the index {digest}")
        annotations = entry.get("annotations") if isinstance(entry, Mapping) else None
        if isinstance(annotations, Mapping) and "vnd.docker.reference.type" in annotations:
            continue  # NOTE: BuildKit's attestation manifests describe an image; they are not one.
        images.append((d, size, media, _platform(entry)))
    if len(images) == 1:
        return images[0]
    chosen = [i for i in images if i[3] == platform or i[3].startswith(platform + "/")]
    if not chosen:
        found = ", ".join(sorted({i[3] or "no platform" for i in images}))
        raise ImageProofError(f"{where}: the index {digest} has no {platform} image (it has: {found})")
    return chosen[0]


def _docker_entry(source: _Source, where: str, config: str) -> tuple[str, list[str]] | None:
    """The config and layer paths of the ``manifest.json`` entry of ``config``; ``None`` without one.

    ``docker load`` reads manifest.json, so it must name the proven image: the entry whose Config is
    the proven config, else the archive holds another image for docker.
    """
    if not source.has("manifest.json"):
        return None
    with source.open("manifest.json") as handle:
        raw = handle.read(_MAX_JSON_BYTES + 1)
    try:
        entries = json.loads(raw, object_pairs_hook=_no_duplicates) if len(raw) <= _MAX_JSON_BYTES else None
    except ValueError as exc:
        raise ImageProofError(f"{where}: manifest.json is not valid JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise ImageProofError(f"{where}: manifest.json is not a list of images (at most {_MAX_JSON_BYTES} bytes)")
    hexpart = config.removeprefix("sha256:")
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        path = _normalise(str(entry.get("Config", "")))
        if path in (f"blobs/sha256/{hexpart}", f"{hexpart}.json"):
            layers = entry.get("Layers")
            if not isinstance(layers, list) or not all(isinstance(p, str) for p in layers):
                raise ImageProofError(f"{where}: manifest.json's entry for {config} has no list of Layers")
            return path, [_normalise(p) or p for p in layers]
    named = ", ".join(str(e.get("Config")) for e in entries if isinstance(e, Mapping)) or "nothing"
    raise ImageProofError(
        f"{where}: manifest.json (what docker load reads) names {named}; expected the proven image's config {config}"
    )


def _check_index_json(source: _Source, where: str, digest: str) -> None:
    """``index.json``, when present, must list the pinned digest: else the layout holds another image."""
    if not source.has("index.json"):
        return
    with source.open("index.json") as handle:
        raw = handle.read(_MAX_JSON_BYTES + 1)
    try:
        index = json.loads(raw, object_pairs_hook=_no_duplicates) if len(raw) <= _MAX_JSON_BYTES else None
    except ValueError as exc:
        raise ImageProofError(f"{where}: index.json is not valid JSON: {exc}") from exc
    entries = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(entries, list):
        raise ImageProofError(f"{where}: index.json has no manifests list (at most {_MAX_JSON_BYTES} bytes)")
    named = [e.get("digest") for e in entries if isinstance(e, Mapping)]
    if digest not in named:
        listed = ", ".join(str(d) for d in named) or "nothing"
        raise ImageProofError(f"{where}: index.json names {listed}; expected the pinned {digest} (another image)")


def prove_archive(
    archive: Path,
    digest: str,
    *,
    where: str,
    layout: Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    platform: str = DEFAULT_PLATFORM,
) -> ProvenImage:
    """Prove that ``archive`` (an OCI layout folder, OCI archive or docker save archive) holds ``digest``.

    With ``layout``, the verified blobs are written there as an OCI layout naming only the proven
    platform manifest, for syft to read (``oci-dir:``). ``where`` names the archive in messages.
    Raises ``ImageProofError`` with what was found and what was expected.
    """
    if _DIGEST.fullmatch(digest) is None:
        raise ImageProofError(f"{where}: the pinned digest {digest!r} is not sha256:<64 lowercase hex>")
    if layout is not None:
        layout.mkdir(parents=True, exist_ok=True)
    with _source(archive, where) as source:
        if not source.has(_blob_name(digest)):
            if source.has("manifest.json") and not source.has("index.json"):
                raise ImageProofError(
                    f"{where} is a docker save archive without the manifest blob {_blob_name(digest)}: it carries "
                    f"no registry digest, so nothing proves it is {digest}; ship an OCI layout (docker save of "
                    "Docker 25+, skopeo copy oci-archive:, crane pull --format=oci) that holds it"
                )
            raise ImageProofError(
                f"{where} does not hold the pinned image: {_blob_name(digest)} is missing (another image, or an "
                "index.json naming a blob that is not there)"
            )
        _check_index_json(source, where, digest)
        prover = _Prover(source, where, layout, max_bytes)
        size = _blob_size(source, _blob_name(digest))
        top = prover.json_blob(digest, size, f"the pinned image {digest}")
        manifest_digest, manifest_size, manifest_media, plat = digest, size, str(top.get("mediaType", "")), ""
        doc = top
        if _kind(top, "", where, digest) == "index":
            manifest_digest, manifest_size, manifest_media, plat = _pick(top, where, digest, platform)
            doc = prover.json_blob(manifest_digest, manifest_size, f"the {plat or 'only'} manifest of {digest}")
            if _kind(doc, manifest_media, where, manifest_digest) != "manifest":
                raise ImageProofError(f"{where}: {manifest_digest} in the index {digest} is not an image manifest")
        config, config_size, _ = _descriptor(doc.get("config"), f"the config of {manifest_digest}")
        layers = doc.get("layers")
        if not isinstance(layers, list) or len(layers) > _MAX_LAYERS:
            raise ImageProofError(f"{where}: {manifest_digest} has no list of at most {_MAX_LAYERS} layers")
        # NOTE: what docker load reads (manifest.json's paths) is hashed too, also where the same
        # blob is under blobs/sha256/: the two readers must get the same bytes.
        entry = _docker_entry(source, where, config)
        config_alias, docker_layers = entry if entry is not None else (None, None)
        if docker_layers is not None and len(docker_layers) != len(layers):
            raise ImageProofError(
                f"{where}: manifest.json lists {len(docker_layers)} layers for {config}; the manifest "
                f"{manifest_digest} lists {len(layers)}"
            )
        config_doc = prover.json_blob(config, config_size, "the image config", config_alias)
        if not plat:
            plat = f"{config_doc.get('os', '')}/{config_doc.get('architecture', '')}"
        for number, layer in enumerate(layers):
            d, s, _ = _descriptor(layer, f"layers[{number}] of {manifest_digest}")
            alias = docker_layers[number] if docker_layers is not None else None
            prover.blob(d, s, f"layer {number} of {manifest_digest}", alias=alias)
    if layout is not None:
        media = manifest_media or _OCI_MANIFEST
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": media, "digest": manifest_digest, "size": manifest_size}],
        }
        (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}', encoding="utf-8")
        (layout / "index.json").write_text(json.dumps(index), encoding="utf-8")
    return ProvenImage(
        digest=digest,
        manifest=manifest_digest,
        config=config,
        platform=plat,
        layers=len(layers),
        hashed_bytes=prover.hashed,
        layout=layout,
    )


def _blob_size(source: _Source, name: str) -> int:
    """The size a blob's own entry declares (the pinned blob has no descriptor but its digest)."""
    if isinstance(source, _TarSource):
        return int(source.members[name].size)
    if isinstance(source, _DirSource):
        return (source.root / name).lstat().st_size
    raise TypeError(f"unknown image source {source!r}")
