"""Rules of the bundle step: what it reports without stopping.

Hostile or over-limit archives are not findings: they raise ``BundleError`` (exit 2), because nothing
after the bundle step can be trusted to run on them. These rules are the things the step repaired or
noticed on the way and that a reviewer may want to see.
"""

from __future__ import annotations

from plugingate.findings import Rule, Severity, Step

SPECIAL_BITS_DROPPED = Rule(
    id="PG-BUN-001",
    step=Step.BUNDLE,
    title="setuid, setgid or sticky bit dropped",
    help=(
        "An archive entry asked for the setuid, setgid or sticky bit. Plugins never need them; the bundle "
        "step unpacks the file without them (modes are normalised to 0644 or 0755). Rebuild the bundle "
        "with `plugingate pack` to make the warning go away."
    ),
    severity=Severity.WARNING,
)

TRAILING_DATA = Rule(
    id="PG-BUN-002",
    step=Step.BUNDLE,
    title="data after the end of the archive",
    help=(
        "The file holds bytes after the tar end-of-archive marker or after the gzip stream. They are "
        "covered by the digest but no tool extracts them; a reproducible pack never has them."
    ),
    severity=Severity.WARNING,
)

CASE_COLLISION = Rule(
    id="PG-BUN-003",
    step=Step.BUNDLE,
    title="paths that differ only in case",
    help=(
        "Two entries differ only in letter case. On a case-insensitive file system one would overwrite "
        "the other, so what is reviewed may not be what runs. (Two spellings of plugin.yaml at the "
        "root are an error, not a warning.)"
    ),
    severity=Severity.WARNING,
)

RULES = (SPECIAL_BITS_DROPPED, TRAILING_DATA, CASE_COLLISION)
