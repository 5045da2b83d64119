"""Declared secrets against the policy's name patterns."""

from __future__ import annotations

from plugingate.capabilities import rules
from plugingate.capabilities._where import CAPS, at
from plugingate.capabilities.patterns import name_matches
from plugingate.declaration import Declaration
from plugingate.findings import Finding
from plugingate.policy.model import SecretsPolicy


def check_secrets(declaration: Declaration, policy: SecretsPolicy) -> list[Finding]:
    """A declared secret's name must match a name pattern and no deny pattern."""
    findings: list[Finding] = []
    for n, secret in enumerate(declaration.capabilities.secrets):
        denied = [p for p in policy.deny_patterns if name_matches(secret.name, p)]
        if denied:
            message = (
                f"secret {secret.name!r} matches secrets.denyPatterns {', '.join(denied)}; expected a secret "
                "of the plugin's own, not a platform secret"
            )
        elif not any(name_matches(secret.name, p) for p in policy.name_patterns):
            message = (
                f"secret {secret.name!r} matches none of secrets.namePatterns "
                f"({', '.join(policy.name_patterns) or 'none'}); expected a name the policy allows"
            )
        else:
            continue
        findings.append(
            rules.SECRET_NAME.finding(
                message, location=at(declaration, *CAPS, "secrets", n, "name"), secret=secret.name
            )
        )
    return findings
