"""The JSON Schemas shipped in the package, and validation that names the file, line and field."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from plugingate.errors import InputError
from plugingate.safeyaml import YamlDocument, format_path

_MAX_ERRORS = 20


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The packaged schema ``name`` (e.g. ``plugin.schema.json``)."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_document(doc: YamlDocument, schema_name: str, *, what: str) -> None:
    """Raise ``InputError`` listing every schema violation of ``doc``, each with its line and field.

    ``what`` names the document for the hint (``plugin.yaml``, ``gate policy``). A document the quick
    check accepts is valid; any other is validated (and explained) by ``jsonschema``.
    """
    from plugingate.schemas.accept import surely_valid

    schema = load_schema(schema_name)
    if surely_valid(schema, doc.data):
        return
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc.data), key=lambda e: (doc.line_of(_where(e)) or 0, str(e.path)))
    if not errors:
        return
    lines = []
    for error in errors[:_MAX_ERRORS]:
        field = format_path(list(error.absolute_path))
        line = doc.line_of(_where(error))
        lines.append(f"{doc.path}:{line}: {field}: {_describe(error)}")
    more = f"\n  … and {len(errors) - _MAX_ERRORS} more" if len(errors) > _MAX_ERRORS else ""
    error = InputError(
        f"{len(errors)} schema error(s) in {what}:\n  " + "\n  ".join(lines) + more,
        hint=f"see the {what} reference in the docs (schema: plugingate/schemas/{schema_name})",
    )
    error.path, error.line = doc.path, doc.line_of(_where(errors[0]))
    error.field = format_path(list(errors[0].absolute_path))
    raise error


def _where(error: Any) -> list[str | int]:
    """The JSON path whose line to show: for an unknown key, the key itself rather than its parent."""
    where: list[str | int] = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        if extra:
            where.append(extra[0])
    return where


def _describe(error: Any) -> str:
    """A shorter message than jsonschema's for the common cases."""
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"unknown key(s) {', '.join(map(repr, extra))}; allowed here: {allowed}"
    if error.validator == "required":
        return str(error.message)
    if error.validator in ("oneOf", "anyOf"):
        return f"{error.instance!r} matches none of the allowed forms"
    message: str = error.message
    return message if len(message) < 300 else message[:300] + "…"
