"""Whether the policy the gate runs under is the one the platform approved.

The policy is usually a file in the same repository a plugin's merge request changes; a gate that
signed whatever that file says would sign the author's policy, not the platform's. So the caller
ties the run to an approved policy in one of two ways, and the attestation records which:

- **pinned**: ``--policy-digest sha256:…`` (``PLUGINGATE_POLICY_DIGEST``, the action's and the
  template's ``policy-digest`` input, set where the merge request cannot change it);
- **signed**: the policy file is signed (``--policy-signature FILE``, else ``POLICY.sigstore.json``
  or ``POLICY.sig`` beside it) by a trusted policy signer named by the caller (``--policy-key PUB``,
  or keyless ``--policy-identity`` + ``--policy-issuer``), verified as bundle signatures are.

A policy covers its own bytes, so its exceptions (inline) are covered with it. The files it names by
path (public keys, the trusted root, the in-toto layout and its keys, VEX documents) are not: each
must be pinned too (``--policy-file-digest``) or signed beside it by a trusted policy signer.

Without either, the gate runs and reports ("policy not pinned"), for plugin authors checking locally,
but signs nothing. A pin or a signature that does not match is a denial (``PG-POL-00x``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.errors import InputError, VerificationError
from plugingate.policy import rules
from plugingate.policy.model import GatePolicy

if TYPE_CHECKING:
    from plugingate.signature.identity import TrustedSigner

_DIGEST_RE = re.compile(r"^sha256:([0-9a-fA-F]{64})$")


class PolicyTrustKind(StrEnum):
    """How the policy was tied to the platform's approval."""

    PINNED = "pinned-digest"
    SIGNED = "signed"
    UNPINNED = "unpinned"


@dataclass(frozen=True, slots=True)
class PolicyTrust:
    """How the policy was trusted: what the report shows and the attestation records."""

    kind: PolicyTrustKind
    detail: str
    signer: str | None = None
    files: tuple[str, ...] = ()

    @property
    def trusted(self) -> bool:
        """Whether attestations may be signed under this policy."""
        return self.kind is not PolicyTrustKind.UNPINNED

    def to_dict(self) -> dict[str, object]:
        """As in report.json and the attestation's ``policy.trust``."""
        out: dict[str, object] = {"kind": str(self.kind), "detail": self.detail}
        if self.signer is not None:
            out["signer"] = self.signer
        if self.files:
            out["files"] = list(self.files)
        return out


UNPINNED = PolicyTrust(
    PolicyTrustKind.UNPINNED,
    "policy not pinned: no --policy-digest and no trusted policy signer; attestations are not signed",
)


@dataclass(frozen=True, slots=True)
class PolicyTrustOptions:
    """What the caller said about the policy (the gate's ``--policy-*`` options)."""

    digest: str | None = None
    signature: Path | None = None
    keys: tuple[Path, ...] = ()
    identity: str | None = None
    identity_regex: str | None = None
    issuer: str | None = None
    trusted_root: Path | None = None
    file_digests: tuple[str, ...] = ()

    @property
    def asked(self) -> bool:
        """Whether the caller asked for a trusted policy at all."""
        return bool(self.digest or self.keys or self.identity or self.identity_regex)


def parse_digest(value: str, option: str) -> str:
    """The hex of ``sha256:<hex>``; ``InputError`` (exit 2) naming ``option`` otherwise."""
    match = _DIGEST_RE.match(value.strip())
    if not match:
        raise InputError(
            f"not a sha256 digest: {value!r}",
            field=option,
            hint="expected sha256:<64 hex digits>, e.g. the output of `sha256sum policy.yaml` with sha256: in front",
        )
    return match.group(1).lower()


def establish_trust(policy: GatePolicy, policy_path: Path, options: PolicyTrustOptions) -> PolicyTrust:
    """How ``policy`` (read from ``policy_path``) is trusted; ``VerificationError`` (exit 1) on a mismatch."""
    from plugingate.signature.cli_support import signers_from_options

    pinned = parse_digest(options.digest, "--policy-digest") if options.digest else None
    file_digests = {parse_digest(d, "--policy-file-digest") for d in options.file_digests}
    signers = signers_from_options(
        keys=options.keys, identity=options.identity, identity_regex=options.identity_regex, issuer=options.issuer
    )
    if options.signature is not None and not signers:
        raise InputError(
            "a policy signature needs a trusted policy signer",
            field="--policy-signature",
            hint="add --policy-key PUB, or --policy-identity and --policy-issuer for a keyless signature",
        )
    if not options.asked:
        return UNPINNED
    if pinned is not None and pinned != policy.sha256:
        raise _denied(
            f"{policy_path}: the policy's sha256 is {policy.sha256}, the pinned digest is sha256:{pinned}",
            rule_id=rules.DIGEST_MISMATCH.id,
            hint="the policy file was changed after it was approved: gate with the approved policy, or have the "
            "platform team approve this one and update the pinned digest",
        )
    signer: str | None = None
    if signers:
        signer = _verify_signed(
            policy_path, policy.sha256, signers, options, rules.SIGNATURE_INVALID.id, signature=options.signature
        )
        if signer is None:
            raise _denied(
                f"{policy_path}: a trusted policy signer was named but the policy has no signature"
                f" (looked for {_beside(policy_path)[0].name} and {_beside(policy_path)[1].name})",
                rule_id=rules.SIGNATURE_INVALID.id,
                hint="sign the policy (plugingate sign POLICY --key KEY) or pass --policy-signature FILE",
            )
    files = _check_named_files(policy, file_digests, signers, options)
    if signer is not None:
        return PolicyTrust(PolicyTrustKind.SIGNED, f"policy signed by {signer}", signer=signer, files=files)
    return PolicyTrust(PolicyTrustKind.PINNED, f"policy pinned by digest sha256:{pinned}", files=files)


