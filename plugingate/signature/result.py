"""What the signature step found, in a module of its own: a gate with nothing to verify imports no verifier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugingate.findings import Finding
    from plugingate.signature.identity import SignerIdentity


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """What the signature step found: denials (findings), and who signed when it verified."""

    findings: tuple[Finding, ...]
    signer: SignerIdentity | None = None
    trusted_signer: str | None = None
    source: str | None = None

    @property
    def verified(self) -> bool:
        """Whether a trusted signature was found."""
        return self.signer is not None and self.trusted_signer is not None

    def describe(self) -> str:
        """One line for the report."""
        if self.verified and self.signer is not None:
            return f"signed by {self.signer.describe()} (trusted as {self.trusted_signer!r})"
        if self.findings:
            return self.findings[0].message
        return "not signed (no signature required)"

    def attested(self) -> dict[str, object]:
        """What the gate attestation's ``signature`` records beside its status: who signed."""
        return {"signer": self.signer.attested(self.trusted_signer)} if self.signer is not None else {}

    def to_dict(self) -> dict[str, object]:
        """The step's details in ``report.json``."""
        out: dict[str, object] = {"verified": self.verified}
        if self.signer is not None:
            out["signer"] = self.signer.to_dict()
        if self.trusted_signer is not None:
            out["trustedSigner"] = self.trusted_signer
        if self.source is not None:
            out["source"] = self.source
        return out
