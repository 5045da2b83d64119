"""SLSA provenance (v1 and v0.2): what it says, and the checks slsa-verifier makes on it.

The statement is read as a plain dict (the ``in-toto-attestation`` package turns integers into
floats). Facts are read from the predicate; for keyless provenance the signing certificate's claims
are authoritative and must agree with the predicate (the builder workflow, the source repository,
the ref), so a predicate can't claim a source its signer didn't build from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plugingate.findings import Finding
from plugingate.provenance import rules
from plugingate.signature.identity import KeylessIdentity, SignerIdentity, TrustedSigner, normalize_repository

SLSA_V1 = "https://slsa.dev/provenance/v1"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")
GITHUB_HOSTED_BUILDER = "https://github.com/actions/runner/github-hosted"


@dataclass(frozen=True, slots=True)
class ProvenanceFacts:
    """What a SLSA provenance statement says about a build."""

    predicate_type: str
    builder_id: str | None
    source_repository: str | None
    source_ref: str | None
    build_type: str | None
    subjects: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """For reports and the gate attestation."""
        return {
            "predicateType": self.predicate_type,
            "builderId": self.builder_id,
            "sourceRepository": self.source_repository,
            "sourceRef": self.source_ref,
            "buildType": self.build_type,
        }


@dataclass(frozen=True, slots=True)
class ProvenanceRequirements:
    """What the provenance must say: trusted builders, source repositories and refs (empty: any)."""

    trusted_builders: tuple[str, ...] = ()
    source_repositories: tuple[str, ...] = ()
    source_refs: tuple[str, ...] = ()


class NotProvenanceError(ValueError):
    """The payload is not an in-toto statement with a SLSA provenance predicate."""


def _get(doc: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _split_uri(uri: str | None) -> tuple[str | None, str | None]:
    """``git+https://github.com/o/r@refs/heads/main`` → (``github.com/o/r``, ``refs/heads/main``)."""
    if not uri or not isinstance(uri, str):
        return None, None
    head, sep, ref = uri.rpartition("@")
    if sep and "/" in head and not ref.startswith("sha256:"):
        return normalize_repository(head), ref or None
    return normalize_repository(uri), None


def parse_statement(payload: bytes) -> dict[str, Any]:
    """The in-toto statement of a verified payload; raises ``NotProvenanceError``."""
    try:
        statement = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NotProvenanceError(f"the payload is not JSON: {exc}") from exc
    if not isinstance(statement, dict) or statement.get("_type") not in STATEMENT_TYPES:
        found = statement.get("_type") if isinstance(statement, dict) else type(statement).__name__
        raise NotProvenanceError(f"the payload is a {found!r}, not an in-toto statement")
    if statement.get("predicateType") not in (SLSA_V1, SLSA_V02):
        raise NotProvenanceError(
            f"the predicate type is {statement.get('predicateType')!r}; expected {SLSA_V1!r} or {SLSA_V02!r}"
        )
    return statement


def extract_facts(statement: dict[str, Any]) -> ProvenanceFacts:
    """Builder, source and subjects of a SLSA v1 or v0.2 statement."""
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        raise NotProvenanceError("the statement has no predicate object")
    subjects: list[str] = []
    for subject in statement.get("subject") or []:
        digest = subject.get("digest") if isinstance(subject, dict) else None
        if isinstance(digest, dict):
            subjects.extend(f"{alg}:{value}" for alg, value in digest.items() if isinstance(value, str))
    repo: str | None
    ref: str | None
    if statement["predicateType"] == SLSA_V1:
        builder = _get(predicate, "runDetails", "builder", "id")
        build_type = _get(predicate, "buildDefinition", "buildType")
        ext = _get(predicate, "buildDefinition", "externalParameters") or {}
        workflow = _get(ext, "workflow")
        repo, ref = None, None
        if isinstance(workflow, dict) and isinstance(workflow.get("repository"), str):
            repo = normalize_repository(workflow["repository"])
            ref = workflow.get("ref") if isinstance(workflow.get("ref"), str) else None
        elif isinstance(_get(ext, "source", "uri"), str):
            repo, ref = _split_uri(_get(ext, "source", "uri"))
        else:
            deps = _get(predicate, "buildDefinition", "resolvedDependencies")
            if isinstance(deps, list) and deps and isinstance(deps[0], dict):
                repo, ref = _split_uri(deps[0].get("uri"))
    else:
        builder = _get(predicate, "builder", "id")
        build_type = predicate.get("buildType")
        repo, ref = _split_uri(_get(predicate, "invocation", "configSource", "uri"))
        if repo is None:
            materials = predicate.get("materials")
            if isinstance(materials, list) and materials and isinstance(materials[0], dict):
                repo, ref = _split_uri(materials[0].get("uri"))
    return ProvenanceFacts(
        predicate_type=statement["predicateType"],
        builder_id=builder if isinstance(builder, str) else None,
        source_repository=repo,
        source_ref=ref,
        build_type=build_type if isinstance(build_type, str) else None,
        subjects=tuple(subjects),
    )