def _denied(message: str, *, rule_id: str, hint: str | None = None) -> VerificationError:
    """A denial whose message starts with its rule id (the CLI prints the message alone)."""
    return VerificationError(f"denied: {rule_id}: {message}", rule_id=rule_id, hint=hint)


def named_files(policy: GatePolicy) -> tuple[Path, ...]:
    """Every file the policy names by path, whose bytes decide something (keys, roots, layouts, VEX)."""
    base = policy.base_dir
    found: list[Path] = []
    for signer in (*policy.signature.trusted_signers, *policy.provenance.signers, *policy.approvals.approvers):
        if signer.key is not None and signer.key.path is not None:
            path = Path(signer.key.path)
            found.append(path if path.is_absolute() else base / path)
    if policy.signature.trusted_root is not None:
        found.append(policy.signature.trusted_root)
    if policy.provenance.in_toto.layout is not None:
        found.append(policy.provenance.in_toto.layout)
    found.extend(policy.provenance.in_toto.layout_keys)
    found.extend(policy.vulnerabilities.vex)
    return tuple(dict.fromkeys(found))


def _beside(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + ".sigstore.json"), path.with_name(path.name + ".sig")


def _verify_signed(
    path: Path,
    expected_sha256: str,
    signers: Sequence[TrustedSigner],
    options: PolicyTrustOptions,
    rule_id: str,
    *,
    signature: Path | None = None,
) -> str | None:
    """Who signed ``path`` (a trusted signer's description); None when no signature exists."""
    from plugingate.signature.artifact import Artifact
    from plugingate.signature.trust import TrustSettings
    from plugingate.signature.verify import verify_bundle_file, verify_raw_signature

    trusted = list(signers)
    candidates = [signature] if signature is not None else [p for p in _beside(path) if p.is_file()]
    if not candidates:
        return None
    artifact = Artifact.from_path(path)
    if artifact.sha256 != expected_sha256:
        raise _denied(
            f"{path} changed while it was being read (sha256 {artifact.sha256}, parsed {expected_sha256})",
            rule_id=rule_id,
        )
    sig = candidates[0]
    try:
        if sig.name.endswith(".sig"):
            verified = verify_raw_signature(artifact, sig, trusted)
        else:
            verified = verify_bundle_file(artifact, sig, trusted, TrustSettings(trusted_root=options.trusted_root))
    except VerificationError as exc:
        raise _denied(
            f"{path}: its signature {sig} does not verify: {exc.message}", rule_id=rule_id, hint=exc.hint
        ) from exc
    return verified.trusted_signer.name


def _check_named_files(
    policy: GatePolicy, file_digests: set[str], signers: Sequence[TrustedSigner], options: PolicyTrustOptions
) -> tuple[str, ...]:
    """Each file the policy names, pinned or signed; ``VerificationError`` (PG-POL-003) for the first that is not."""
    from plugingate.bundle.digest import sha256_file

    covered: list[str] = []
    for path in named_files(policy):
        try:
            digest = sha256_file(path)
        except OSError as exc:
            raise InputError(f"cannot read a file the policy names: {exc}", path=str(path)) from exc
        if digest in file_digests:
            covered.append(f"{path} sha256:{digest} (pinned)")
            continue
        signer = _verify_signed(path, digest, signers, options, rules.FILE_NOT_TRUSTED.id) if signers else None
        if signer is None:
            raise _denied(
                f"{path} (sha256:{digest}) is named by the policy but neither pinned nor signed",
                rule_id=rules.FILE_NOT_TRUSTED.id,
                hint="pass --policy-file-digest sha256:<its digest>, or sign it beside itself"
                " (FILE.sig / FILE.sigstore.json) with a trusted policy signer",
            )
        covered.append(f"{path} sha256:{digest} (signed by {signer})")
    return tuple(covered)
