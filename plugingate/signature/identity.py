"""Who signed, and whether the policy trusts them.

A keyless signer is the identity in a Fulcio certificate: its subject alternative name, the OIDC
issuer, and for GitHub Actions the claims Fulcio copies from the token (source repository, ref,
trigger, runner environment). A key signer is a public key. ``TrustedSigner`` is one entry of the
policy's ``trustedSigners``; ``SignerIdentity`` is what a verified signature says about its signer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from plugingate.keys import LoadedPublicKey, same_key

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"

# NOTE: Fulcio's certificate extensions (github.com/sigstore/fulcio docs/oid-info.md). The 1.1-1.6
# ones are raw strings (deprecated); 1.8 onwards are DER-encoded UTF8Strings.
_OID_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"
_OID_TRIGGER_V1 = "1.3.6.1.4.1.57264.1.2"
_OID_REPOSITORY_V1 = "1.3.6.1.4.1.57264.1.5"
_OID_REF_V1 = "1.3.6.1.4.1.57264.1.6"
_OID_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
_OID_BUILD_SIGNER_URI = "1.3.6.1.4.1.57264.1.9"
_OID_RUNNER_ENVIRONMENT = "1.3.6.1.4.1.57264.1.11"
_OID_SOURCE_REPOSITORY_URI = "1.3.6.1.4.1.57264.1.12"
_OID_SOURCE_REPOSITORY_REF = "1.3.6.1.4.1.57264.1.14"
_OID_BUILD_TRIGGER = "1.3.6.1.4.1.57264.1.20"
_OID_OTHERNAME_SAN = "1.3.6.1.4.1.57264.1.7"


class SignerKind(StrEnum):
    """How a signature was made."""

    KEYLESS = "keyless"
    KEY = "key"


@dataclass(frozen=True, slots=True)
class CertificateClaims:
    """What a Fulcio certificate says about its subject."""

    san: str
    issuer: str | None
    source_repository: str | None = None
    source_ref: str | None = None
    trigger: str | None = None
    runner_environment: str | None = None
    build_signer_uri: str | None = None

    def to_dict(self) -> dict[str, str]:
        """The non-empty claims, for reports and attestations."""
        out = {
            "identity": self.san,
            "issuer": self.issuer,
            "sourceRepository": self.source_repository,
            "sourceRef": self.source_ref,
            "trigger": self.trigger,
            "runnerEnvironment": self.runner_environment,
            "buildSignerURI": self.build_signer_uri,
        }
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True, slots=True)
class SignerIdentity:
    """The signer of a verified signature: a certificate's claims, or a public key."""

    kind: SignerKind
    claims: CertificateClaims | None = None
    key: LoadedPublicKey | None = None

    def describe(self) -> str:
        """One line naming the signer, for messages."""
        if self.claims is not None:
            text = f"identity {self.claims.san!r} issued by {self.claims.issuer!r}"
            extra = [
                f"{name} {value!r}"
                for name, value in (
                    ("source repository", self.claims.source_repository),
                    ("ref", self.claims.source_ref),
                    ("trigger", self.claims.trigger),
                    ("runner", self.claims.runner_environment),
                )
                if value
            ]
            return text + (f" ({', '.join(extra)})" if extra else "")
        if self.key is not None:
            return self.key.describe()
        return "unknown signer"

    def to_dict(self) -> dict[str, object]:
        """The signer as reports and the gate attestation record it."""
        out: dict[str, object] = {"kind": str(self.kind)}
        if self.claims is not None:
            out.update(self.claims.to_dict())
        if self.key is not None:
            from plugingate.keys import fingerprint

            out["keySha256"] = fingerprint(self.key.key)
            out["keyAlgorithm"] = self.key.algorithm
        return out

    def attested(self, name: str | None = None) -> dict[str, object]:
        """The signer as the gate attestation's predicate records it; ``name`` is the trusted signer that matched."""
        out: dict[str, object] = {"kind": str(self.kind)}
        if name:
            out["name"] = name
        if self.claims is not None:
            if self.claims.san:
                out["identity"] = self.claims.san
            if self.claims.issuer:
                out["issuer"] = self.claims.issuer
        if self.key is not None:
            from plugingate.keys import fingerprint

            out["keyFingerprint"] = fingerprint(self.key.key)
        return out


def normalize_repository(value: str) -> str:
    """``github.com/org/repo`` from ``git+https://github.com/Org/Repo.git`` and the like.

    The host is lower-cased (hosts are case-insensitive); the path is kept as is (GitHub paths are
    case-insensitive, but another forge's may not be: comparing them exactly fails closed).
    """
    text = value.strip()
    for prefix in ("git+",):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", text)
    text = text.split("@", 1)[0] if "@" in text and "/" not in text.split("@", 1)[0] else text
    text = text.rstrip("/")
    if text.endswith(".git"):
        text = text[:-4]
    host, _, path = text.partition("/")
    return f"{host.lower()}/{path}" if path else host.lower()


