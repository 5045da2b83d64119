"""in-toto layouts with link metadata, verified with the ``in-toto`` library step by step.

The library's ``in_toto_verify`` runs the layout's inspections (arbitrary commands written by the
layout's owner) in the current folder. A gate runs them only when the policy enables them, so the
verification is driven here through the library's own steps, in its order, with inspections left
out unless asked for; each failing step maps to its own rule id. Finally the artifact itself must be
one of the products the chain records, or the layout would vouch for some other file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from plugingate.errors import InputError
from plugingate.findings import Location
from plugingate.keys import load_public_key
from plugingate.provenance import rules
from plugingate.provenance.result import ProvenanceResult
from plugingate.signature.artifact import Artifact

MAX_LAYOUT_BYTES = 4 * 1024 * 1024


def layout_key_dict(paths: Sequence[Path]) -> dict[str, dict[str, Any]]:
    """``{keyid: key dict}`` as the in-toto library takes them, from PEM public keys."""
    from securesystemslib.signer import SSlibKey  # type: ignore[attr-defined]

    out: dict[str, dict[str, Any]] = {}
    for path in paths:
        loaded = load_public_key(path)
        key = SSlibKey.from_crypto(loaded.key)
        data = key.to_dict()
        data["keyid"] = key.keyid
        out[key.keyid] = data
    return out


def _products(chain: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for link_meta in chain.values():
        link = link_meta.get_payload() if hasattr(link_meta, "get_payload") else link_meta
        for hashes in (getattr(link, "products", None) or {}).values():
            for alg, value in hashes.items():
                found.add(f"{alg}:{value}")
    return found


def verify_layout(
    artifact: Artifact,
    layout_path: Path,
    layout_keys: Sequence[Path],
    links_dir: Path,
    *,
    enable_inspections: bool = False,
) -> ProvenanceResult:
    """Verify an in-toto layout, its links and that ``artifact`` is a product; denials as findings."""
    from in_toto import exceptions as ite
    from in_toto import verifylib
    from in_toto.models.metadata import Metadata
    from securesystemslib.exceptions import FormatError

    location = Location(path=layout_path.name)

    def deny(rule: Any, message: str) -> ProvenanceResult:
        return ProvenanceResult(findings=(rule.finding(f"{layout_path.name}: {message}", location=location),))

    if layout_path.stat().st_size > MAX_LAYOUT_BYTES:
        raise InputError(f"the layout is larger than {MAX_LAYOUT_BYTES} bytes", path=str(layout_path))
    keys = layout_key_dict(layout_keys)
    try:
        metadata = Metadata.load(str(layout_path))
    except Exception as exc:  # NOTE: the library raises assorted errors on malformed metadata
        raise InputError(f"not in-toto layout metadata: {exc}", path=str(layout_path)) from exc
    try:
        verifylib.verify_metadata_signatures(metadata, keys)
    except (ite.SignatureVerificationError, FormatError) as exc:
        return deny(
            rules.LAYOUT_SIGNATURE,
            f"the layout signature does not verify with the layout keys {[k[:16] for k in keys]}: {exc}",
        )
    layout = metadata.get_payload()
    if getattr(layout, "_type", "layout") != "layout":
        return deny(rules.LAYOUT_INVALID, "the metadata is not a layout")
    try:
        verifylib.verify_layout_expiration(layout)
    except ite.LayoutExpiredError:
        return deny(rules.LAYOUT_EXPIRED, f"the layout expired on {layout.expires}; expected an unexpired layout")
    try:
        steps_metadata = verifylib.load_links_for_layout(layout, str(links_dir))
    except ite.LinkNotFoundError as exc:
        return deny(rules.MISSING_LINK, f"{exc}; expected links in {links_dir}")
    try:
        steps_metadata = verifylib.verify_link_signature_thresholds(layout, steps_metadata)
    except ite.ThresholdVerificationError as exc:
        return deny(rules.MISSING_LINK, f"{exc}")
    has_sublayouts = any(
        getattr(m.get_payload(), "_type", "link") == "layout"
        for links in steps_metadata.values()
        for m in links.values()
    )
    if has_sublayouts and not enable_inspections:
        return deny(
            rules.LAYOUT_INVALID,
            "the layout has sublayouts, whose verification would run their inspections; expected a flat"
            " layout (or enable inspections)",
        )
    try:
        chain = verifylib.verify_sublayouts(layout, steps_metadata, str(links_dir), 60)
        verifylib.verify_all_steps_command_alignment(layout, chain)
        verifylib.verify_threshold_constraints(layout, chain)
    except ite.ThresholdVerificationError as exc:
        return deny(rules.MISSING_LINK, f"{exc}")
    reduced = verifylib.reduce_chain_links(chain)
    try:
        verifylib.verify_all_item_rules(layout.steps, reduced)
    except ite.RuleVerificationError as exc:
        return deny(rules.ARTIFACT_RULES, f"{exc}")
    ran_inspections: list[str] = []
    if layout.inspect and enable_inspections:
        # NOTE: inspections run in a private folder holding a copy of the artifact (they usually
        # unpack and examine the final product), never where the gate itself runs; the library
        # runs them in the current folder, so the folder is changed for their duration.
        with tempfile.TemporaryDirectory(prefix="plugingate-intoto-") as tmp:
            if artifact.path is not None:
                shutil.copyfile(artifact.path, Path(tmp) / artifact.path.name)
            cwd = Path.cwd()
            os.chdir(tmp)
            try:
                inspection_links = verifylib.run_all_inspections(layout, False, 60)
                combined = dict(reduced)
                combined.update(inspection_links)
                verifylib.verify_all_item_rules(layout.inspect, combined)
            except ite.RuleVerificationError as exc:
                return deny(rules.ARTIFACT_RULES, f"{exc}")
            except ite.BadReturnValueError as exc:
                return deny(rules.LAYOUT_INVALID, f"an inspection failed: {exc}")
            finally:
                os.chdir(cwd)
        ran_inspections = [i.name for i in layout.inspect]
    products = _products(reduced)
    wanted = {f"{alg}:{value}" for alg, value in artifact.digests.items()}
    if not products & wanted:
        return deny(
            rules.PRODUCT_NOT_RECORDED,
            f"the artifact {artifact.name} ({artifact.display_digest()}) is not among the {len(products)}"
            f" products the links record; expected it to be a product of a step",
        )
    summary: dict[str, object] = {
        "layout": layout_path.name,
        "expires": str(layout.expires),
        "steps": [s.name for s in layout.steps],
        "inspectionsRun": ran_inspections,
        "inspectionsSkipped": [] if enable_inspections else [i.name for i in layout.inspect],
    }
    return ProvenanceResult(findings=(), layout=summary)
