"""The SBOM step: syft on the unpacked bundle and on every image it runs, one SBOM of each format.

syft catalogues the bundle once, into its own JSON (``sbom.syft.json``); the CycloneDX and SPDX
documents are converted from it. A caller that wants to scan early (the gate) is told the moment a
scannable SBOM exists, so grype runs while the conversion does.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from plugingate.bundle.digest import sha256_file
from plugingate.cache import ResultCache, cache_key
from plugingate.findings import Finding, Location, Severity
from plugingate.sbom import rules
from plugingate.sbom.images import (
    ArchiveKind,
    ImageArchive,
    ImageRef,
    SkippedImage,
    UnprovenImage,
    engine_image_ids,
    find_image_archives,
    layout_dir,
    match_archive,
    ref_digest,
    save_from_engine,
)
from plugingate.sbom.merge import count_packages, merge_cyclonedx, merge_spdx
from plugingate.sbom.proof import ImageProofError, prove_archive
from plugingate.sbom.syft import SbomFormat, convert_sbom, read_sbom, run_syft
from plugingate.tools import Tool, ToolRunner

CYCLONEDX_NAME = "sbom.cdx.json"
SPDX_NAME = "sbom.spdx.json"
SYFT_NAME = "sbom.syft.json"
_OUTPUT_NAMES = {name: name for name in (CYCLONEDX_NAME, SPDX_NAME, SYFT_NAME)}
# NOTE: part of the cache key: entries written before sbom.syft.json was kept lack it (2), entries
# written before image digests were proven hold images scanned on their archive's word (3).
_CACHE_LAYOUT = 3


class OnSkippedImage(StrEnum):
    """What an image of ``spec.images`` that could not be scanned does (policy ``onSkippedImage``)."""

    DENY = "deny"
    WARN = "warn"


@dataclass(frozen=True, slots=True)
class ScannedImage:
    """An image whose packages are in the SBOM: its name, reference and where it came from.

    ``digest`` is the pinned digest the image was proven to be (its archive's blobs hashed to it, or
    the engine's repository digest): only these are named in the attestation. ``None`` for an archive
    no ``spec.images`` entry pins, or an image referenced by tag.
    """

    name: str
    ref: str
    origin: str
    packages: int
    digest: str | None = None

    def to_dict(self) -> dict[str, str | int]:
        """As in ``report.json`` and the result cache."""
        found: dict[str, str | int] = {
            "name": self.name,
            "ref": self.ref,
            "origin": self.origin,
            "packages": self.packages,
        }
        if self.digest is not None:
            found["digest"] = self.digest
        return found


@dataclass(frozen=True, slots=True)
class SbomResult:
    """What the SBOM step produced.

    ``sha256`` is the CycloneDX file's digest (the attestation's ``sbom.sha256``); ``syft_path`` is
    syft's own JSON of the bundle's files (images are only in the CycloneDX and SPDX documents);
    ``cached`` says the files came from the result cache and syft did not run.
    """

    cyclonedx_path: Path
    spdx_path: Path
    syft_path: Path
    sha256: str
    packages: int
    images: tuple[ScannedImage, ...]
    skipped_images: tuple[SkippedImage, ...]
    findings: tuple[Finding, ...]
    syft_version: str
    cached: bool
    seconds: float
    max_rss_kib: int
    convert_max_rss_kib: int = 0
    unproven_images: tuple[UnprovenImage, ...] = ()
    proof_seconds: float = 0.0
    proof_bytes: int = 0

    @property
    def proven_digests(self) -> dict[str, str]:
        """``ref -> sha256:<hex>`` of every image proven to be its pinned digest (the attestable ones)."""
        return {i.ref: i.digest for i in self.images if i.digest is not None}

    @property
    def scan_input(self) -> Path:
        """The SBOM grype reads: syft's own JSON, or the merged CycloneDX when images were scanned."""
        return self.cyclonedx_path if self.images else self.syft_path

    def tool_versions(self) -> dict[str, str]:
        """The tool this step ran, for the gate's record of versions."""
        return {"syft": self.syft_version}

    def to_dict(self) -> dict[str, object]:
        """The step's summary as it appears in ``report.json``."""
        return {
            "cyclonedx": self.cyclonedx_path.name,
            "spdx": self.spdx_path.name,
            "syft": self.syft_path.name,
            "sha256": self.sha256,
            "packages": self.packages,
            "images": [i.to_dict() for i in self.images],
            "skippedImages": [s.to_dict() for s in self.skipped_images],
            "unprovenImages": [u.to_dict() for u in self.unproven_images],
            "imageProof": {"seconds": round(self.proof_seconds, 4), "hashedBytes": self.proof_bytes},
            "syftVersion": self.syft_version,
            "cached": self.cached,
        }


