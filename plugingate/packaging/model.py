"""What the packaging forms share: which form, and the settings rendering takes from the gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from plugingate.policy.model import ChartsPolicy, GatePolicy
from plugingate.signature.identity import TrustedSigner

if TYPE_CHECKING:
    from plugingate.tools.runner import ToolRunner


class Form(StrEnum):
    """Where a plugin's Kubernetes objects come from (the ``spec`` field that declares it; exactly one)."""

    MANIFESTS = "manifests"
    CHART = "chart"
    KUSTOMIZE = "kustomize"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class PackagingOptions:
    """What rendering takes from the gate: the policy's chart settings, its signers, the tool runner.

    ``runner`` runs helm, kustomize and the operator validator (a default runner when None; the gate
    passes one that refuses any tool from inside the bundle).
    """

    charts: ChartsPolicy = field(default_factory=ChartsPolicy)
    trusted_signers: tuple[TrustedSigner, ...] = ()
    runner: ToolRunner | None = None

    @classmethod
    def from_policy(cls, policy: GatePolicy, runner: ToolRunner | None = None) -> PackagingOptions:
        """The options the policy sets: every reader of a bundle's objects renders its form alike."""
        return cls(charts=policy.charts, trusted_signers=policy.signature.trusted_signers, runner=runner)
