"""The bundle step: load a plugin bundle, digest it, and unpack it safely.

``open_bundle`` reads the archive once, hashing and unpacking in the same pass, into a private
temporary folder that is always removed; ``pack_directory`` writes the reproducible archive whose
digest a folder bundle has.
"""

from __future__ import annotations

from plugingate.bundle.digest import sha256_file
from plugingate.bundle.limits import BundleLimits
from plugingate.bundle.load import OpenedBundle, open_bundle
from plugingate.bundle.pack import pack_directory
from plugingate.bundle.stream import BundleKind

__all__ = ["BundleKind", "BundleLimits", "OpenedBundle", "open_bundle", "pack_directory", "sha256_file"]