SEARCH_OPTION = "--identity-regex-search"
SEARCH_FIELD = "identityRegexSearch"


def identity_regex_mismatch(regex: str, identity: str, *, search: bool = False) -> str | None:
    """Why ``identity`` does not satisfy ``regex`` (None when it does).

    By default the regex must match the whole identity (``re.fullmatch``): cosign's
    ``--certificate-identity-regexp`` searches instead, so ``https://github.com/acme/`` written for cosign
    would trust ``https://github.com/acme/../evil`` or ``…?https://github.com/acme/``. ``search`` takes
    cosign's semantics, on request only. The message says which semantics applied, and when a search would
    have matched, that this is the reason.
    """
    if search:
        if re.search(regex, identity):
            return None
        return f"identity {identity!r} contains no match of /{regex}/ (searched anywhere in it, as cosign does)"
    if re.fullmatch(regex, identity):
        return None
    found = re.search(regex, identity)
    part = f": it matches only {found.group(0)!r}, a part of it" if found else ""
    return (
        f"identity {identity!r} does not match /{regex}/ as a whole{part}; the regex must match the whole "
        f"identity (use {SEARCH_OPTION}, or {SEARCH_FIELD}: true in a policy, for cosign's search semantics)"
    )


@dataclass(frozen=True, slots=True)
class KeylessIdentity:
    """A trusted keyless identity: SAN (exact or a full-match regex), issuer, optional GitHub claims.

    ``workflow_ref`` is compared with the certificate's source-repository ref (``refs/heads/main``,
    ``refs/tags/v1.2.0``); ``source_repository`` with its source-repository URI, both normalized as
    ``github.com/ORG/REPO``. An identity regex must match the whole SAN (``re.fullmatch``), unlike
    cosign's unanchored search, so that ``https://github.com/acme/.*`` can't match
    ``https://github.com/acme-evil/...`` by a missing anchor; ``identity_regex_search`` asks for cosign's
    search semantics instead (off by default).
    """

    issuer: str = GITHUB_ACTIONS_ISSUER
    identity: str | None = None
    identity_regex: str | None = None
    source_repository: str | None = None
    workflow_ref: str | None = None
    trigger: str | None = None
    runner_environment: str | None = None
    identity_regex_search: bool = False

    def __post_init__(self) -> None:
        if (self.identity is None) == (self.identity_regex is None):
            raise ValueError("a keyless identity needs exactly one of identity and identityRegex")
        if self.identity_regex_search and self.identity_regex is None:
            raise ValueError(f"{SEARCH_FIELD} applies to identityRegex only")
        if self.identity_regex is not None:
            re.compile(self.identity_regex)

    def describe(self) -> str:
        """One line naming what is expected."""
        if self.identity is not None:
            who = repr(self.identity)
        elif self.identity_regex_search:
            who = f"containing a match of /{self.identity_regex}/"
        else:
            who = f"matching /{self.identity_regex}/ as a whole"
        text = f"identity {who} issued by {self.issuer!r}"
        extra = [
            f"{name} {value!r}"
            for name, value in (
                ("source repository", self.source_repository),
                ("ref", self.workflow_ref),
                ("trigger", self.trigger),
                ("runner", self.runner_environment),
            )
            if value
        ]
        return text + (f" ({', '.join(extra)})" if extra else "")

    def mismatches(self, claims: CertificateClaims) -> list[str]:
        """What about ``claims`` differs from this identity (empty: it matches)."""
        out: list[str] = []
        if self.identity is not None and claims.san != self.identity:
            out.append(f"identity {claims.san!r} is not {self.identity!r}")
        if self.identity_regex is not None:
            problem = identity_regex_mismatch(self.identity_regex, claims.san, search=self.identity_regex_search)
            if problem is not None:
                out.append(problem)
        if claims.issuer != self.issuer:
            out.append(f"issuer {claims.issuer!r} is not {self.issuer!r}")
        if self.source_repository is not None:
            found = normalize_repository(claims.source_repository) if claims.source_repository else None
            if found != normalize_repository(self.source_repository):
                out.append(f"source repository {found!r} is not {normalize_repository(self.source_repository)!r}")
        if self.workflow_ref is not None and claims.source_ref != self.workflow_ref:
            out.append(f"ref {claims.source_ref!r} is not {self.workflow_ref!r}")
        if self.trigger is not None and claims.trigger != self.trigger:
            out.append(f"trigger {claims.trigger!r} is not {self.trigger!r}")
        if self.runner_environment is not None and claims.runner_environment != self.runner_environment:
            out.append(f"runner environment {claims.runner_environment!r} is not {self.runner_environment!r}")
        return out


