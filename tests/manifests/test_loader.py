"""load_manifests: files and folders, multi-document YAML, Lists, JSON; bounded; never out of the bundle."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugingate.declaration import load_declaration
from plugingate.errors import InputError
from plugingate.manifests import ManifestLimits, load_manifests

from .conftest import PLUGIN, good_objects


def bundle(root: Path, manifests: Any = "deploy/") -> Path:
    plugin = json.loads(json.dumps(PLUGIN))
    plugin["spec"]["manifests"] = manifests
    root.mkdir(parents=True, exist_ok=True)
    (root / "plugin.yaml").write_text(yaml.safe_dump(plugin, sort_keys=False))
    (root / "deploy").mkdir(exist_ok=True)
    return root


def load(root: Path, limits: ManifestLimits | None = None) -> Any:
    decl = load_declaration(root)
    return load_manifests(root, decl, limits) if limits else load_manifests(root, decl)


def test_folder_recursive_sorted_and_extensions(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b")
    objs = good_objects()
    (root / "deploy" / "b.yaml").write_text(yaml.safe_dump_all(objs[:2]))
    (root / "deploy" / "sub").mkdir()
    (root / "deploy" / "sub" / "c.yml").write_text(yaml.safe_dump(objs[2]))
    (root / "deploy" / "a.json").write_text(json.dumps(objs[3]))
    (root / "deploy" / "README.md").write_text("not a manifest: {{ nope")
    (root / "deploy" / "values.txt").write_text(": : :")
    result = load(root)
    assert result.files == ("deploy/a.json", "deploy/b.yaml", "deploy/sub/c.yml")
    assert [o.kind for o in result.objects] == ["RoleBinding", "ServiceAccount", "Deployment", "Role"]
    # lines point into the right document of a multi-document file
    deployment = result.objects[2]
    assert deployment.path == "deploy/b.yaml" and deployment.line("kind") is not None
    assert deployment.line("kind") > result.objects[1].line("kind")


def test_single_file_and_list_of_paths(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b", ["deploy/one.yaml", "extra"])
    (root / "deploy" / "one.yaml").write_text(yaml.safe_dump(good_objects()[0]))
    (root / "extra").mkdir()
    (root / "extra" / "two.yaml").write_text(yaml.safe_dump(good_objects()[1]))
    result = load(root)
    assert result.files == ("deploy/one.yaml", "extra/two.yaml")


def test_list_kinds_are_unrolled(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b")
    listed = {"apiVersion": "v1", "kind": "List", "items": good_objects()[:3]}
    (root / "deploy" / "list.yaml").write_text(yaml.safe_dump(listed))
    result = load(root)
    assert [o.kind for o in result.objects] == ["ServiceAccount", "Deployment", "Role"]
    assert result.objects[1].prefix == ("items", 1)
    assert result.objects[1].location("spec").line is not None


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b")
    (root / "deploy" / "bad.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n")
    with pytest.raises(InputError) as info:
        load(root)
    assert info.value.path == "deploy/bad.yaml" and info.value.line is not None


def test_object_without_kind(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b")
    (root / "deploy" / "x.yaml").write_text("---\napiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nmetadata: {}\n")
    with pytest.raises(InputError, match="without kind") as info:
        load(root)
    assert info.value.line == 5


def test_scalar_document(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b")
    (root / "deploy" / "x.yaml").write_text("just a string\n")
    with pytest.raises(InputError, match="expected a Kubernetes object"):
        load(root)


def test_python_tag_refused(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b")
    (root / "deploy" / "x.yaml").write_text("!!python/object/apply:os.system ['true']\n")
    with pytest.raises(InputError, match="tag"):
        load(root)


def test_missing_path(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b", "nowhere/")
    with pytest.raises(InputError, match="not in the bundle") as info:
        load(root)
    assert info.value.path == "plugin.yaml" and info.value.line is not None


def test_dot_dot_refused(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b", "deploy/../../outside")
    with pytest.raises(InputError, match="leaves the bundle"):
        load(root)


def test_symlink_out_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(yaml.safe_dump(good_objects()[0]))
    root = bundle(tmp_path / "b")
    os.symlink(outside / "secret.yaml", root / "deploy" / "link.yaml")
    with pytest.raises(InputError, match="outside the bundle"):
        load(root)
    os.unlink(root / "deploy" / "link.yaml")
    os.symlink(outside, root / "deploy" / "dirlink")
    with pytest.raises(InputError, match="outside the bundle"):
        load(root)


def test_symlink_to_declared_folder_out_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = bundle(tmp_path / "b", "elsewhere")
    os.symlink(outside, root / "elsewhere")
    with pytest.raises(InputError, match="outside the bundle"):
        load(root)


def test_symlink_inside_is_read_once_and_loops_end(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b")
    (root / "deploy" / "a.yaml").write_text(yaml.safe_dump(good_objects()[0]))
    os.symlink(root / "deploy" / "a.yaml", root / "deploy" / "b.yaml")
    os.symlink(root / "deploy", root / "deploy" / "loop")
    result = load(root)
    assert len(result.objects) == 1


def test_limits(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b")
    for i in range(5):
        (root / "deploy" / f"{i}.yaml").write_text(yaml.safe_dump(good_objects()[0]))
    with pytest.raises(InputError, match="more than 3 manifest files"):
        load(root, ManifestLimits(max_files=3))
    with pytest.raises(InputError, match="more than 2 Kubernetes objects"):
        load(root, ManifestLimits(max_objects=2))
    with pytest.raises(InputError, match="bytes together"):
        load(root, ManifestLimits(max_total_bytes=100))
    (root / "deploy" / "big.yaml").write_text("a: " + "x" * 5000 + "\n")
    with pytest.raises(InputError, match="bytes"):
        load(root, ManifestLimits(max_file_bytes=1000))


def test_alias_bomb_refused(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b")
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    (root / "deploy" / "bomb.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="alias"):
        load(root)


def test_deep_nesting_refused(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b")
    (root / "deploy" / "deep.yaml").write_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(InputError, match="nesting deeper") as info:
        load(root)
    assert info.value.path == "deploy/deep.yaml"


def test_non_utf8_refused(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b")
    (root / "deploy" / "latin1.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\ndata:\n  x: caf\xe9\n")
    with pytest.raises(InputError, match="not UTF-8") as info:
        load(root)
    assert info.value.line == 4


def test_duplicate_key_refused(tmp_path: Path) -> None:
    """A second ``image:`` could hide the first from a reviewer; it is an error, not last-one-wins."""
    root = bundle(tmp_path / "b")
    (root / "deploy" / "dup.yaml").write_text("apiVersion: v1\nkind: Pod\nkind: Deployment\n")
    with pytest.raises(InputError, match="duplicate key"):
        load(root)


def test_whole_bundle_as_manifests_skips_plugin_yaml(tmp_path: Path) -> None:
    root = bundle(tmp_path / "b", ".")
    (root / "deploy" / "a.yaml").write_text(yaml.safe_dump(good_objects()[0]))
    result = load(root)
    assert result.files == ("deploy/a.yaml",)
