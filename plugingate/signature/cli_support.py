"""Build trusted signers from command-line options (shared by verify-signature and verify-provenance)."""

from __future__ import annotations

from pathlib import Path

from plugingate.errors import InputError
from plugingate.keys import load_public_key
from plugingate.signature.identity import GITHUB_ACTIONS_ISSUER, KeylessIdentity, TrustedSigner


def signers_from_options(
    *,
    keys: tuple[Path, ...],
    identity: str | None,
    identity_regex: str | None,
    issuer: str | None,
    source_repository: str | None = None,
    workflow_ref: str | None = None,
    trigger: str | None = None,
    runner_environment: str | None = None,
    identity_regex_search: bool = False,
) -> list[TrustedSigner]:
    """The trusted signers the options name: each ``--key``, and one keyless identity if given."""
    signers = [TrustedSigner(name=f"--key {path}", key=load_public_key(path)) for path in keys]
    if identity and identity_regex:
        raise InputError("give --identity or --identity-regex, not both", field="--identity")
    if identity_regex_search and not identity_regex:
        raise InputError("--identity-regex-search needs --identity-regex", field="--identity-regex-search")
    if identity or identity_regex:
        try:
            keyless = KeylessIdentity(
                issuer=issuer or GITHUB_ACTIONS_ISSUER,
                identity=identity,
                identity_regex=identity_regex,
                source_repository=source_repository,
                workflow_ref=workflow_ref,
                trigger=trigger,
                runner_environment=runner_environment,
                identity_regex_search=identity_regex_search,
            )
        except Exception as exc:  # NOTE: re.error or ValueError from a bad pattern
            raise InputError(f"invalid identity: {exc}", field="--identity-regex") from exc
        signers.append(TrustedSigner(name="--identity", keyless=keyless))
    elif source_repository or workflow_ref or trigger or runner_environment:
        raise InputError("the GitHub claim options need --identity or --identity-regex", field="--source-repository")
    return signers
