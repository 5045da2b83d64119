"""The tool versions plugingate is tested with (kept in step with ``tools/versions.env``).

``plugingate doctor`` warns when a tool it finds is at another version: the gate still runs (a
platform may pin newer tools on purpose), but its results are no longer the tested ones.
"""

from __future__ import annotations

from types import MappingProxyType

PINNED_VERSIONS = MappingProxyType({"syft": "1.57.1", "grype": "0.121.2", "cosign": "3.1.3", "kustomize": "5.5.0"})
