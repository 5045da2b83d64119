"""OpenVEX documents: statements that a vulnerability does not affect (or is fixed in) a product.

plugingate applies VEX itself rather than through ``grype --vex``: grype matches VEX products to
the scanned source (an image reference), which an SBOM of a bundle does not have; here a product is
the package URL of the affected package (version optional), or a product whose ``subcomponents``
list it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from plugingate.errors import InputError
from plugingate.files import FileTooLargeError, UnreadableFileError, read_bounded
from plugingate.vulnerabilities.purl import Purl

MAX_VEX_BYTES = 16 * 1024 * 1024


class VexStatus(StrEnum):
    """OpenVEX statuses; ``not_affected`` and ``fixed`` suppress a match."""

    NOT_AFFECTED = "not_affected"
    AFFECTED = "affected"
    FIXED = "fixed"
    UNDER_INVESTIGATION = "under_investigation"


@dataclass(frozen=True, slots=True)
class VexStatement:
    """One statement: which vulnerability ids, which packages, what status, from which file."""

    document: str
    index: int
    ids: frozenset[str]
    products: tuple[Purl, ...]
    status: VexStatus
    justification: str

    @property
    def suppresses(self) -> bool:
        """Whether the statement removes a match."""
        return self.status in (VexStatus.NOT_AFFECTED, VexStatus.FIXED)

    def applies(self, ids: frozenset[str], purl: str) -> bool:
        """Whether this statement is about one of ``ids`` in the package ``purl``."""
        if not self.ids & ids or not purl:
            return False
        try:
            target = Purl.parse(purl)
        except ValueError:
            return False
        return any(product.covers(target) for product in self.products)

    def to_dict(self) -> dict[str, object]:
        """As recorded in ``vulns.json``."""
        return {
            "document": self.document,
            "statement": self.index,
            "status": str(self.status),
            "justification": self.justification,
        }


def load_vex(paths: Sequence[Path]) -> list[VexStatement]:
    """Every statement of the OpenVEX documents at ``paths``; ``InputError`` (exit 2) on a bad one."""
    statements: list[VexStatement] = []
    for path in paths:
        statements.extend(_load_one(path))
    return statements


def _load_one(path: Path) -> list[VexStatement]:
    def bad(message: str, field: str | None = None) -> InputError:
        return InputError(
            message,
            path=str(path),
            field=field,
            hint="a VEX document must be OpenVEX JSON (https://github.com/openvex/spec)",
        )

    try:
        doc = json.loads(read_bounded(path, MAX_VEX_BYTES, "the VEX document"))
    except FileTooLargeError as exc:
        raise bad(f"larger than {MAX_VEX_BYTES} bytes") from exc
    except UnreadableFileError as exc:
        raise bad(f"cannot be read: {exc.reason}") from exc
    except ValueError as exc:
        raise bad(f"is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or not str(doc.get("@context", "")).startswith("https://openvex.dev/ns"):
        raise bad("is not an OpenVEX document (its @context must be https://openvex.dev/ns/...)", "@context")
    raw_statements = doc.get("statements")
    if not isinstance(raw_statements, list):
        raise bad("has no statements list", "statements")
    out: list[VexStatement] = []
    for index, raw in enumerate(raw_statements):
        field = f"statements[{index}]"
        if not isinstance(raw, dict):
            raise bad("is not an object", field)
        ids = _ids(raw.get("vulnerability"))
        if not ids:
            raise bad("names no vulnerability (vulnerability.name)", f"{field}.vulnerability")
        try:
            status = VexStatus(str(raw.get("status")))
        except ValueError as exc:
            raise bad(
                f"unknown status {raw.get('status')!r}; expected one of {[s.value for s in VexStatus]}",
                f"{field}.status",
            ) from exc
        products: list[Purl] = []
        for product in raw.get("products") or []:
            for ref in _product_refs(product):
                if ref.startswith("pkg:"):
                    try:
                        products.append(Purl.parse(ref))
                    except ValueError as exc:
                        raise bad(str(exc), f"{field}.products") from exc
        out.append(
            VexStatement(
                document=path.name,
                index=index,
                ids=ids,
                products=tuple(products),
                status=status,
                justification=str(raw.get("justification") or raw.get("impact_statement") or ""),
            )
        )
    return out


def _ids(vulnerability: Any) -> frozenset[str]:
    if isinstance(vulnerability, str):
        return frozenset({vulnerability})
    if not isinstance(vulnerability, dict):
        return frozenset()
    ids = {vulnerability.get("name"), vulnerability.get("@id")}
    ids.update(vulnerability.get("aliases") or [])
    return frozenset(i for i in ids if isinstance(i, str) and i)


def _product_refs(product: Any) -> list[str]:
    if isinstance(product, str):
        return [product]
    if not isinstance(product, dict):
        return []
    refs = [product.get("@id")]
    identifiers = product.get("identifiers")
    if isinstance(identifiers, dict):
        refs.append(identifiers.get("purl"))
    for sub in product.get("subcomponents") or []:
        refs.extend(_product_refs(sub))
    return [r for r in refs if isinstance(r, str)]


def decide(statements: Sequence[VexStatement], ids: frozenset[str], purl: str) -> VexStatement | None:
    """The statement that suppresses this match, if any; a later statement overrides an earlier one."""
    last: VexStatement | None = None
    for statement in statements:
        if statement.applies(ids, purl):
            last = statement
    return last if last is not None and last.suppresses else None
