"""Signature verifiers: one protocol and one registry for what a signature can be.

Two levels, each a registry in the order it is tried:

- ``VERIFIERS`` (``SignatureVerifier``): a signed JSON document — a DSSE envelope signed with a key, a
  Sigstore bundle whose material is a public key (``cosign sign-blob --key --bundle``), or a keyless
  Sigstore bundle (a Fulcio certificate and the transparency log). ``verify_document`` hands a document
  to the first verifier that accepts it among the forms the caller allows; the provenance step allows
  all three, a signature given as a bundle the two bundle forms.
- ``SIGNATURE_FILES`` (``SignatureFile``): a file beside the bundle or given on the command line — a
  Sigstore bundle (``BUNDLE.sigstore.json``, ``BUNDLE.sigstore``) or a raw base64 signature as
  ``cosign sign-blob --key`` writes it (``BUNDLE.sig``). A file's kind comes from its name when it is
  found, from its first bytes when it is given.

Adding a form is one class and one registry entry; nothing else branches on the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from plugingate.errors import InputError, VerificationError
from plugingate.signature import rules
from plugingate.signature.identity import (
    Mismatch,
    SignerIdentity,
    SignerKind,
    TrustedSigner,
    classify_mismatch,
    describe_expected,
    match_signer,
)

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot

    from plugingate.signature.artifact import Artifact
    from plugingate.signature.sigstore_bundle import VerifiedBundle
    from plugingate.signature.trust import TrustSettings

_SNIFF_BYTES = 64


class SignatureForm(StrEnum):
    """What a signed document is."""

    DSSE_ENVELOPE = "dsse-envelope"
    KEY_BUNDLE = "key-bundle"
    KEYLESS_BUNDLE = "keyless-bundle"


BUNDLE_FORMS = frozenset({SignatureForm.KEY_BUNDLE, SignatureForm.KEYLESS_BUNDLE})


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature that verified and whose signer is trusted (``verified``: the signed payload, if any)."""

    signer: SignerIdentity
    trusted_signer: TrustedSigner
    verified: VerifiedBundle | None = None

    def describe(self) -> str:
        """One line for reports."""
        return f"signed by {self.signer.describe()}, trusted as {self.trusted_signer.name!r}"


@dataclass(frozen=True, slots=True)
class VerificationRequest:
    """What every verifier is handed besides the document: the artifact, whom to trust, and where from."""

    artifact: Artifact
    signers: Sequence[TrustedSigner]
    trust: TrustSettings
    source: str
    require_tlog: bool = False
    # NOTE: the trusted root is loaded at most once per request, and only when a verifier needs it.
    _roots: dict[str, TrustedRoot] = field(default_factory=dict, compare=False, repr=False)

    def keys(self) -> list[Any]:
        """The trusted signers' public keys."""
        return [s.key for s in self.signers if s.key is not None]

    def trusted(self, identity: SignerIdentity) -> TrustedSigner:
        """The trusted signer ``identity`` matches; ``VerificationError`` (PG-SIG untrusted) when none does."""
        match, why = match_signer(identity, self.signers)
        if match is None:
            # NOTE: a trusted issuer with another identity (PG-SIG-008) and an untrusted issuer (PG-SIG-007)
            # are told apart, so that a token for another repository reads as what it is.
            rule = {
                Mismatch.ISSUER: rules.ISSUER_NOT_TRUSTED,
                Mismatch.IDENTITY: rules.IDENTITY_NOT_TRUSTED,
                Mismatch.SIGNER: rules.UNTRUSTED_SIGNER,
            }[classify_mismatch(identity, self.signers)]
            raise VerificationError(
                f"{self.source}: signed by {identity.describe()}, which no trusted signer matches;"
                f" expected {describe_expected(self.signers)}" + (f" ({why})" if why else ""),
                rule_id=rule.id,
                hint="sign with a trusted identity or key, or add the signer to the policy's trustedSigners",
            )
        return match

    def trusted_root(self) -> TrustedRoot:
        """The trusted root, loaded once per request and only when a verifier needs it."""
        if "root" not in self._roots:
            from plugingate.signature.trust import load_trusted_root

            self._roots["root"] = load_trusted_root(self.trust)
        return self._roots["root"]