@dataclass(frozen=True, slots=True)
class BuilderId:
    """A trusted builder id as slsa-verifier's ``--builder-id`` reads it: ``NAME`` or ``NAME@REF``.

    A bare ``NAME`` (or ``NAME@``, the older plugingate spelling) trusts any ref of that builder; ``NAME@REF``
    pins one, where ``NAME@v1.7.0`` also matches a builder at ``refs/tags/v1.7.0`` (slsa-verifier's
    ``allowRef``). Names are compared whole, never as prefixes, so ``…/builder.yml`` does not trust
    ``…/builder.yml.evil``.
    """

    name: str
    ref: str | None = None

    @classmethod
    def parse(cls, text: str) -> BuilderId | None:
        """The id's name and ref; None when it is not one (empty, or more than one ``@``)."""
        name, sep, ref = text.strip().partition("@")
        if not name or "@" in ref:
            return None
        return cls(name=name, ref=ref if sep and ref else None)

    def matches(self, builder_id: str) -> bool:
        """Whether a provenance's builder id is this trusted builder."""
        found = BuilderId.parse(builder_id)
        if found is None or found.name != self.name:
            return False
        if self.ref is None:
            return True
        return found.ref is not None and found.ref in (self.ref, f"refs/tags/{self.ref}")

    def __str__(self) -> str:
        return self.name if self.ref is None else f"{self.name}@{self.ref}"

    def signer(self) -> KeylessIdentity | None:
        """The identity that signs provenance of this builder, when the id names it (else None).

        A GitHub reusable-workflow builder signs with its own workflow as the certificate SAN,
        ``https://github.com/ORG/REPO/.github/workflows/X.yml@REF``, issued by GitHub Actions; that is
        what slsa-verifier trusts without an ``--identity``. Other builder ids (a hosted runner, a CI
        service) do not say who signs.
        """
        if not (self.name.startswith("https://github.com/") and "/.github/workflows/" in self.name):
            return None
        if self.ref is None:
            return KeylessIdentity(identity_regex=re.escape(self.name) + "@[^@]+")
        if self.ref.startswith("refs/"):
            return KeylessIdentity(identity=f"{self.name}@{self.ref}")
        refs = "|".join(re.escape(r) for r in (self.ref, f"refs/tags/{self.ref}"))
        return KeylessIdentity(identity_regex=f"{re.escape(self.name)}@(?:{refs})")


def builder_trusted(builder_id: str, trusted: Sequence[str]) -> bool:
    """Whether ``builder_id`` is one of the trusted builder ids (see ``BuilderId``)."""
    return any(b is not None and b.matches(builder_id) for b in map(BuilderId.parse, trusted))


def builder_signers(trusted: Sequence[str]) -> list[TrustedSigner]:
    """The signers the trusted builder ids name (``BuilderId.signer``), one per id that names one."""
    out = []
    for entry in trusted:
        parsed = BuilderId.parse(entry)
        keyless = parsed.signer() if parsed is not None else None
        if keyless is not None:
            out.append(TrustedSigner(name=f"builder {parsed}", keyless=keyless))
    return out


def check_facts(
    facts: ProvenanceFacts, signer: SignerIdentity | None, requirements: ProvenanceRequirements
) -> list[Finding]:
    """The slsa-verifier checks beyond the subject: builder, source repository, ref, certificate."""
    findings: list[Finding] = []
    claims = signer.claims if signer is not None else None
    builder = facts.builder_id
    if requirements.trusted_builders and (
        builder is None or not builder_trusted(builder, requirements.trusted_builders)
    ):
        findings.append(
            rules.UNTRUSTED_BUILDER.finding(
                f"the provenance was built by {builder!r}; expected one of the trusted builders"
                f" {list(requirements.trusted_builders)}",
                builderId=builder,
            )
        )
    if claims is not None and builder is not None:
        # NOTE: slsa-verifier: a workflow builder id must be the workflow that signed (the SAN or the
        # build signer URI); a hosted-runner builder id must match the runner claim.
        if "/.github/workflows/" in builder:
            signed_by = {claims.san, claims.build_signer_uri} - {None}
            if builder not in signed_by:
                findings.append(
                    rules.BUILDER_MISMATCH.finding(
                        f"the provenance names builder {builder!r} but was signed by {claims.san!r}",
                    )
                )
        elif builder == GITHUB_HOSTED_BUILDER and claims.runner_environment not in (None, "github-hosted"):
            findings.append(
                rules.BUILDER_MISMATCH.finding(
                    f"the provenance names builder {builder!r} but the certificate says the runner was"
                    f" {claims.runner_environment!r}",
                )
            )
    cert_repo = normalize_repository(claims.source_repository) if claims and claims.source_repository else None
    if cert_repo is not None and facts.source_repository is not None and cert_repo != facts.source_repository:
        findings.append(
            rules.WRONG_SOURCE.finding(
                f"the provenance names source {facts.source_repository!r} but its signing certificate says"
                f" {cert_repo!r}",
            )
        )
    if requirements.source_repositories:
        expected = [normalize_repository(r) for r in requirements.source_repositories]
        found = [r for r in (facts.source_repository, cert_repo) if r is not None]
        if not found or any(r not in expected for r in found):
            findings.append(
                rules.WRONG_SOURCE.finding(
                    f"built from source repository {found[0] if found else None!r}; expected one of {expected}",
                    sourceRepository=found[0] if found else None,
                )
            )
    if requirements.source_refs:
        refs = {r for r in (facts.source_ref, claims.source_ref if claims else None) if r}
        wanted = (
            set(requirements.source_refs)
            | {f"refs/heads/{r}" for r in requirements.source_refs}
            | {f"refs/tags/{r}" for r in requirements.source_refs}
        )
        if not refs or not refs <= wanted:
            findings.append(
                rules.WRONG_REF.finding(
                    f"built from ref {sorted(refs) or None}; expected one of {list(requirements.source_refs)}",
                )
            )
    return findings
