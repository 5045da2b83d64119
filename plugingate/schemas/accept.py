"""A quick acceptance check for the packaged schemas, so that a valid document needs no ``jsonschema``.

Importing ``jsonschema`` (with attrs, referencing and the format libraries) costs more than the rest of
a cached re-gate. The packaged schemas use a small part of JSON Schema 2020-12, which this module
evaluates with ``jsonschema``'s own semantics (its type checker, its ``equal``, ``re.search`` for
``pattern``). It only ever says "valid" or "don't know": any keyword, ``$ref`` or value type it does
not handle makes it give up, and every document it does not accept is validated by ``jsonschema``,
which also writes the error messages. So it can spare the import, never change a verdict; the tests
check it against ``jsonschema`` on every shipped document and thousands of mutations of them.
"""

from __future__ import annotations

import re
from typing import Any

# NOTE: keywords that only annotate; every other keyword not handled below makes the check give up.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "examples", "default", "deprecated"})
_HANDLED = frozenset(
    {
        "$ref",
        "$defs",
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "pattern",
        "oneOf",
    }
)
_JSON_TYPES = (str, int, float, bool, type(None), list, dict)


class _CannotTellError(Exception):
    """The check cannot tell: ``jsonschema`` decides."""


def surely_valid(schema: dict[str, Any], instance: Any) -> bool:
    """True only when ``instance`` is valid under ``schema`` (Draft 2020-12, as ``jsonschema`` reads it)."""
    try:
        return _Checker(schema).valid(schema, instance, is_root=True)
    except (_CannotTellError, RecursionError, re.error):
        return False


class _Checker:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def valid(self, schema: Any, instance: Any, *, is_root: bool = False) -> bool:
        """Exactly ``jsonschema``'s answer, or ``_CannotTellError``."""
        if schema is True:
            return True
        if schema is False:
            return False
        if not isinstance(schema, dict):
            raise _CannotTellError
        if not isinstance(instance, _JSON_TYPES):
            raise _CannotTellError
        for keyword in schema:
            if keyword not in _HANDLED and keyword not in _ANNOTATIONS:
                raise _CannotTellError
        if not is_root and ("$id" in schema or "$schema" in schema):
            raise _CannotTellError
        # NOTE: one keyword that surely fails makes the schema fail, whatever the others would say.
        return all(self._keyword(keyword, value, schema, instance) for keyword, value in schema.items())

    def _keyword(self, keyword: str, value: Any, schema: dict[str, Any], instance: Any) -> bool:
        if keyword in _ANNOTATIONS or keyword == "$defs":
            return True
        if keyword == "$ref":
            return self.valid(self._resolve(value), instance)
        if keyword == "type":
            types = value if isinstance(value, list) else [value]
            return any(_is_type(instance, t) for t in types)
        if keyword == "enum":
            if not isinstance(value, list):
                raise _CannotTellError
            return any(_equal(each, instance) for each in value)
        if keyword == "const":
            return _equal(instance, value)
        if keyword == "oneOf":
            if not isinstance(value, list):
                raise _CannotTellError
            # NOTE: every branch is evaluated: one that cannot be judged leaves the count unknown.
            return [self.valid(sub, instance) for sub in value].count(True) == 1
        if isinstance(instance, dict):
            return self._object_keyword(keyword, value, schema, instance)
        if isinstance(instance, list):
            return self._array_keyword(keyword, value, instance)
        if isinstance(instance, str):
            return self._string_keyword(keyword, value, instance)
        if _is_type(instance, "number"):
            return self._number_keyword(keyword, value, instance)
        return True  # NOTE: object, array, string and number keywords ignore other types

    def _object_keyword(self, keyword: str, value: Any, schema: dict[str, Any], instance: dict[Any, Any]) -> bool:
        if keyword == "properties":
            if not isinstance(value, dict):
                raise _CannotTellError
            return all(self.valid(sub, instance[name]) for name, sub in value.items() if name in instance)
        if keyword == "required":
            if not isinstance(value, list):
                raise _CannotTellError
            return all(name in instance for name in value)
        if keyword == "additionalProperties":
            if "patternProperties" in schema:
                raise _CannotTellError
            declared = schema.get("properties", {})
            extras = [name for name in instance if name not in declared]
            return all(self.valid(value, instance[name]) for name in extras)
        return True

    def _array_keyword(self, keyword: str, value: Any, instance: list[Any]) -> bool:
        if keyword == "items":
            return all(self.valid(value, item) for item in instance)
        if keyword in ("minItems", "maxItems"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise _CannotTellError
            return len(instance) >= value if keyword == "minItems" else len(instance) <= value
        return True

    def _string_keyword(self, keyword: str, value: Any, instance: str) -> bool:
        if keyword in ("minLength", "maxLength"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise _CannotTellError
            return len(instance) >= value if keyword == "minLength" else len(instance) <= value
        if keyword == "pattern":
            if not isinstance(value, str):
                raise _CannotTellError
            return re.search(value, instance) is not None
        return True

    def _number_keyword(self, keyword: str, value: Any, instance: float) -> bool:
        if keyword in ("minimum", "maximum"):
            if not _is_type(value, "number"):
                raise _CannotTellError
            # NOTE: as jsonschema words it (a NaN is neither below a minimum nor above a maximum).
            return not instance < value if keyword == "minimum" else not instance > value
        return True

    def _resolve(self, ref: Any) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            raise _CannotTellError
        name = ref.removeprefix("#/$defs/")
        defs = self.root.get("$defs")
        if "/" in name or "~" in name or "%" in name or not isinstance(defs, dict) or name not in defs:
            raise _CannotTellError
        return defs[name]


def _is_type(instance: Any, name: Any) -> bool:
    """``jsonschema``'s Draft 2020-12 type checker, for the types a YAML document can hold."""
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if name == "number":
        return isinstance(instance, int | float) and not isinstance(instance, bool)
    if name == "integer":
        if isinstance(instance, bool):
            return False
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    raise _CannotTellError


def _equal(one: Any, two: Any) -> bool:
    """``jsonschema``'s ``equal``: ``True`` is not ``1``, lists and mappings compare item by item."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    if isinstance(one, list | dict) or isinstance(two, list | dict):
        # NOTE: jsonschema compares a list with a tuple (Sequence) element-wise; neither side here is one.
        return False
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return bool(one == two)