class SignatureVerifier(Protocol):
    """One form of signed document: whether a document is of that form, and how to verify it."""

    @property
    def form(self) -> SignatureForm:
        """The form this verifier reads."""
        ...

    def accepts(self, doc: Mapping[str, Any]) -> bool:
        """Whether ``doc`` is of this verifier's form (a cheap look at its keys)."""
        ...

    def verify(self, doc: dict[str, Any], request: VerificationRequest) -> VerifiedSignature:
        """Verify the signature, the artifact it is about, and that its signer is trusted."""
        ...


@dataclass(frozen=True, slots=True)
class DsseEnvelopeVerifier:
    """A DSSE envelope signed with a trusted key; its in-toto statement must name the artifact."""

    form: SignatureForm = SignatureForm.DSSE_ENVELOPE

    def accepts(self, doc: Mapping[str, Any]) -> bool:
        """An envelope has a payload type and signatures."""
        return "payloadType" in doc and "signatures" in doc

    def verify(self, doc: dict[str, Any], request: VerificationRequest) -> VerifiedSignature:
        """Any trusted key's valid signature verifies it (PG-SIG-003 when none does)."""
        from plugingate.dsse import verify_envelope_with
        from plugingate.signature.sigstore_bundle import VerifiedBundle, check_subject

        keys = request.keys()
        if not keys:
            raise VerificationError(
                f"{request.source}: a DSSE envelope can only be verified with a key;"
                f" expected {describe_expected(request.signers)}",
                rule_id=rules.UNTRUSTED_SIGNER.id,
            )
        try:
            verified = verify_envelope_with(doc, keys, source=request.source)
        except VerificationError as exc:
            raise VerificationError(exc.message, rule_id=rules.SIGNATURE_INVALID.id, hint=exc.hint) from exc
        identity = SignerIdentity(kind=SignerKind.KEY, key=verified.key)
        trusted = request.trusted(identity)
        check_subject(verified.payload_type, verified.payload, request.artifact, source=request.source)
        bundle = VerifiedBundle(
            signer=identity, payload_type=verified.payload_type, payload=verified.payload, transparency_log=False
        )
        return VerifiedSignature(signer=identity, trusted_signer=trusted, verified=bundle)


@dataclass(frozen=True, slots=True)
class KeyBundleVerifier:
    """A Sigstore bundle whose verification material is a public key (a managed key)."""

    form: SignatureForm = SignatureForm.KEY_BUNDLE

    def accepts(self, doc: Mapping[str, Any]) -> bool:
        """The bundle names a public key rather than carrying a certificate."""
        from plugingate.signature.sigstore_bundle import uses_public_key

        return uses_public_key(dict(doc))

    def verify(self, doc: dict[str, Any], request: VerificationRequest) -> VerifiedSignature:
        """The signature against the trusted keys, each log entry against the trusted root."""
        from plugingate.signature.sigstore_bundle import verify_with_key

        verified = verify_with_key(
            doc,
            request.artifact,
            request.keys(),
            request.trusted_root,
            source=request.source,
            require_tlog=request.require_tlog,
        )
        return VerifiedSignature(
            signer=verified.signer, trusted_signer=request.trusted(verified.signer), verified=verified
        )


@dataclass(frozen=True, slots=True)
class KeylessBundleVerifier:
    """A keyless Sigstore bundle: a Fulcio certificate, a transparency log entry, the library's checks."""

    form: SignatureForm = SignatureForm.KEYLESS_BUNDLE

    def accepts(self, doc: Mapping[str, Any]) -> bool:
        """Any document the verifiers before it did not take: the library says precisely what is wrong
        with one that is not a valid keyless bundle (it is last in the registry for that reason)."""
        return True

    def verify(self, doc: dict[str, Any], request: VerificationRequest) -> VerifiedSignature:
        """The certificate chain, the log entry and the signature; then the certificate's identity."""
        from plugingate.signature.sigstore_bundle import verify_keyless

        verified = verify_keyless(doc, request.artifact, request.trusted_root(), source=request.source)
        return VerifiedSignature(
            signer=verified.signer, trusted_signer=request.trusted(verified.signer), verified=verified
        )


VERIFIERS: tuple[SignatureVerifier, ...] = (DsseEnvelopeVerifier(), KeyBundleVerifier(), KeylessBundleVerifier())


def verify_document(
    doc: dict[str, Any], request: VerificationRequest, forms: Collection[SignatureForm] = tuple(SignatureForm)
) -> VerifiedSignature:
    """Verify ``doc`` with the first registered verifier of an allowed form that accepts it."""
    for verifier in VERIFIERS:
        if verifier.form in forms and verifier.accepts(doc):
            return verifier.verify(doc, request)
    raise InputError(
        f"neither {' nor '.join(sorted(str(f) for f in forms))}",
        path=request.source,
        hint="pass a Sigstore bundle or a DSSE envelope",
    )


