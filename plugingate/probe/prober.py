"""A bundle's shadow run: every declared image with an archive, run, observed and compared.

The core of ``plugingate probe`` and of ``gate --probe``: it gets its tools handed in (tests give the
real ones; there is no fake sandbox) and returns a ``ProbeResult``; the CLI and the gate step only
wire it and write ``probe.json``.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from plugingate import __version__
from plugingate.bundle.limits import BundleLimits
from plugingate.declaration.model import Declaration
from plugingate.errors import BundleError, InputError
from plugingate.findings import Finding, Severity
from plugingate.manifests.model import ManifestSet
from plugingate.policy.model import GatePolicy, ProbePolicy
from plugingate.probe import rules
from plugingate.probe.compare import compare
from plugingate.probe.observation import Observation
from plugingate.probe.rootfs import ImageConfig, build_rootfs
from plugingate.probe.run import DEFAULT_PATH, run_image
from plugingate.probe.sandbox import ProbeTools
from plugingate.probe.wiring import secret_wiring
from plugingate.sbom.proof import ImageProofError, prove_archive

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The shadow run of a bundle: one observation per image run, and the findings of all of them."""

    plugin: str
    version: str
    bundle_sha256: str
    runsc_version: str
    settings: ProbePolicy
    observations: tuple[Observation, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[str, ...]
    seconds: float

    @property
    def denies(self) -> bool:
        """Whether a finding denies (in enforce mode)."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        """``probe.json`` (schema: ``plugingate/schemas/probe.schema.json``)."""
        return {
            "schemaVersion": SCHEMA_VERSION,
            "plugingate": __version__,
            "plugin": {"name": self.plugin, "version": self.version, "sha256": self.bundle_sha256},
            "sandbox": {"runtime": "gvisor", "runsc": self.runsc_version, "network": "none (recording sink only)"},
            "settings": {
                "durationSeconds": self.settings.duration.total_seconds(),
                "maxExecs": self.settings.max_execs,
                "maxPids": self.settings.max_pids,
                "memoryOverheadBytes": self.settings.memory_overhead_bytes,
            },
            "passed": not self.denies,
            "images": [o.to_dict() for o in self.observations],
            "skippedImages": list(self.skipped),
            "findings": [f.to_dict() for f in self.findings],
            "seconds": round(self.seconds, 3),
        }

    def tool_versions(self) -> dict[str, str]:
        """The sandbox's version, for ``report.json``'s ``tools`` (the gate's ``RanTools``)."""
        return {"runsc": self.runsc_version}

    def summary(self) -> dict[str, object]:
        """What the gate attestation's predicate carries of the probe."""
        return {
            "ran": True,
            "passed": not self.denies,
            "runsc": self.runsc_version,
            "durationSeconds": self.settings.duration.total_seconds(),
            "images": [o.image for o in self.observations],
            "findings": sorted({f.rule_id for f in self.findings}),
            "memoryPeakBytes": max((o.usage.memory_peak_bytes for o in self.observations), default=0),
        }


def settings_for(policy: GatePolicy, duration: float | None) -> ProbePolicy:
    """The policy's probe settings, with ``--duration`` (seconds) in place of the policy's when given."""
    if duration is None:
        return policy.probe
    if duration <= 0 or duration > 3600:
        raise InputError("must be more than 0 and at most 3600 seconds", field="--duration")
    return dataclasses.replace(policy.probe, duration=timedelta(seconds=duration))


def _proven(
    archive: Path, digest: str | None, label: str, work: Path, limits: BundleLimits | None
) -> tuple[Path, str | None]:
    """The archive to unpack and the digest it was proven to hold.

    A pinned image is first proven by hashing (``plugingate.sbom.proof``, as the SBOM step does) and its
    verified blobs alone are unpacked, so that what runs is the image the reference pins, not whatever
    else the archive's ``index.json`` or ``manifest.json`` names. An unpinned reference runs unproven
    (the capabilities step reports the missing digest).
    """
    if digest is None:
        return archive, None
    layout = work / "proven"
    max_bytes = (limits or BundleLimits()).max_unpacked_bytes
    proof = prove_archive(archive, digest, where=label, layout=layout, max_bytes=max_bytes)
    packed = work / "proven.tar"
    with tarfile.open(packed, mode="w") as tar:
        for path in sorted(layout.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(layout)), recursive=False)
    return packed, proof.digest


def _in_rootfs(rootfs: Path, path: str) -> Path | None:
    """The file ``path`` names inside ``rootfs``, its symlinks resolved within it; None when absent."""
    current = path
    for _ in range(16):
        parts = [p for p in current.split("/") if p]
        resolved = "/"
        for i, part in enumerate(parts):
            candidate = posixpath.join(resolved, part)
            host = rootfs / candidate.lstrip("/")
            if host.is_symlink():
                target = str(host.readlink())
                base = target if target.startswith("/") else posixpath.join(resolved, target)
                current = posixpath.normpath(posixpath.join(base, *parts[i + 1 :]))
                break
            resolved = candidate
        else:
            host = rootfs / resolved.lstrip("/")
            return host if host.is_file() else None
    return None


def _not_runnable(rootfs: Path, config: ImageConfig) -> str | None:
    """Why the image's entrypoint cannot start (None when it can): nothing named, or not in the image."""
    if not config.argv:
        return "the image names no entrypoint or command"
    program = config.argv[0]
    if "/" in program:
        found = _in_rootfs(rootfs, posixpath.join(config.workdir or "/", program))
    else:
        path = next((e.split("=", 1)[1] for e in config.env if e.startswith("PATH=")), DEFAULT_PATH)
        found = next((f for d in path.split(":") if d and (f := _in_rootfs(rootfs, posixpath.join(d, program)))), None)
    if found is None:
        return f"its entrypoint {program!r} is not in the image (its archive holds no such file)"
    return None


def probe_bundle(
    root: Path,
    declaration: Declaration,
    settings: ProbePolicy,
    tools: ProbeTools,
    *,
    bundle_sha256: str,
    manifests: ManifestSet,
    limits: BundleLimits | None = None,
) -> ProbeResult:
    """Run every image of ``spec.images`` that ships an archive; an image without one cannot be probed.

    ``manifests``: the bundle's objects as the gate read them; they say where each secret is handed over.
    """
    started = time.monotonic()
    namespace = declaration.namespace or declaration.name
    observations: list[Observation] = []
    findings: list[Finding] = []
    skipped: list[str] = []
    for image in declaration.images:
        if not image.archive:
            skipped.append(image.name)
            findings.append(
                rules.DID_NOT_RUN.finding(
                    f"image {image.name}: no `archive` in the bundle, so it could not be run in the sandbox",
                    image=image.name,
                )
            )
            continue
        archive = (root / image.archive).resolve()
        if not archive.is_file() or not archive.is_relative_to(root.resolve()):
            raise BundleError(
                f"spec.images[{image.name}].archive names {image.archive}, which is not a file inside the bundle",
                path=declaration.path,
                line=image.line,
            )
        work = Path(tempfile.mkdtemp(prefix="plugingate-probe-"))
        try:
            try:
                runnable, proven = _proven(archive, image.digest, image.archive, work, limits)
            except ImageProofError as exc:
                findings.append(
                    rules.DID_NOT_RUN.finding(
                        f"image {image.name}: {exc}; the probe runs only the image the reference pins",
                        image=image.name,
                    )
                )
                skipped.append(image.name)
                continue
            config = build_rootfs(runnable, work / "rootfs", label=image.archive, limits=limits)
            missing = _not_runnable(work / "rootfs", config)
            if missing is not None:
                findings.append(rules.DID_NOT_RUN.finding(f"image {image.name}: {missing}", image=image.name))
                skipped.append(image.name)
                continue
            observation = run_image(
                name=image.name,
                rootfs=work / "rootfs",
                config=config,
                declaration=declaration,
                settings=settings,
                tools=tools,
                work=work,
                namespace=namespace,
                wiring=secret_wiring(manifests, declaration, image),
            )
            observation = dataclasses.replace(observation, digest=proven)
        finally:
            # NOTE: PLUGINGATE_PROBE_KEEP=1 keeps the run's folder (runsc's logs, the recorders' files)
            # for whoever debugs a probe; it holds the run's API key and canaries, so never by default.
            if os.environ.get("PLUGINGATE_PROBE_KEEP") != "1":
                shutil.rmtree(work, ignore_errors=True)
        observations.append(observation)
        findings.extend(compare(observation, declaration, settings, namespace))
    return ProbeResult(
        plugin=declaration.name,
        version=declaration.version,
        bundle_sha256=bundle_sha256,
        runsc_version=tools.version(),
        settings=settings,
        observations=tuple(observations),
        findings=tuple(findings),
        skipped=tuple(skipped),
        seconds=time.monotonic() - started,
    )
