"""The hostile-YAML defences of the loader every YAML input goes through."""

from __future__ import annotations

import pytest

from plugingate.errors import InputError
from plugingate.safeyaml import YamlLimits, format_path, load_one, load_yaml

LAUGHS = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def error_of(raw: bytes, limits: YamlLimits | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        load_yaml(raw, path="plugin.yaml", limits=limits)
    return info.value


def test_lines_are_kept_for_every_field() -> None:
    doc = load_one(b"spec:\n  images:\n    - name: a\n      ref: r\n", path="p.yaml")
    assert doc.data == {"spec": {"images": [{"name": "a", "ref": "r"}]}}
    assert doc.line_of(("spec", "images", 0, "ref")) == 4
    assert doc.line_of(("spec", "images", 0, "missing")) == 3
    assert format_path(("spec", "images", 0, "ref")) == "spec.images[0].ref"


def test_dates_stay_strings_and_merge_keys_work() -> None:
    doc = load_one(b"base: &b {x: 1}\nexp: 2027-01-31\nm:\n  <<: *b\n  y: 2\n", path="p.yaml")
    assert doc.data["exp"] == "2027-01-31"
    assert doc.data["m"] == {"x": 1, "y": 2}


def test_billion_laughs_is_refused_before_expansion() -> None:
    err = error_of(LAUGHS)
    assert "alias" in err.message and err.path == "plugin.yaml"


@pytest.mark.parametrize(
    "raw",
    [
        b"a: !!python/object/apply:os.system ['id']",
        b"a: !!python/name:os.system",
        b"!!python/object:__main__.X {}",
        b"a: !custom 1",
    ],
)
def test_object_building_tags_are_refused(raw: bytes) -> None:
    err = error_of(raw)
    assert "tag" in err.message and "not allowed" in err.message


def test_deep_nesting_is_refused_without_recursion() -> None:
    err = error_of(b"[" * 100_000 + b"]" * 100_000)
    assert "nesting deeper" in err.message


def test_non_utf8_names_the_line() -> None:
    err = error_of(b"a: 1\nb: \xff\xfe\n")
    assert err.line == 2 and "UTF-8" in err.message


def test_duplicate_keys_are_errors() -> None:
    err = error_of(b"image: a\nimage: b\n")
    assert err.line == 2 and "duplicate key 'image'" in err.message


def test_size_and_document_limits() -> None:
    assert "bytes" in error_of(b"a: 1\n" * 100, YamlLimits(max_bytes=50)).message
    assert "documents" in error_of(b"a: 1\n---\nb: 2\n", YamlLimits(max_documents=1)).message


def test_syntax_error_names_the_line() -> None:
    err = error_of(b"a: 1\nb: [1, 2\nc: 3\n")
    assert err.path == "plugin.yaml" and err.line is not None and "invalid YAML" in err.message


def test_multi_document_manifests() -> None:
    docs = load_yaml(b"kind: A\n---\nkind: B\n---\n", path="m.yaml")
    assert [d.data["kind"] for d in docs] == ["A", "B"]
    assert docs[1].line_of(("kind",)) == 3
