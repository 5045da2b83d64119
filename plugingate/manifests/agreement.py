"""Two readings of the manifests, held against each other: the gate checks only what both saw.

The objects the gate checks must be the objects the cluster receives. The Python reading gives the
lines findings point at; the Kubernetes reading (``kubedecode``) gives what kubectl sends. They must
agree object for object and field for field, with the same types: ``true`` is not ``"y"``, ``1`` is
not ``1.0`` (a check that looks for the integer 0 would miss ``0.0``, which kubectl sends as ``0``).
Where they differ the bundle is ambiguous, and an ambiguous bundle is refused as bad input (exit 2),
naming the file, the document, the field and what each reading saw.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plugingate.errors import InputError
from plugingate.manifests.kubedecode import KubeFile, KubeReading
from plugingate.manifests.model import ManifestObject
from plugingate.safeyaml import JsonPath, format_path

HINT = (
    "kubectl would apply other objects than the gate read; write the manifests plainly "
    "(quote strings such as y, on or 0755, one --- line between documents, no duplicate or merge-overridden "
    "keys, a List only of complete objects) so that every reader sees the same thing"
)
_SHOWN = 120


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class Difference:
    """The first place two values differ: the field's path and what each side holds there."""

    path: JsonPath
    ours: Any
    theirs: Any


def first_difference(ours: Any, theirs: Any, here: JsonPath = ()) -> Difference | None:
    """The first difference between two JSON-like values, types included (``True`` is not ``1``)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs), key=str):
            found = first_difference(ours.get(key, MISSING), theirs.get(key, MISSING), (*here, key))
            if found is not None:
                return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
            found = first_difference(a, b, (*here, i))
            if found is not None:
                return found
        if len(ours) != len(theirs):
            n = min(len(ours), len(theirs))
            return Difference(
                (*here, n), ours[n] if n < len(ours) else MISSING, theirs[n] if n < len(theirs) else MISSING
            )
        return None
    if type(ours) is not type(theirs) or ours != theirs:
        return Difference(here, ours, theirs)
    return None


def _at(values: list[Any], n: int) -> Any:
    return values[n] if n < len(values) else MISSING


def check_agreement(files: Sequence[str], ours: Sequence[ManifestObject], kube: KubeReading) -> None:
    """Raise ``InputError`` (exit 2) at the first object or field where the two readings differ."""
    by_file: dict[str, list[ManifestObject]] = {name: [] for name in files}
    for obj in ours:
        by_file.setdefault(obj.path, []).append(obj)
    for name in files:
        _check_file(name, by_file[name], kube.files[name], kube.tool)


def _check_file(name: str, ours: list[ManifestObject], theirs: KubeFile, tool: str) -> None:
    for doc in theirs.documents:
        if doc.error is not None:
            raise InputError(
                f"kubectl cannot decode document {doc.index + 1} of this file ({_clip(doc.error)}), "
                f"while the gate's reading accepted it; refusing an ambiguous bundle ({tool})",
                path=name,
                hint=HINT,
            )
    if theirs.error is not None:
        raise InputError(
            f"kubectl cannot read this file ({_clip(theirs.error)}), while the gate's reading accepted it; "
            f"refusing an ambiguous bundle ({tool})",
            path=name,
            hint=HINT,
        )
    kube_objects = [(doc.index, obj) for doc in theirs.documents for obj in doc.objects]
    for n, (mine, (index, other)) in enumerate(zip(ours, kube_objects, strict=False)):
        # NOTE: equal canonical JSON is equal values, types included (true/1/1.0 print apart); the
        # field-by-field walk runs only to name the difference.
        text = _canonical(mine.data)
        if text is not None and text == _canonical(other):
            continue
        found = first_difference(mine.data, other)
        if found is None:
            continue
        field = format_path(found.path)
        raise InputError(
            f"{_document(mine, index)}, object {n + 1} ({mine.ref}): the gate read {_show(found.ours)} "
            f"but kubectl reads {_show(found.theirs)}; refusing an ambiguous bundle ({tool})",
            path=name,
            line=mine.line(*found.path),
            field=field,
            hint=HINT,
        )
    if len(ours) != len(kube_objects):
        n = min(len(ours), len(kube_objects))
        if n < len(ours):
            extra = ours[n]
            what = f"the gate read {len(ours)} object(s) and kubectl {len(kube_objects)}: {extra.ref} in "
            what += f"document {extra.document.index + 1} is not among kubectl's objects"
            line = extra.line()
        else:
            index, other = kube_objects[n]
            what = f"the gate read {len(ours)} object(s) and kubectl {len(kube_objects)}: kubectl also applies "
            what += f"{_ref(other)} from its document {index + 1}, which the gate's reading does not see"
            line = None
        raise InputError(f"{what}; refusing an ambiguous bundle ({tool})", path=name, line=line, hint=HINT)


def _canonical(value: Any) -> str | None:
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return None  # NOTE: not JSON (NaN, a non-string key): never equal, the walk names it


def _document(obj: ManifestObject, kube_index: int) -> str:
    ours = obj.document.index + 1
    if ours == kube_index + 1:
        return f"document {ours}"
    return f"document {ours} (kubectl's document {kube_index + 1})"


def _ref(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return f"{obj.get('kind', '?')}/{name or '?'}"


_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def _show(value: Any) -> str:
    if value is MISSING:
        return "nothing"
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return _clip(repr(value))
    return _clip(f"{_TYPES.get(type(value), type(value).__name__)} {value!r}")


def _clip(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
