"""Rules of the bundle step: what it reports without stopping, and the ids of what it refuses.

Hostile or over-limit archives are not findings: they raise ``BundleError`` (exit 2), because nothing
after the bundle step can be trusted to run on them. The warnings are the things the step repaired or
noticed on the way; the errors (``PG-BUN-002``, ``PG-BUN-004``) give refusals a stable id, which
their messages start with.
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
        "The file holds non-zero bytes after the tar end-of-archive marker (in the same gzip member or a "
        "later one), or after the gzip stream. GNU tar with --ignore-zeros and other readers that skip "
        "zero blocks unpack what follows the marker, others stop there; GNU tar fails on bytes after the "
        "gzip stream where the others ignore them. So the bundle is refused (exit 2). Zero padding is "
        "fine; a reproducible pack has none."
    ),
    severity=Severity.ERROR,
)

CASE_COLLISION = Rule(
    id="PG-BUN-003",
    step=Step.BUNDLE,
    title="paths that differ only in case",
    help=(
        "Two entries differ only in letter case, or in how an accent is composed (NFC against NFD). On a "
        "case-insensitive or normalising file system (macOS) one would overwrite "
        "the other, so what is reviewed may not be what runs. (Two spellings of plugin.yaml at the "
        "root are an error, not a warning.)"
    ),
    severity=Severity.WARNING,
)

AMBIGUOUS_ARCHIVE = Rule(
    id="PG-BUN-004",
    step=Step.BUNDLE,
    title="archive that extractors read differently",
    help=(
        "A tar header that GNU tar, bsdtar, Python's tarfile and Go's archive/tar (Helm, containerd) do not "
        "all read the same way: two extended headers for one entry, a GNU long name with a pax path, a pax "
        "global header, a sparse file, an unknown pax key, a number or checksum in a form only some accept, "
        "a regular file named like a folder, a link or folder that carries data. What the gate checks "
        "would not be what every tool unpacks, so the bundle is refused (exit 2). `plugingate pack` never "
        "writes such headers."
    ),
    severity=Severity.ERROR,
)

RULES = (SPECIAL_BITS_DROPPED, TRAILING_DATA, CASE_COLLISION, AMBIGUOUS_ARCHIVE)
