"""The common key bundle is read without sigstore_models, exactly as the model reads it."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sigstore_models.bundle.v1 import Bundle as InnerBundle

from plugingate.signature.sigstore_bundle import simple_key_bundle

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((ROOT / "examples" / "acme-exporter.tgz.sigstore.json").read_text())
POOL: list[Any] = [
    None,
    "",
    "x",
    "=",
    "YWJj",
    "YWJ",
    "YW Jj",
    "é",
    1,
    True,
    [],
    {},
    {"hint": None},
    "SHA2_256",
    "SHA2_512",
    "MD5",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle.v0.4+json",
    [{"logIndex": "1"}],
]


def model_reading(doc: dict[str, Any]) -> tuple[str, str | None, bytes] | None:
    """What sigstore_models makes of the bundle (None: it refuses it)."""
    try:
        inner = InnerBundle.from_json(json.dumps(doc))
    except Exception:  # NOTE: the model raises assorted errors; any of them is a refusal
        return None
    hint = inner.verification_material.public_key.hint if inner.verification_material.public_key else None
    signature = inner.message_signature.signature if inner.message_signature else b""
    return inner.media_type, hint, signature


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))


def variants() -> Iterator[dict[str, Any]]:
    yield copy.deepcopy(EXAMPLE)
    for path in list(paths(EXAMPLE)):
        for value in POOL:
            doc = copy.deepcopy(EXAMPLE)
            parent = doc
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = value
            yield doc
        doc = copy.deepcopy(EXAMPLE)
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        value = parent.pop(path[-1])
        yield copy.deepcopy(doc)
        parent["extra"] = value
        yield copy.deepcopy(doc)
        del parent["extra"]
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in path[-1])
        parent[snake] = value
        yield doc


def test_the_example_bundle_takes_the_quick_path() -> None:
    assert simple_key_bundle(EXAMPLE) is not None
    assert simple_key_bundle(EXAMPLE) == model_reading(EXAMPLE)


def test_the_quick_reading_agrees_with_the_model() -> None:
    quick = 0
    for doc in variants():
        got = simple_key_bundle(doc)
        if got is None:
            continue
        quick += 1
        assert got == model_reading(doc), json.dumps(doc)
    assert quick >= 10


@pytest.mark.parametrize(
    "doc",
    [
        {**EXAMPLE, "dsseEnvelope": None},
        {**EXAMPLE, "verificationMaterial": {**EXAMPLE["verificationMaterial"], "tlogEntries": [{}]}},
        {**EXAMPLE, "verificationMaterial": {"certificate": {"rawBytes": "YWJj"}, "tlogEntries": []}},
        {**EXAMPLE, "messageSignature": {**EXAMPLE["messageSignature"], "signature": "YWJ"}},
    ],
)
def test_other_shapes_go_to_the_model(doc: dict[str, Any]) -> None:
    assert simple_key_bundle(doc) is None


def test_the_key_signed_example_verifies_without_pydantic_or_x509(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from plugingate.policy import load_policy\n"
        "from plugingate.signature.step import verify_bundle_signature\n"
        "bundle = Path(sys.argv[1])\n"
        "import hashlib\n"
        "digest = 'sha256:' + hashlib.sha256(bundle.read_bytes()).hexdigest()\n"
        "policy = load_policy(Path(sys.argv[2]))\n"
        "result = verify_bundle_signature(bundle, digest, policy.signature, signature=None,\n"
        "                                 bundle=Path(str(bundle) + '.sigstore.json'))\n"
        "assert result.verified, result.describe()\n"
        "heavy = ('pydantic', 'sigstore_models', 'sigstore', 'cryptography.x509')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "examples" / "acme-exporter.tgz"), str(ROOT / "policies/default.yaml")],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert out.stdout.strip() == "[]"
