"""The previous version ``gate --previous`` compares with: its bundle, or its signed gate attestation.

A bundle is read as the gate reads one (``read.read_version``). An attestation (the
``attestations.intoto.jsonl`` of the previous version's gate run, or one envelope of it) must verify as
the cluster verifies one (``verify-attestation``: signed by a ``--previous-key``, ``passed`` in enforce
mode, still valid) and carry the ``permissions`` the gate records; the comparison is then with what
that run recorded, without the previous bundle at hand.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.errors import InputError
from plugingate.growth.footprint import Footprint
from plugingate.growth.read import ReadVersion, read_version

if TYPE_CHECKING:
    from plugingate.bundle import BundleLimits
    from plugingate.keys import LoadedPublicKey
    from plugingate.packaging.model import PackagingOptions


def is_attestation(path: Path) -> bool:
    """A file whose first byte (after white space) opens JSON: an attestation, not a bundle archive."""
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(64).lstrip()
    return head.startswith(b"{")


def read_previous(
    path: Path,
    keys: Sequence[LoadedPublicKey],
    limits: BundleLimits,
    now: datetime,
    packaging: PackagingOptions | None = None,
) -> ReadVersion:
    """The previous version from a bundle or a gate attestation (``VerificationError`` when one does not verify)."""
    if is_attestation(path):
        return read_attestation(path, keys, now)
    return read_version(path, limits, packaging)


def read_attestation(path: Path, keys: Sequence[LoadedPublicKey], now: datetime) -> ReadVersion:
    """The permissions a verified, passed gate attestation recorded."""
    from plugingate.attestation.predicate import GATE_PREDICATE_TYPE
    from plugingate.attestation.verify import KeyTrust, load_entries, verify_attestation

    if not keys:
        raise InputError(
            "--previous is an attestation: name the key that signed it",
            field="--previous-key",
            hint="pass --previous-key PUB (the public key of the gate's --attest-key), or give the previous bundle",
        )
    bundles: dict[str, None] = {}
    for entry in load_entries(path):
        if entry.envelope is None:
            continue
        try:
            statement = json.loads(base64.b64decode(entry.envelope["payload"]))
            if statement.get("predicateType") == GATE_PREDICATE_TYPE:
                bundles[str(statement["predicate"]["bundle"]["sha256"]).lower()] = None
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    if not bundles:
        raise InputError(
            f"holds no gate attestation ({GATE_PREDICATE_TYPE}) with a bundle digest",
            path=str(path),
            hint="give the attestations.intoto.jsonl the previous version's gate run wrote (signed with a key)",
        )
    error: Exception | None = None
    for sha256 in bundles:
        try:
            verified = verify_attestation(
                subject=("sha256", sha256), attestation=path, trust=KeyTrust(list(keys)), now=now
            )
        except InputError:
            raise
        except Exception as exc:  # NOTE: VerificationError: the next candidate may still verify
            error = exc
            continue
        predicate = verified.statement["predicate"]
        plugin = predicate.get("plugin") or {}
        if "permissions" not in predicate:
            raise InputError(
                "the previous version's gate attestation records no permissions (made before plugingate recorded them)",
                path=str(path),
                hint="give the previous bundle instead",
            )
        try:
            footprint = Footprint.from_dict(
                predicate["permissions"], name=str(plugin.get("name", "?")), version=str(plugin.get("version", "?"))
            )
        except ValueError as exc:
            raise InputError(f"permissions: {exc}", path=str(path)) from exc
        return ReadVersion(source=path, name=str(predicate["bundle"]["name"]), sha256=sha256, footprint=footprint)
    assert error is not None
    raise error
