"""The project's own helpers the gate runs are pinned for the sources in this checkout.

The gate runs no binary whose sha256 is not pinned (plugingate/tools/digests.txt). A helper built from
tools/ changes digest whenever its sources change, so a forgotten pin would make every gate exit 3 on
a fresh machine: this test names the line to add instead.
"""

from __future__ import annotations

import hashlib

from tests.conftest import REPO

DIGESTS = REPO / "plugingate" / "tools" / "digests.txt"


def source_key(name: str) -> str:
    folder = REPO / "tools" / name
    data = b"".join((folder / part).read_bytes() for part in ("go.mod", "go.sum", "main.go"))
    return hashlib.sha256(data).hexdigest()[:16]


def test_olmvalidate_is_pinned_for_its_current_sources() -> None:
    pinned = [line.split() for line in DIGESTS.read_text().splitlines() if line.startswith("olmvalidate ")]
    assert source_key("olmvalidate") in {fields[1] for fields in pinned}, (
        f"tools/olmvalidate changed (key {source_key('olmvalidate')}): build it twice with scripts/setup-tools, "
        "compare, and add its line to plugingate/tools/digests.txt"
    )


def test_k8sdecode_is_pinned_for_its_current_sources() -> None:
    pinned = [line.split() for line in DIGESTS.read_text().splitlines() if line.startswith("k8sdecode ")]
    versions = {fields[1] for fields in pinned}
    assert source_key("k8sdecode") in versions, (
        f"tools/k8sdecode changed (key {source_key('k8sdecode')}): build it twice with scripts/setup-tools, compare, "
        "and add its line to plugingate/tools/digests.txt"
    )