class SignatureFileKind(StrEnum):
    """What a signature file is."""

    SIGSTORE_BUNDLE = "sigstore-bundle"
    COSIGN_SIGNATURE = "cosign-signature"


@dataclass(frozen=True, slots=True)
class SignatureFile:
    """One kind of signature file: the names it has beside a bundle, how it is recognised and verified."""

    kind: SignatureFileKind
    suffixes: tuple[str, ...]
    recognise: Callable[[bytes], bool]
    verify: Callable[[Path, VerificationRequest], VerifiedSignature]


@dataclass(frozen=True, slots=True)
class FoundSignature:
    """A signature file and its kind (found beside the bundle, or given)."""

    path: Path
    kind: SignatureFileKind

    def verify(self, request: VerificationRequest) -> VerifiedSignature:
        """Verify it with its kind's verifier."""
        return signature_file(self.kind).verify(self.path, request)


def _is_json(head: bytes) -> bool:
    # NOTE: base64 never starts with '{'; a file that does is handed to the bundle verifier, which
    # reports precisely what is wrong with it if it is not a valid bundle.
    return head.lstrip().startswith(b"{")


def _verify_bundle_file(path: Path, request: VerificationRequest) -> VerifiedSignature:
    from plugingate.files import read_bounded
    from plugingate.signature.sigstore_bundle import MAX_BUNDLE_BYTES, read_bundle

    doc = read_bundle(read_bounded(path, MAX_BUNDLE_BYTES, "the Sigstore bundle"), source=request.source)
    return verify_document(doc, request, BUNDLE_FORMS)


def _verify_cosign_signature(path: Path, request: VerificationRequest) -> VerifiedSignature:
    from plugingate.keys import load_signature_file
    from plugingate.signature.artifact import signature_matches

    signature = load_signature_file(path)
    keys = request.keys()
    if not keys:
        raise VerificationError(
            f"{request.source}: a raw signature can only be verified with a public key, and no trusted key was"
            f" given; expected {describe_expected(request.signers)}",
            rule_id=rules.UNTRUSTED_SIGNER.id,
            hint="pass --key PUB, or use a Sigstore bundle (--bundle) for keyless signatures",
        )
    artifact = request.artifact
    for key in keys:
        if signature_matches(artifact, key.key, signature):
            identity = SignerIdentity(kind=SignerKind.KEY, key=key)
            return VerifiedSignature(signer=identity, trusted_signer=request.trusted(identity))
    raise VerificationError(
        f"{request.source}: the signature does not verify for {artifact.name} ({artifact.display_digest()}) with"
        f" any trusted key; expected a signature by {describe_expected(request.signers)}",
        rule_id=rules.SIGNATURE_INVALID.id,
        hint="the artifact or the signature was altered after signing, the signature belongs to another"
        " artifact, or it was made with a key the policy does not trust",
    )


# NOTE: the order is the order files beside a bundle are looked for: a bundle is preferred.
SIGNATURE_FILES: tuple[SignatureFile, ...] = (
    SignatureFile(SignatureFileKind.SIGSTORE_BUNDLE, (".sigstore.json", ".sigstore"), _is_json, _verify_bundle_file),
    SignatureFile(
        SignatureFileKind.COSIGN_SIGNATURE, (".sig",), lambda head: not _is_json(head), _verify_cosign_signature
    ),
)


def signature_file(kind: SignatureFileKind) -> SignatureFile:
    """The registered signature file of ``kind``."""
    return next(f for f in SIGNATURE_FILES if f.kind is kind)


def recognise(path: Path) -> FoundSignature:
    """A given signature file, its kind from its first bytes (unreadable: a raw signature, whose reader says why)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return FoundSignature(path, SignatureFileKind.COSIGN_SIGNATURE)
    kind = next((f.kind for f in SIGNATURE_FILES if f.recognise(head)), SignatureFileKind.COSIGN_SIGNATURE)
    return FoundSignature(path, kind)


def find_beside(source: Path) -> FoundSignature | None:
    """The first signature file beside the bundle, in the registry's order (``BUNDLE.sigstore.json`` first)."""
    from plugingate.bundle.beside import beside

    for file in SIGNATURE_FILES:
        for suffix in file.suffixes:
            path = beside(source, suffix)
            if path.is_file():
                return FoundSignature(path, file.kind)
    return None
