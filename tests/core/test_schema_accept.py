"""The quick schema check agrees with jsonschema wherever it answers, and accepts every shipped document."""

from __future__ import annotations

import copy
import json
import math
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from plugingate.safeyaml import load_one
from plugingate.schemas import load_schema
from plugingate.schemas.accept import _CannotTellError, _Checker, surely_valid

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = {"GatePolicy": "policy.schema.json", "Plugin": "plugin.schema.json"}


def shipped_documents() -> dict[str, list[tuple[str, Any]]]:
    """Every plugin.yaml and policy in the repository, by schema."""
    found: dict[str, list[tuple[str, Any]]] = {name: [] for name in SCHEMAS.values()}
    for path in sorted(ROOT.glob("**/*.yaml")):
        if ".git" in path.parts or "apiVersion: plugingate.dev/v1" not in path.read_text(errors="replace"):
            continue
        try:
            data = load_one(path.read_bytes(), path=str(path)).data
        except Exception:  # NOTE: a deliberately broken YAML fixture is no schema case
            continue
        if isinstance(data, dict) and data.get("kind") in SCHEMAS:
            found[SCHEMAS[data["kind"]]].append((str(path.relative_to(ROOT)), data))
    return found


DOCUMENTS = shipped_documents()


def exact(schema: dict[str, Any], instance: Any) -> bool | None:
    """The checker's own answer: True/False, or None when it gives up."""
    try:
        return _Checker(schema).valid(schema, instance, is_root=True)
    except _CannotTellError:
        return None


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from paths(value, (*prefix, index))


def leaves(docs: list[tuple[str, Any]]) -> list[Any]:
    pool: list[Any] = []
    for _, doc in docs:
        for path in paths(doc):
            value = get(doc, path)
            if not isinstance(value, dict | list) and value not in pool:
                pool.append(value)
    return pool


def objects(docs: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Every mapping in the documents: merged into one of the same role, they exercise ``oneOf``."""
    return [get(doc, path) for _, doc in docs for path in paths(doc) if isinstance(get(doc, path), dict)]


def get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


EXTRA_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    65535,
    65536,
    1.5,
    2.0,
    math.nan,
    math.inf,
    "",
    "x",
    "A",
    "/abs/path",
    "../escape",
    "1h",
    "10Mi",
    "500m",
    [],
    {},
    ["a"],
    [1, 2],
    {"a": 1},
    {"identity": "x"},
    {"path": "k.pub"},
    {"pem": "-----BEGIN PUBLIC KEY-----"},
    {"keyless": {"issuer": "https://x", "identity": "y"}},
    {"key": {"pem": "p"}, "keyless": {"issuer": "i", "identityRegex": "r"}},
    b"bytes",
    (1, 2),
]


def mutations(
    doc: Any, pool: list[Any], mappings: list[dict[str, Any]], rng: random.Random, count: int
) -> Iterator[Any]:
    all_paths = list(paths(doc))
    for _ in range(count):
        variant = copy.deepcopy(doc)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            path = rng.choice(all_paths)
            try:
                parent = get(variant, path[:-1]) if path else None
            except (KeyError, IndexError, TypeError):
                continue
            action = rng.random()
            if not path:
                continue
            key = path[-1]
            try:
                if action < 0.15 and isinstance(parent[key], dict):
                    alike = [m for m in mappings if m is not parent[key] and m.keys() & parent[key].keys()]
                    if alike:
                        parent[key] = {**parent[key], **copy.deepcopy(rng.choice(alike))}
                elif action < 0.25 and isinstance(parent, dict):
                    parent.pop(key, None)
                elif action < 0.32 and isinstance(parent, dict):
                    parent["unexpectedKey"] = rng.choice(pool)
                elif action < 0.38 and isinstance(parent, list) and parent:
                    parent.append(copy.deepcopy(parent[0]))
                elif action < 0.42 and isinstance(parent, list):
                    parent.clear()
                else:
                    parent[key] = copy.deepcopy(rng.choice(pool))
            except (KeyError, IndexError, TypeError):
                continue
        yield variant


@pytest.mark.parametrize("schema_name", sorted(SCHEMAS.values()))
def test_every_shipped_valid_document_is_accepted_without_jsonschema(schema_name: str) -> None:
    schema = load_schema(schema_name)
    validator = jsonschema.Draft202012Validator(schema)
    valid = [(name, doc) for name, doc in DOCUMENTS[schema_name] if validator.is_valid(doc)]
    assert len(valid) >= (5 if schema_name == "policy.schema.json" else 40)
    assert [name for name, doc in valid if not surely_valid(schema, doc)] == []


@pytest.mark.parametrize("schema_name", sorted(SCHEMAS.values()))
def test_the_check_agrees_with_jsonschema_on_mutated_documents(schema_name: str) -> None:
    schema = load_schema(schema_name)
    validator = jsonschema.Draft202012Validator(schema)
    docs = DOCUMENTS[schema_name]
    pool = leaves(docs) + EXTRA_VALUES
    mappings = objects(docs)
    rng = random.Random(20261129)
    answered = {True: 0, False: 0, None: 0}
    per_doc = max(30, 2500 // len(docs))
    for name, doc in docs:
        for variant in mutations(doc, pool, mappings, rng, per_doc):
            got = exact(schema, variant)
            answered[got] += 1
            if got is not None:
                want = validator.is_valid(variant)
                assert got == want, f"{name}: {json.dumps(variant, default=repr)[:2000]}"
        # NOTE: one merge at a time, so that a mapping matching two branches of a oneOf is the only fault.
        nodes = [path for path in paths(doc) if isinstance(get(doc, path), dict)]
        for path in rng.sample(nodes, min(len(nodes), 12)):
            node = get(doc, path)
            alike = [m for m in mappings if m is not node and m.keys() & node.keys()]
            for other in rng.sample(alike, min(len(alike), 6)):
                variant = copy.deepcopy(doc)
                merged = {**node, **copy.deepcopy(other)}
                if path:
                    get(variant, path[:-1])[path[-1]] = merged
                else:
                    variant = merged
                got = exact(schema, variant)
                answered[got] += 1
                if got is not None:
                    assert got == validator.is_valid(variant), f"{name}: {json.dumps(variant, default=repr)[:2000]}"
    # NOTE: the mutations must exercise both answers, or the test proves nothing.
    assert answered[True] > 200 and answered[False] > 1000, answered


def test_the_check_gives_up_on_what_it_does_not_know() -> None:
    assert exact({"type": "object", "patternProperties": {"^a": {}}}, {}) is None
    assert exact({"$ref": "https://example.com/other.json"}, 1) is None
    assert exact({"type": "string"}, b"bytes") is None
    assert exact({"$defs": {"a": {"$id": "x", "type": "string"}}, "$ref": "#/$defs/a"}, "s") is None
    assert not surely_valid({"type": "string", "pattern": "("}, "s")
    assert exact({"enum": [1]}, True) is False and exact({"const": 1.0}, 1) is True
    assert exact({"type": "integer"}, 2.0) is True and exact({"minimum": 1}, math.nan) is True


def test_a_valid_policy_and_plugin_yaml_load_without_jsonschema(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from plugingate.policy import load_policy\n"
        "from plugingate.declaration import load_declaration\n"
        f"load_policy(__import__('pathlib').Path({str(ROOT / 'policies' / 'default.yaml')!r}))\n"
        f"load_declaration(__import__('pathlib').Path({str(ROOT / 'examples' / 'acme-exporter')!r}))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jsonschema', 'referencing', 'attrs')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
