"""What the provenance step found, in a module of its own: a gate with nothing to verify imports no verifier."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugingate.findings import Finding
    from plugingate.provenance.slsa import ProvenanceFacts
    from plugingate.signature.identity import SignerIdentity


@dataclass(frozen=True, slots=True)
class ProvenanceResult:
    """What the provenance step found: denials, and the facts and signer of the accepted provenance."""

    findings: tuple[Finding, ...]
    facts: ProvenanceFacts | None = None
    signer: SignerIdentity | None = None
    layout: dict[str, object] | None = field(default=None)

    @property
    def verified(self) -> bool:
        """Whether trusted provenance (or a verified layout) was found without denials."""
        return not self.findings and (self.facts is not None or self.layout is not None)

    def describe(self) -> str:
        """One line for reports."""
        if self.findings:
            return self.findings[0].message
        if self.facts is not None:
            return (
                f"built by {self.facts.builder_id!r} from {self.facts.source_repository!r}"
                f" ({self.facts.source_ref or 'any ref'})"
                + (f", signed by {self.signer.describe()}" if self.signer else "")
            )
        if self.layout is not None:
            return f"in-toto layout verified ({self.layout.get('layout')})"
        return "no provenance (not required)"

    def attested(self) -> dict[str, object]:
        """What the gate attestation's ``provenance`` records beside its status: the signer and the build."""
        out: dict[str, object] = {}
        if self.signer is not None:
            out["signer"] = self.signer.attested()
        if self.facts is not None:
            for name, value in (
                ("builderId", self.facts.builder_id),
                ("sourceRepository", self.facts.source_repository),
                ("sourceRef", self.facts.source_ref),
            ):
                if value:
                    out[name] = value
        return out

    def to_dict(self) -> dict[str, object]:
        """The step's details in ``report.json``."""
        out: dict[str, object] = {"verified": self.verified}
        if self.facts is not None:
            out.update(self.facts.to_dict())
        if self.signer is not None:
            out["signer"] = self.signer.to_dict()
        if self.layout is not None:
            out["inToto"] = dict(self.layout)
        return out
