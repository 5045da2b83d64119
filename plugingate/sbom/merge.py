"""Folding the SBOMs of images into the bundle's SBOM, so the gate emits one of each format.

In CycloneDX each image becomes a ``container`` component whose nested components are the image's
packages (syft and grype read nested components); in SPDX the image's packages, files and
relationships are added with their ids prefixed, and the document describes the image too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_PACKAGE_TYPES = frozenset({"library", "application", "framework", "firmware", "machine-learning-model"})


def _prefixed_refs(component: dict[str, Any], prefix: str) -> dict[str, Any]:
    out = dict(component)
    if isinstance(out.get("bom-ref"), str):
        out["bom-ref"] = prefix + out["bom-ref"]
    if isinstance(out.get("components"), list):
        out["components"] = [_prefixed_refs(c, prefix) for c in out["components"] if isinstance(c, dict)]
    return out


def merge_cyclonedx(main: dict[str, Any], images: Sequence[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """``main`` with each ``(name, ref, image SBOM)`` nested as a container component."""
    components = main.setdefault("components", [])
    dependencies = main.setdefault("dependencies", [])
    for number, (name, ref, doc) in enumerate(images):
        prefix = f"image-{number}:"
        nested = [_prefixed_refs(c, prefix) for c in doc.get("components") or [] if isinstance(c, dict)]
        components.append(
            {
                "bom-ref": f"plugingate-image-{number}",
                "type": "container",
                "name": name,
                "version": ref.rpartition("@")[2] if "@" in ref else "",
                "description": f"image {ref}",
                "components": nested,
            }
        )
        for dep in doc.get("dependencies") or []:
            if isinstance(dep, dict) and isinstance(dep.get("ref"), str):
                dependencies.append(
                    {
                        "ref": prefix + dep["ref"],
                        "dependsOn": [prefix + d for d in dep.get("dependsOn") or [] if isinstance(d, str)],
                    }
                )
    if not dependencies:
        main.pop("dependencies")
    return main


def count_packages(doc: dict[str, Any]) -> int:
    """The number of package components (nested ones included) in a CycloneDX document."""

    def walk(components: object) -> int:
        total = 0
        for c in components if isinstance(components, list) else []:
            if isinstance(c, dict):
                total += int(c.get("type") in _PACKAGE_TYPES) + walk(c.get("components"))
        return total

    return walk(doc.get("components"))


def _spdx_id(value: str, prefix: str) -> str:
    if value == "SPDXRef-DOCUMENT" or not value.startswith("SPDXRef-"):
        return value
    return "SPDXRef-" + prefix + value.removeprefix("SPDXRef-")


def merge_spdx(main: dict[str, Any], images: Sequence[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """``main`` with each image's packages, files and relationships added under prefixed ids."""
    packages = main.setdefault("packages", [])
    files = main.setdefault("files", [])
    relationships = main.setdefault("relationships", [])
    for number, (name, _ref, doc) in enumerate(images):
        prefix = f"image{number}-"
        for key, target in (("packages", packages), ("files", files)):
            for item in doc.get(key) or []:
                if isinstance(item, dict) and isinstance(item.get("SPDXID"), str):
                    target.append({**item, "SPDXID": _spdx_id(item["SPDXID"], prefix)})
        described = [d for d in doc.get("documentDescribes") or [] if isinstance(d, str)]
        for rel in doc.get("relationships") or []:
            if not isinstance(rel, dict):
                continue
            a, b = str(rel.get("spdxElementId", "")), str(rel.get("relatedSpdxElement", ""))
            if a == "SPDXRef-DOCUMENT" and rel.get("relationshipType") == "DESCRIBES":
                described.append(b)
                continue
            relationships.append(
                {**rel, "spdxElementId": _spdx_id(a, prefix), "relatedSpdxElement": _spdx_id(b, prefix)}
            )
        for element in described:
            relationships.append(
                {
                    "spdxElementId": "SPDXRef-DOCUMENT",
                    "relatedSpdxElement": _spdx_id(element, prefix),
                    "relationshipType": "DESCRIBES",
                    "comment": f"image {re.sub(r'[^ -~]', '?', name)}",
                }
            )
    if not files:
        main.pop("files")
    return main
