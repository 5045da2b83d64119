"""The pipeline's contract: what a step is handed, what it returns, and how findings become a status.

This module is the leaf every step package depends on and that depends on none of them: the step
adapters (``plugingate/<step>/step.py``) import ``StepContext`` and the status rules from here, the
gate (``plugingate.gate``) runs them in order, and ``plugingate.steps`` names the real ones. A test
(``tests/core/test_imports.py``) keeps it so: no step package is imported here, not even for typing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from plugingate.findings import Finding, Severity, Step
from plugingate.policy.trust import UNPINNED, PolicyTrust
from plugingate.result import GateResult, StepResult, StepStatus

if TYPE_CHECKING:
    from plugingate.declaration import Declaration
    from plugingate.keys import PrivateKey
    from plugingate.policy.model import GatePolicy


@dataclass(frozen=True, slots=True)
class KeylessSettings:
    """Where the Sigstore instance and the identity token come from (all optional: production + ambient)."""

    trust_config: Path | None = None
    trusted_root: Path | None = None
    signing_config: Path | None = None
    identity_token: Path | None = None
    staging: bool = False

    def describe(self) -> str:
        """For messages: which instance signs."""
        if self.trust_config is not None:
            return f"the Sigstore instance of {self.trust_config}"
        if self.signing_config is not None:
            return f"the Sigstore instance of {self.signing_config}"
        return "Sigstore staging" if self.staging else "Sigstore production (public-good)"


@dataclass(frozen=True, slots=True)
class GateRequest:
    """What to gate, against which policy, and where to put the outputs."""

    bundle: Path
    policy: GatePolicy
    out_dir: Path
    signature: Path | None = None
    provenance: Path | None = None
    attest_key: Path | None = None
    attest_private_key: PrivateKey | None = None  # ``attest_key`` loaded up front, so a bad key fails first
    attest_keyless: bool = False
    attest_keyless_settings: KeylessSettings | None = None  # the instance and token; None: public + ambient
    attest_in_dry_run: bool = False
    use_cache: bool = True
    now: datetime | None = None
    # NOTE: how the policy was tied to the platform's approval; unpinned (the default) signs nothing.
    policy_trust: PolicyTrust = UNPINNED
    # NOTE: ``gate --probe``: also run the images in the gVisor shadow run (seconds: the policy's unless set).
    probe: bool = False
    probe_duration: float | None = None
    # NOTE: ``gate --previous OLD``: the version this one must not grow beyond without the approvals given.
    previous: Path | None = None
    approvals: tuple[Path, ...] = ()
    previous_keys: tuple[Path, ...] = ()  # the keys a previous version's gate attestation may be signed with


class BundleView(Protocol):
    """What a step reads of the opened bundle (``plugingate.bundle.OpenedBundle`` is the real one).

    # NOTE: a protocol rather than the bundle package's class: opening the bundle is a step of its
    # own, and the contract does not import a step package, not even for typing.
    """

    @property
    def source(self) -> Path:
        """What the user named (the archive or the folder)."""

    @property
    def name(self) -> str:
        """The subject name for attestations (a folder's: the name of its reproducible pack)."""

    @property
    def kind(self) -> str:
        """What the bundle is: an archive format or a directory (the bundle package's ``BundleKind``)."""

    @property
    def sha256(self) -> str:
        """The archive's digest (a folder's: its reproducible pack's)."""

    @property
    def size(self) -> int:
        """The archive's size in bytes."""

    @property
    def root(self) -> Path:
        """The private folder holding the unpacked tree, ``plugin.yaml`` at its top."""


@dataclass(frozen=True, slots=True)
class StepContext:
    """What every step may read.

    ``scan_input`` is the one hand-over between two steps that run at once: the SBOM step sets it
    to the SBOM grype may read as soon as that file is complete, and the gate starts the
    vulnerability step then, while the SBOM step goes on converting formats.
    """

    request: GateRequest
    bundle: BundleView
    declaration: Declaration
    now: datetime
    scan_input: Future[Path] = field(default_factory=Future)
    # NOTE: Kubernetes' reading of the manifests (the manifests step's ``KubernetesReader``), started
    # beside syft by ``GateSteps.start`` and used by the manifests step; unset when it could not be
    # started early. Typed loosely: the contract imports no step package; the manifests step checks it.
    kube_reading: Future[object] = field(default_factory=Future)
    # NOTE: the results of the checks that have run, by step, for a step that builds on one: the
    # growth step compares the very objects the manifests step read, rather than reading them again.
    earlier: dict[Step, StepResult] = field(default_factory=dict)

    @property
    def out_dir(self) -> Path:
        """Where the outputs go."""
        return self.request.out_dir


StepFunction = Callable[[StepContext], StepResult]


@runtime_checkable
class RanTools(Protocol):
    """A step's typed result that names the external tools it ran (the gate records their versions)."""

    def tool_versions(self) -> dict[str, str]:
        """``{"syft": "1.57.1"}``, ``{"grype": …, "grypeDbBuilt": …}``: what ``report.json``'s ``tools`` holds."""
        ...


@dataclass(frozen=True, slots=True)
class GateSteps:
    """The pipeline's parts; tests hand the gate fakes, the CLI the real ones (``plugingate.steps``)."""

    signature: StepFunction
    provenance: StepFunction
    capabilities: StepFunction
    manifests: StepFunction
    sbom: StepFunction
    vulnerabilities: StepFunction
    attest: Callable[[StepContext, GateResult], tuple[StepResult, dict[str, str]]]
    outputs: Callable[[StepContext, GateResult], dict[str, str]]
    # NOTE: called once the checks are done, while syft still runs on a core of its own: whatever
    # the later steps can get ready (their imports) then stays off the critical path.
    prepare: Callable[[], None] | None = None
    # NOTE: called right after syft is started: work of a later step that can begin at once (the
    # manifests' Kubernetes reading) runs beside syft too.
    start: Callable[[StepContext], None] | None = None
    # NOTE: the shadow run (``gate --probe``); None where a pipeline has none (tests of the other steps).
    probe: StepFunction | None = None
    # NOTE: run after the manifests step, only when the request names a previous version.
    growth: StepFunction | None = None


def status_of(findings: list[Finding] | tuple[Finding, ...]) -> StepStatus:
    """``failed`` with an error finding, ``warned`` with a warning, else ``passed``."""
    if any(f.severity is Severity.ERROR for f in findings):
        return StepStatus.FAILED
    if any(f.severity is Severity.WARNING for f in findings):
        return StepStatus.WARNED
    return StepStatus.PASSED


def verification_status(findings: tuple[Finding, ...] | list[Finding], verified: bool) -> StepStatus:
    """A verification step's status: its findings decide; without any, verified passes, else skipped."""
    if findings:
        return status_of(findings)
    return StepStatus.PASSED if verified else StepStatus.SKIPPED


def count_summary(findings: list[Finding] | tuple[Finding, ...], what: str) -> str:
    """A check step's one-line summary: what was checked and how many violations and warnings."""
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    if not findings:
        return f"{what}: nothing undeclared or forbidden"
    return f"{what}: {errors} violation(s), {warnings} warning(s)"
