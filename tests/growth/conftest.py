"""Shared pieces of the growth tests: the cases, approver keys, a policy that requires approvals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugingate.growth.approvals import Approval, sign_approval
from plugingate.growth.compare import compare
from plugingate.growth.read import ReadVersion, read_version
from plugingate.keys import generate_key_pair, private_key_from_pem
from tests.conftest import REPO

GROWTH = REPO / "testdata" / "growth"
CASES = sorted(p.parent for p in GROWTH.glob("*/expected.yaml"))
CASES_POLICY = REPO / "testdata" / "policies" / "cases.yaml"
ALL_KINDS = ["egress", "ingress", "filesystem", "secrets", "rbac", "privileges", "images", "resources", "clusterScoped"]


def expected(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class KeyFiles:
    """A key pair on disk (private key encrypted with an empty passphrase, as COSIGN_PASSWORD='' opens it)."""

    private: Path
    public: Path
    private_pem: bytes

    def key(self) -> Any:
        return private_key_from_pem(self.private_pem, password=b"")


def _key_files(folder: Path, name: str) -> KeyFiles:
    folder.mkdir(parents=True, exist_ok=True)
    pair = generate_key_pair(b"")
    (folder / f"{name}.key").write_bytes(pair.private_pem)
    (folder / f"{name}.pub").write_bytes(pair.public_pem)
    return KeyFiles(folder / f"{name}.key", folder / f"{name}.pub", pair.private_pem)


@pytest.fixture(scope="session")
def approver(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    """The key the growth policy trusts."""
    return _key_files(tmp_path_factory.mktemp("approver"), "approver")


@pytest.fixture(scope="session")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    """A key nobody trusts."""
    return _key_files(tmp_path_factory.mktemp("stranger"), "stranger")


def write_policy(
    folder: Path, approver: KeyFiles | None, require_for: list[str] | None = None, mode: str = "enforce"
) -> Path:
    """testdata/policies/cases.yaml plus ``approvals`` (requireFor: every kind unless given)."""
    text = CASES_POLICY.read_text(encoding="utf-8").replace("  mode: enforce", f"  mode: {mode}", 1)
    approvals: dict[str, Any] = {"requireFor": ALL_KINDS if require_for is None else require_for}
    if approver is not None:
        approvals["approvers"] = [{"name": "platform-security", "key": {"path": str(approver.public)}}]
    block = yaml.safe_dump({"approvals": approvals}, sort_keys=False)
    text += "".join(f"  {line}\n" for line in block.splitlines())
    path = folder / f"growth-policy-{mode}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def versions() -> dict[str, tuple[ReadVersion, ReadVersion]]:
    """Every case's two versions, read once (as the gate reads them)."""
    return {case.name: (read_version(case / "old"), read_version(case / "new")) for case in CASES}


def make_approval(
    old: ReadVersion,
    new: ReadVersion,
    *,
    items: list[str] | None = None,
    expires_in: timedelta = timedelta(days=7),
    plugin: str | None = None,
) -> Approval:
    """An approval of ``new`` over ``old`` (every growth item unless ``items``)."""
    now = datetime.now(UTC).replace(microsecond=0)
    growth = compare(old.footprint, new.footprint)
    return Approval(
        plugin=plugin or new.footprint.name,
        previous_sha256=old.sha256,
        previous_version=old.version,
        bundle_name=new.name,
        bundle_sha256=new.sha256,
        bundle_version=new.version,
        items=tuple(items if items is not None else [i.id for i in growth.items]),
        approver="alice@platform.example",
        issued_at=now - timedelta(days=30),
        expires=now + expires_in,
    )


def write_envelope(path: Path, approval: Approval, key: KeyFiles) -> Path:
    import json

    path.write_text(json.dumps(sign_approval(approval, key.key())), encoding="utf-8")
    return path
