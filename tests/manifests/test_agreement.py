"""The two readings held against each other: types count, every difference is named, nothing else passes.

The Kubernetes reading is faked here (a ``KubernetesReader`` that answers what the test says kubectl
read); the real twins are ``test_kubedecode.py`` (the real helper), ``test_two_readings_cli.py`` and
the differential suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugingate.declaration import load_declaration
from plugingate.errors import InputError, ToolError
from plugingate.manifests import load_manifests
from plugingate.manifests.agreement import MISSING, first_difference
from plugingate.manifests.kubedecode import KubeDocument, KubeFile, KubeReading, KubernetesReader, parse_answer
from tests.manifests.conftest import PLUGIN


class FakeReader(KubernetesReader):
    """Answers, for every file, the given objects as one document each."""

    def __init__(self, objects: list[dict[str, Any]], file_error: str | None = None) -> None:
        self.objects = objects
        self.file_error = file_error
        self.asked: list[str] = []

    def start(self, files: Sequence[tuple[str, Path]]) -> Future[KubeReading]:
        self.asked = [shown for shown, _ in files]
        docs = tuple(KubeDocument(index=i, objects=(o,)) for i, o in enumerate(self.objects))
        future: Future[KubeReading] = Future()
        future.set_result(
            KubeReading(files={name: KubeFile(name, docs, self.file_error) for name in self.asked}, tool="fake")
        )
        return future


def _bundle(root: Path, text: str) -> Path:
    (root / "deploy").mkdir(parents=True)
    (root / "plugin.yaml").write_text(yaml.safe_dump(PLUGIN))
    (root / "deploy" / "a.yaml").write_text(text)
    return root


CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "y"}}


def test_equal_readings_give_the_objects(tmp_path: Path) -> None:
    root = _bundle(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: y}\n")
    fake = FakeReader([CM])
    found = load_manifests(root, load_declaration(root), second_reading=fake)
    assert fake.asked == ["deploy/a.yaml"]
    assert [o.data for o in found.objects] == [CM]


@pytest.mark.parametrize(
    ("theirs", "field", "said"),
    [
        ({**CM, "data": {"a": True}}, "data.a", "the gate read string 'y' but kubectl reads boolean True"),
        ({**CM, "kind": "Pod"}, "kind", "the gate read string 'ConfigMap' but kubectl reads string 'Pod'"),
        ({**CM, "data": {}}, "data.a", "the gate read string 'y' but kubectl reads nothing"),
        ({**CM, "spec": None}, "spec", "the gate read nothing but kubectl reads null"),
    ],
)
def test_a_difference_names_file_line_field_and_both_readings(
    tmp_path: Path, theirs: dict[str, Any], field: str, said: str
) -> None:
    root = _bundle(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: y}\n")
    with pytest.raises(InputError) as caught:
        load_manifests(root, load_declaration(root), second_reading=FakeReader([theirs]))
    assert caught.value.path == "deploy/a.yaml" and caught.value.field == field
    assert caught.value.line is not None
    assert said in caught.value.message and "document 1, object 1 (ConfigMap/c)" in caught.value.message
    assert caught.value.exit_code == 2


def test_more_or_fewer_objects_is_a_difference(tmp_path: Path) -> None:
    root = _bundle(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: y}\n")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    with pytest.raises(InputError, match=r"kubectl also applies Pod/p from its document 2"):
        load_manifests(root, load_declaration(root), second_reading=FakeReader([CM, pod]))
    with pytest.raises(InputError, match=r"ConfigMap/c in document 1 is not among kubectl's objects"):
        load_manifests(root, load_declaration(root), second_reading=FakeReader([]))


def test_a_file_kubectl_cannot_read_is_refused(tmp_path: Path) -> None:
    root = _bundle(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: y}\n")
    with pytest.raises(InputError, match="kubectl cannot read this file"):
        load_manifests(root, load_declaration(root), second_reading=FakeReader([CM], file_error="bad separator"))


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(True, 1), (1, 1.0), (0, False), ("1", 1), (None, "null"), ([1], [1, 2]), ({"a": 1}, {"a": 1, "b": None})],
)
def test_types_count(ours: Any, theirs: Any) -> None:
    assert first_difference(ours, theirs) is not None
    assert first_difference(theirs, ours) is not None


def test_equal_values_agree() -> None:
    value = {"a": [1, 2.5, "x", None, True, {"b": []}], "c": {}}
    assert first_difference(value, {"c": {}, "a": [1, 2.5, "x", None, True, {"b": []}]}) is None
    found = first_difference({"a": [1, 2]}, {"a": [1]})
    assert found is not None and found.path == ("a", 1) and found.theirs is MISSING


def test_kubectl_list_expansion_in_the_python_reading(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nitems:\n"
        "- {metadata: {name: typeless}}\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: gone}\nitems: null\n"
    )
    root = _bundle(tmp_path, text)
    found = load_manifests(root, load_declaration(root))
    assert [(o.kind, o.api_version, o.name, o.prefix) for o in found.objects] == [
        ("ConfigMap", "v1", "typeless", ("items", 0)),
        ("Secret", "v1", "s", ("items", 1)),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: v1\nkind: List\nitems: {a: 1}\n", "kubectl reads any object with 'items' as a list"),
        ("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: List, items: []}\n", "a list inside a list"),
        ("apiVersion: v1\nkind: List\nitems: [3]\n", "expected a Kubernetes object"),
        ("kind: List\nitems: []\n", "object without apiVersion"),
    ],
)
def test_lists_kubectl_refuses_are_refused(tmp_path: Path, text: str, message: str) -> None:
    root = _bundle(tmp_path, text)
    with pytest.raises(InputError, match=message):
        load_manifests(root, load_declaration(root))


@pytest.mark.parametrize(
    "answer",
    [b"", b"not json", b'{"files": "x"}', b'{"files": [{"path": "a.yaml"}]}', b'{"files": []}'],
)
def test_an_answer_of_another_shape_is_a_broken_helper(answer: bytes) -> None:
    with pytest.raises(ToolError):
        parse_answer(answer, ["a.yaml"])


def test_values_that_are_not_json_never_agree(tmp_path: Path) -> None:
    """A NaN or an infinity on both sides has no canonical JSON: the field walk still names it."""
    root = _bundle(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: .nan}\n")
    theirs = {**CM, "data": {"a": float("nan")}}
    with pytest.raises(InputError, match=r"data\.a"):
        load_manifests(root, load_declaration(root), second_reading=FakeReader([theirs]))


def test_a_file_over_the_size_limit_is_never_handed_to_the_kubernetes_reading(tmp_path: Path) -> None:
    from plugingate.manifests import ManifestLimits

    root = _bundle(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '" + "x" * 2000 + "'}\n")
    fake = FakeReader([CM])
    with pytest.raises(InputError, match="more than the 1000 allowed"):
        load_manifests(root, load_declaration(root), ManifestLimits(max_file_bytes=1000), second_reading=fake)
    assert fake.asked == []