@dataclass(frozen=True, slots=True)
class TrustedSigner:
    """One trusted signer of a policy: a keyless identity or a public key (exactly one)."""

    name: str
    keyless: KeylessIdentity | None = None
    key: LoadedPublicKey | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if (self.keyless is None) == (self.key is None):
            raise ValueError(f"trusted signer {self.name!r} needs exactly one of keyless and key")

    def describe(self) -> str:
        """``name: what is expected``."""
        if self.keyless is not None:
            return f"{self.name}: {self.keyless.describe()}"
        assert self.key is not None
        return f"{self.name}: {self.key.describe()}"


def describe_expected(signers: Sequence[TrustedSigner]) -> str:
    """The expected signers, joined for a message."""
    return "; ".join(s.describe() for s in signers) or "no trusted signer"


def match_signer(identity: SignerIdentity, signers: Sequence[TrustedSigner]) -> tuple[TrustedSigner | None, str]:
    """The first trusted signer matching ``identity``, or None and why none matched."""
    reasons: list[str] = []
    for signer in signers:
        if identity.kind is SignerKind.KEYLESS and signer.keyless is not None and identity.claims is not None:
            problems = signer.keyless.mismatches(identity.claims)
            if not problems:
                return signer, ""
            reasons.append(f"{signer.name}: {'; '.join(problems)}")
        elif identity.kind is SignerKind.KEY and signer.key is not None and identity.key is not None:
            if same_key(signer.key.key, identity.key.key):
                return signer, ""
            reasons.append(f"{signer.name}: another key")
    return None, " | ".join(reasons)


class Mismatch(StrEnum):
    """Why no trusted signer matched a verified signer."""

    ISSUER = "issuer"  # a keyless certificate from an issuer no trusted keyless signer names
    IDENTITY = "identity"  # the issuer is trusted; the SAN or a CI claim is not
    SIGNER = "signer"  # anything else: another key, keyless against keys only


def classify_mismatch(identity: SignerIdentity, signers: Sequence[TrustedSigner]) -> Mismatch:
    """Which kind of mismatch an unmatched ``identity`` is, so that each gets its own rule id.

    # NOTE: "issuer" is only said when *no* trusted keyless signer has the certificate's issuer:
    # a token from another provider. Otherwise the issuer was right and the identity was wrong.
    """
    keyless = [s.keyless for s in signers if s.keyless is not None]
    if identity.kind is not SignerKind.KEYLESS or identity.claims is None or not keyless:
        return Mismatch.SIGNER
    if all(k.issuer != identity.claims.issuer for k in keyless):
        return Mismatch.ISSUER
    return Mismatch.IDENTITY


def _der_utf8(raw: bytes) -> str | None:
    # NOTE: a DER UTF8String (tag 0x0c) with a short or long length; anything else is not a claim.
    if len(raw) < 2 or raw[0] != 0x0C:
        return None
    length = raw[1]
    offset = 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(raw) < 2 + count:
            return None
        length = int.from_bytes(raw[2 : 2 + count], "big")
        offset = 2 + count
    if len(raw) != offset + length:
        return None
    try:
        return raw[offset:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def certificate_claims(cert: Certificate) -> CertificateClaims:
    """Read the SAN and the Fulcio claims of a signing certificate."""
    from cryptography import x509

    raw: dict[str, bytes] = {}
    for ext in cert.extensions:
        if isinstance(ext.value, x509.UnrecognizedExtension):
            raw[ext.oid.dotted_string] = ext.value.value

    def v2(oid: str) -> str | None:
        return _der_utf8(raw[oid]) if oid in raw else None

    def v1(oid: str) -> str | None:
        if oid not in raw:
            return None
        try:
            return raw[oid].decode("utf-8")
        except UnicodeDecodeError:
            return None

    san = ""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = ext.get_values_for_type(x509.UniformResourceIdentifier)
        emails = ext.get_values_for_type(x509.RFC822Name)
        others = [o for o in ext.get_values_for_type(x509.OtherName) if o.type_id.dotted_string == _OID_OTHERNAME_SAN]
        if uris:
            san = uris[0]
        elif emails:
            san = emails[0]
        elif others:
            san = _der_utf8(others[0].value) or ""
    except x509.ExtensionNotFound:
        pass
    repo_v1 = v1(_OID_REPOSITORY_V1)
    return CertificateClaims(
        san=san,
        issuer=v2(_OID_ISSUER_V2) or v1(_OID_ISSUER_V1),
        source_repository=v2(_OID_SOURCE_REPOSITORY_URI) or (f"https://github.com/{repo_v1}" if repo_v1 else None),
        source_ref=v2(_OID_SOURCE_REPOSITORY_REF) or v1(_OID_REF_V1),
        trigger=v2(_OID_BUILD_TRIGGER) or v1(_OID_TRIGGER_V1),
        runner_environment=v2(_OID_RUNNER_ENVIRONMENT),
        build_signer_uri=v2(_OID_BUILD_SIGNER_URI),
    )
