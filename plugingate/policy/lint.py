"""``plugingate policy lint``: a policy's sanity beyond its schema.

The schema catches what is malformed; lint catches what is well-formed but unwise: patterns that
match everything, exceptions that already expired, a required signature that nobody can satisfy.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date

from plugingate.findings import Location, Severity
from plugingate.policy.model import GatePolicy, Mode

_EVERYTHING = {"*", "**", "*.*", "*.**", "**.*", ".*", "^.*$", ".+", "^.+$"}


@dataclass(frozen=True, slots=True)
class LintIssue:
    """One thing lint found, with where it is in the policy file."""

    code: str
    severity: Severity
    message: str
    location: Location


def lint_policy(policy: GatePolicy, *, today: date | None = None) -> list[LintIssue]:
    """Every issue in ``policy``; errors make ``policy lint`` exit 1."""
    today = today or date.today()
    issues: list[LintIssue] = []

    def add(code: str, severity: Severity, message: str, *where: str | int) -> None:
        issues.append(LintIssue(code, severity, message, Location(policy.source, policy.line(*where))))

    sig = policy.signature
    if sig.required and not sig.trusted_signers:
        add(
            "PL001",
            Severity.ERROR,
            "signature.required is true but trustedSigners is empty: no bundle can ever pass",
            "spec",
            "signature",
        )
    for n, signer in enumerate(sig.trusted_signers + policy.provenance.signers):
        regex = signer.keyless.identity_regex if signer.keyless else None
        if regex is not None:
            if regex in _EVERYTHING:
                add(
                    "PL002",
                    Severity.ERROR,
                    f"identityRegex {regex!r} matches every identity",
                    "spec",
                    "signature",
                )
            elif (
                signer.keyless is not None
                and signer.keyless.identity_regex_search
                and not (regex.startswith("^") and regex.endswith("$"))
            ):
                # NOTE: without identityRegexSearch the regex must match the whole identity, anchored or not.
                add(
                    "PL003",
                    Severity.WARNING,
                    f"identityRegex {regex!r} is not anchored with ^…$ and identityRegexSearch is true: it also "
                    "matches identities that only contain it",
                    "spec",
                    "signature",
                    "trustedSigners",
                    n,
                )
    net = policy.capabilities.network
    for n, pattern in enumerate(net.egress_allow):
        if pattern in _EVERYTHING:
            add(
                "PL010",
                Severity.WARNING,
                f"egressAllow pattern {pattern!r} allows egress to every host",
                "spec",
                "capabilities",
                "network",
                "egressAllow",
                n,
            )
    for n, cidr in enumerate(net.allowed_addresses):
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            add(
                "PL011",
                Severity.ERROR,
                f"allowedAddresses entry {cidr!r} is not a CIDR",
                "spec",
                "capabilities",
            )
            continue
        if network.prefixlen == 0:
            add(
                "PL012",
                Severity.WARNING,
                f"allowedAddresses entry {cidr!r} allows every address, metadata endpoints included",
                "spec",
                "capabilities",
                "network",
                "allowedAddresses",
                n,
            )
    for n, pattern in enumerate(policy.capabilities.filesystem.writable_allow):
        if pattern in {"/", "/*", "/**"} or pattern in _EVERYTHING:
            add(
                "PL020",
                Severity.WARNING,
                f"writableAllow pattern {pattern!r} allows writing anywhere",
                "spec",
                "capabilities",
                "filesystem",
                "writableAllow",
                n,
            )
    for n, pattern in enumerate(policy.capabilities.secrets.name_patterns):
        if pattern in _EVERYTHING and not policy.capabilities.secrets.deny_patterns:
            add(
                "PL030",
                Severity.NOTE,
                f"secret namePatterns {pattern!r} allows any secret name (the manifests are still held to the "
                "declaration)",
                "spec",
                "capabilities",
                "secrets",
                "namePatterns",
                n,
            )
    kube = policy.capabilities.kubernetes
    for n, pattern in enumerate(kube.allowed_namespaces):
        if pattern in _EVERYTHING:
            add(
                "PL031",
                Severity.WARNING,
                f"allowedNamespaces pattern {pattern!r} lets a plugin place objects in every namespace (other "
                "tenants' included; system namespaces stay denied)",
                "spec",
                "capabilities",
                "kubernetes",
                "allowedNamespaces",
                n,
            )
    for n, kind in enumerate(kube.allowed_cluster_kinds):
        # NOTE: a PersistentVolume is mounted by any claim that binds it, past every pod check.
        if kind.lower() in {"persistentvolume", "namespace"}:
            add(
                "PL032",
                Severity.WARNING,
                f"allowedClusterKinds lists {kind}: a plugin may ship "
                + (
                    "volumes of the node (hostPath, local) that any claim mounts"
                    if kind.lower() != "namespace"
                    else "namespaces of its own choosing"
                )
                + "; review each such object by hand",
                "spec",
                "capabilities",
                "kubernetes",
                "allowedClusterKinds",
                n,
            )
    vulns = policy.vulnerabilities
    seen: set[tuple[str, str]] = set()
    for n, exc in enumerate(vulns.exceptions):
        where = ("spec", "vulnerabilities", "exceptions", n)
        if not exc.active(today):
            add(
                "PL040",
                Severity.WARNING,
                f"exception {exc.id} for {exc.package} expired on {exc.expires}",
                *where,
            )
        elif (exc.expires - today).days > 366:
            add(
                "PL041",
                Severity.WARNING,
                f"exception {exc.id} lasts until {exc.expires}, more than a year: review exceptions at least yearly",
                *where,
            )
        if (exc.id, exc.package) in seen:
            add("PL042", Severity.WARNING, f"exception {exc.id} for {exc.package} is listed twice", *where)
        seen.add((exc.id, exc.package))
        if re.fullmatch(r"\s*(todo|tbd|n/?a|none|-+|\.+)\s*", exc.reason, re.IGNORECASE):
            add("PL043", Severity.ERROR, f"exception {exc.id} has no real reason ({exc.reason!r})", *where)
    for n, vex in enumerate(vulns.vex):
        if not vex.is_file():
            add(
                "PL050",
                Severity.ERROR,
                f"VEX document {vex} does not exist",
                "spec",
                "vulnerabilities",
                "vex",
                n,
            )
    if policy.mode is not Mode.ENFORCE:
        add(
            "PL060",
            Severity.NOTE,
            f"mode is {policy.mode}: violations are reported but never deny",
            "spec",
            "mode",
        )
    if policy.signature.trusted_root is not None and not policy.signature.trusted_root.is_file():
        add(
            "PL070",
            Severity.ERROR,
            f"trustedRoot {policy.signature.trusted_root} does not exist",
            "spec",
            "signature",
            "trustedRoot",
        )
    approvals = policy.approvals
    if approvals.require_for and not approvals.approvers:
        add(
            "PL080",
            Severity.ERROR,
            "approvals.requireFor is set but approvals.approvers is empty: growth over --previous can never be "
            "approved",
            "spec",
            "approvals",
        )
    return issues