def generate_sbom(
    root: Path,
    *,
    name: str,
    version: str,
    out_dir: Path,
    images: Sequence[ImageRef] = (),
    runner: ToolRunner,
    bundle_digest: str | None = None,
    cache: ResultCache | None = None,
    on_skipped_image: OnSkippedImage = OnSkippedImage.DENY,
    use_docker: bool = True,
    pull_images: bool = False,
    timeout: float | None = None,
    on_scan_input: Callable[[Path], None] | None = None,
) -> SbomResult:
    """Catalogue the unpacked bundle at ``root`` and its images; write ``sbom.{cdx,spdx,syft}.json``.

    Images come from image archives inside the bundle (``*.tar``: docker-archive or oci-archive)
    and, for each image of ``images`` (``spec.images``) that no archive holds, from the Docker
    engine when ``use_docker`` and one answers (pulled first only when ``pull_images``). The
    outputs are replaced atomically. With a ``cache`` and the ``bundle_digest``, an unchanged
    bundle is answered from the cache without running syft. ``on_scan_input`` is called with
    ``SbomResult.scan_input`` as soon as that file is complete: for a bundle without images, before
    the conversion into CycloneDX and SPDX starts.
    """
    # NOTE: syft runs in its own working folder: a relative path would name another place there.
    root, out_dir = root.absolute(), out_dir.absolute()
    import time

    started = time.monotonic()
    syft_version = runner.info(Tool.SYFT).version
    archives = find_image_archives(root)
    for image in images:
        named = getattr(image, "archive", None)
        if isinstance(named, str) and named and match_archive(image, archives) is None:
            found_dir = layout_dir(root, named)
            archives += [found_dir] if found_dir is not None else []
    owners = [(image, match_archive(image, archives)) for image in images]
    lines: dict[str, int | None] = {image.ref: getattr(image, "line", None) for image in images}
    # NOTE: an image whose spec.images entry names an archive is taken from that archive only.
    broken = [
        SkippedImage(
            image.name,
            image.ref,
            f"the archive {getattr(image, 'archive', '')!r} it names is not a docker-archive or oci-archive "
            "(.tar) or an OCI layout folder in the bundle",
        )
        for image, archive in owners
        if archive is None and getattr(image, "archive", None)
    ]
    pending = [image for image, archive in owners if archive is None and not getattr(image, "archive", None)]
    claimed = [(image, archive) for image, archive in owners if archive is not None]
    key = None
    if cache is not None and bundle_digest:
        key = cache_key(
            "sbom",
            {
                "bundle": bundle_digest,
                "syft": syft_version,
                "name": name,
                "version": version,
                "useDocker": use_docker,
                "engineImages": engine_image_ids(pending) if use_docker else {},
                "pending": sorted(i.ref for i in pending),
                "layout": _CACHE_LAYOUT,
            },
        )
        entry = cache.get(key)
        if entry is not None:
            paths = cache.restore(entry, out_dir, _OUTPUT_NAMES)
            meta = entry.meta
            hit_scanned = tuple(
                ScannedImage(
                    str(i["name"]),
                    str(i["ref"]),
                    str(i["origin"]),
                    int(i["packages"]),
                    str(i["digest"]) if i.get("digest") else None,
                )
                for i in _dicts(meta.get("images"))
            )
            hit_skipped = tuple(
                SkippedImage(str(i["name"]), str(i["ref"]), str(i["reason"])) for i in _dicts(meta.get("skipped"))
            )
            hit_skipped = (*broken, *hit_skipped)
            hit_unproven = tuple(
                UnprovenImage(str(i["name"]), str(i["ref"]), str(i["digest"]), str(i["reason"]))
                for i in _dicts(meta.get("unproven"))
            )
            hit_packages = int(str(meta.get("packages", 0)))
            hit = SbomResult(
                cyclonedx_path=paths[CYCLONEDX_NAME],
                spdx_path=paths[SPDX_NAME],
                syft_path=paths[SYFT_NAME],
                sha256=sha256_file(paths[CYCLONEDX_NAME]),
                packages=hit_packages,
                images=hit_scanned,
                skipped_images=hit_skipped,
                findings=_findings(hit_packages, hit_scanned, hit_skipped, on_skipped_image, hit_unproven, lines),
                syft_version=syft_version,
                cached=True,
                seconds=time.monotonic() - started,
                max_rss_kib=0,
                unproven_images=hit_unproven,
            )
            if on_scan_input is not None:
                on_scan_input(hit.scan_input)
            return hit

    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sbom-", dir=out_dir))
    engine_dir = Path(tempfile.mkdtemp(prefix="plugingate-images-", dir=runner.work_root))
    try:
        proof_started = time.monotonic()
        owned, unproven, proof_bytes = _prove_claimed(claimed, engine_dir / "proven")
        proof_seconds = time.monotonic() - proof_started
        main_cdx, main_spdx, syft_out = staging / CYCLONEDX_NAME, staging / SPDX_NAME, out_dir / SYFT_NAME
        run = run_syft(
            runner,
            f"dir:{root.resolve()}",
            outputs={SbomFormat.SYFT: staging / SYFT_NAME},
            name=name,
            version=version,
            timeout=timeout,
        )
        max_rss = run.max_rss_kib
        (staging / SYFT_NAME).replace(syft_out)
        saved: list[ImageArchive] = []
        skipped: list[SkippedImage] = []
        if pending and use_docker:
            saved, skipped, engine_unproven = save_from_engine(pending, engine_dir, pull=pull_images)
            unproven += engine_unproven
        elif pending:
            skipped = [SkippedImage(i.name, i.ref, "Docker engine use is turned off") for i in pending]
        # NOTE: an archive some spec.images entry claims is scanned only as that image (proven when
        # pinned); the others, which no attestation names, are scanned as they are, after their path.
        unowned = [a for a in archives if a.kind is not ArchiveKind.OCI_DIR and all(a is not c for _, c in claimed)]
        to_scan = [*owned, *unowned, *saved]
        if not to_scan and on_scan_input is not None:
            on_scan_input(syft_out)
        converted = convert_sbom(
            runner, syft_out, outputs={SbomFormat.CYCLONEDX: main_cdx, SbomFormat.SPDX: main_spdx}, timeout=timeout
        )
        cdx_docs: list[tuple[str, str, dict[str, Any]]] = []
        spdx_docs: list[tuple[str, str, dict[str, Any]]] = []
        scanned: list[ScannedImage] = []
        for number, archive in enumerate(to_scan):
            cdx, spdx = staging / f"image-{number}.cdx.json", staging / f"image-{number}.spdx.json"
            run = run_syft(
                runner,
                f"{archive.kind}:{archive.path}",
                outputs={SbomFormat.CYCLONEDX: cdx, SbomFormat.SPDX: spdx},
                name=f"{name}/{archive.name}",
                version=archive.ref.rpartition("@")[2] or version,
                timeout=timeout,
            )
            max_rss = max(max_rss, run.max_rss_kib)
            cdx_doc = read_sbom(cdx)
            cdx_docs.append((archive.name, archive.ref, cdx_doc))
            spdx_docs.append((archive.name, archive.ref, read_sbom(spdx)))
            scanned.append(
                ScannedImage(archive.name, archive.ref, archive.origin, count_packages(cdx_doc), archive.proven)
            )
        cdx_doc = read_sbom(main_cdx)
        if cdx_docs:
            cdx_doc = merge_cyclonedx(cdx_doc, cdx_docs)
            main_cdx.write_text(json.dumps(cdx_doc, indent=1), encoding="utf-8")
            main_spdx.write_text(json.dumps(merge_spdx(read_sbom(main_spdx), spdx_docs), indent=1), encoding="utf-8")
        packages = count_packages(cdx_doc)
        cdx_out, spdx_out = out_dir / CYCLONEDX_NAME, out_dir / SPDX_NAME
        main_cdx.replace(cdx_out)
        main_spdx.replace(spdx_out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(engine_dir, ignore_errors=True)
    scanned_t, skipped_t, unproven_t = tuple(scanned), (*broken, *skipped), tuple(unproven)
    if cache is not None and key is not None:
        cache.put(
            key,
            {CYCLONEDX_NAME: cdx_out, SPDX_NAME: spdx_out, SYFT_NAME: syft_out},
            {
                "packages": packages,
                "images": [i.to_dict() for i in scanned_t],
                "skipped": [s.to_dict() for s in skipped],
                "unproven": [u.to_dict() for u in unproven_t],
            },
        )
    result = SbomResult(
        cyclonedx_path=cdx_out,
        spdx_path=spdx_out,
        syft_path=syft_out,
        sha256=sha256_file(cdx_out),
        packages=packages,
        images=scanned_t,
        skipped_images=skipped_t,
        findings=_findings(packages, scanned_t, skipped_t, on_skipped_image, unproven_t, lines),
        syft_version=syft_version,
        cached=False,
        seconds=time.monotonic() - started,
        max_rss_kib=max_rss,
        convert_max_rss_kib=converted.max_rss_kib,
        unproven_images=unproven_t,
        proof_seconds=proof_seconds,
        proof_bytes=proof_bytes,
    )
    if to_scan and on_scan_input is not None:
        on_scan_input(result.scan_input)
    return result


def _prove_claimed(
    claimed: Sequence[tuple[ImageRef, ImageArchive]], work: Path
) -> tuple[list[ImageArchive], list[UnprovenImage], int]:
    """Each bundle archive a ``spec.images`` entry claims, as the image syft is to read.

    A pinned image is proven (``prove_archive``) and becomes the OCI layout rebuilt from its verified
    blobs, or an ``UnprovenImage`` with the reason; an image referenced by tag is its archive as it is.
    Returns the archives to scan, the unproven images and the bytes hashed.
    """
    owned: list[ImageArchive] = []
    unproven: list[UnprovenImage] = []
    hashed = 0
    for number, (image, archive) in enumerate(claimed):
        digest = ref_digest(image.ref)
        if digest is None:
            owned.append(
                ImageArchive(
                    path=archive.path,
                    kind=archive.kind,
                    origin=archive.origin,
                    name=image.name,
                    ref=image.ref,
                    digests=archive.digests,
                    tags=archive.tags,
                )
            )
            continue
        layout = work / f"image-{number}"
        try:
            proof = prove_archive(archive.path, digest, where=archive.origin.removeprefix("bundle:"), layout=layout)
        except ImageProofError as exc:
            shutil.rmtree(layout, ignore_errors=True)
            unproven.append(UnprovenImage(image.name, image.ref, digest, str(exc)))
            continue
        except OSError as exc:
            shutil.rmtree(layout, ignore_errors=True)
            unproven.append(UnprovenImage(image.name, image.ref, digest, f"reading {archive.origin} failed: {exc}"))
            continue
        hashed += proof.hashed_bytes
        owned.append(
            ImageArchive(
                path=layout,
                kind=ArchiveKind.OCI_DIR,
                origin=archive.origin,
                name=image.name,
                ref=image.ref,
                digests=frozenset({digest}),
                tags=frozenset(),
                proven=digest,
            )
        )
    return owned, unproven, hashed


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _findings(
    packages: int,
    scanned: tuple[ScannedImage, ...],
    skipped: tuple[SkippedImage, ...],
    on_skipped_image: OnSkippedImage,
    unproven: tuple[UnprovenImage, ...] = (),
    lines: dict[str, int | None] | None = None,
) -> tuple[Finding, ...]:
    found: list[Finding] = []
    for bad in unproven:
        found.append(
            rules.IMAGE_NOT_PROVEN.finding(
                f"image {bad.name} ({bad.ref}) is not proven to be {bad.digest}: {bad.reason}; it was not scanned "
                "and no attestation names it",
                location=Location("plugin.yaml", (lines or {}).get(bad.ref)),
                image=bad.name,
                ref=bad.ref,
            )
        )
    for image in skipped:
        found.append(
            rules.IMAGE_SKIPPED.finding(
                f"image {image.name} ({image.ref}) was not scanned: {image.reason}; expected it in the bundle "
                "as an image archive or from a Docker engine",
                severity=Severity.ERROR if on_skipped_image is OnSkippedImage.DENY else Severity.WARNING,
                location=Location("plugin.yaml"),
                image=image.name,
                ref=image.ref,
            )
        )
    for scanned_image in scanned:
        found.append(
            rules.IMAGE_ARCHIVE_SCANNED.finding(
                f"image {scanned_image.name} ({scanned_image.ref}) from {scanned_image.origin}: "
                f"{scanned_image.packages} packages",
                image=scanned_image.name,
                origin=scanned_image.origin,
            )
        )
    if packages == 0:
        found.append(rules.NO_PACKAGES.finding("syft found no package in the bundle or its images"))
    return tuple(found)
