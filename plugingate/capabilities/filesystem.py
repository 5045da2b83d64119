"""Declared filesystem access against the policy: writable paths, and paths never to be read."""

from __future__ import annotations

from plugingate.capabilities import rules
from plugingate.capabilities._where import CAPS, at
from plugingate.capabilities.patterns import normalize_path, path_covered, path_reaches
from plugingate.declaration import Declaration
from plugingate.findings import Finding
from plugingate.policy.model import FilesystemPolicy


def check_filesystem(declaration: Declaration, policy: FilesystemPolicy) -> list[Finding]:
    """Each written path must be allowed; no read (or written) path may reach a denied one."""
    findings: list[Finding] = []
    caps = declaration.capabilities
    for n, path in enumerate(caps.fs_write):
        if not any(path_covered(path, p) for p in policy.writable_allow):
            allowed = ", ".join(policy.writable_allow) or "(none)"
            findings.append(
                rules.WRITE_PATH.finding(
                    f"writable path {path!r} (as {normalize_path(path)}) is not allowed; expected a path "
                    f"matching filesystem.writableAllow: {allowed}",
                    location=at(declaration, *CAPS, "filesystem", "write", n),
                    path=path,
                )
            )
    for field, paths in (("read", caps.fs_read), ("write", caps.fs_write)):
        for n, path in enumerate(paths):
            denied = [d for d in policy.read_deny if path_reaches(path, d)]
            if denied:
                findings.append(
                    rules.READ_PATH.finding(
                        f"{field} path {path!r} reaches {', '.join(denied)}, which filesystem.readDeny "
                        "forbids; expected a path outside it",
                        location=at(declaration, *CAPS, "filesystem", field, n),
                        path=path,
                    )
                )
    return findings
