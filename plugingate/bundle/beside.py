"""Files that travel beside a bundle: ``BUNDLE.sigstore.json``, ``BUNDLE.sig``, ``BUNDLE.intoto.jsonl``, ….

The signature and provenance steps both look for them; the naming rule lives with the bundle so that
neither step reaches into the other for it.
"""

from __future__ import annotations

from pathlib import Path


def beside(source: Path, suffix: str) -> Path:
    """``BUNDLE<suffix>`` next to the bundle (for a folder ``acme/``: ``acme<suffix>`` beside it)."""
    source = source.resolve() if source.is_dir() else source
    return source.with_name(source.name + suffix)
