"""``plugingate diff``'s three outputs (text, JSON, Markdown) of one comparison."""

from __future__ import annotations

import json
from typing import Any

from plugingate.growth.compare import Growth
from plugingate.growth.read import ReadVersion
from plugingate.policy.model import GrowthKind

SCHEMA_VERSION = "1"


def as_dict(old: ReadVersion, new: ReadVersion, growth: Growth) -> dict[str, Any]:
    """The comparison as JSON: both versions, the growth items by kind, the image updates."""
    return {
        "schemaVersion": SCHEMA_VERSION,
        "samePlugin": old.footprint.name == new.footprint.name,
        "old": old.to_dict(),
        "new": new.to_dict(),
        "growth": [i.to_dict() for i in growth.items],
        "byKind": {str(k): [i.id for i in growth.of(k)] for k in GrowthKind if growth.of(k)},
        "imageUpdates": [u.to_dict() for u in growth.updates],
    }


def as_json(old: ReadVersion, new: ReadVersion, growth: Growth) -> str:
    return json.dumps(as_dict(old, new, growth), indent=2, sort_keys=False) + "\n"


def _title(old: ReadVersion, new: ReadVersion) -> str:
    return f"{new.footprint.name} {old.version} -> {new.version}"


def as_text(old: ReadVersion, new: ReadVersion, growth: Growth) -> str:
    lines = [f"{_title(old, new)}: {len(growth.items)} growth item(s)"]
    lines.append(f"  old sha256:{old.sha256}  ({old.source})")
    lines.append(f"  new sha256:{new.sha256}  ({new.source})")
    if old.footprint.name != new.footprint.name:
        lines.append(f"  note: OLD is plugin {old.footprint.name!r}, NEW is {new.footprint.name!r}")
    for kind in GrowthKind:
        items = growth.of(kind)
        if not items:
            continue
        lines.append(f"{kind}:")
        for item in items:
            extra = f"  [{item.detail}]" if item.detail else ""
            where = f"  ({item.sources[0]})" if item.sources else ""
            lines.append(f"  + {item.id}{extra}{where}")
    for update in growth.updates:
        lines.append(f"image update (not growth): {update.repository} {','.join(update.old)} -> {','.join(update.new)}")
    if not growth.items:
        lines.append("no growth: the new version asks for nothing the old one did not")
    return "\n".join(lines) + "\n"


def as_markdown(old: ReadVersion, new: ReadVersion, growth: Growth) -> str:
    out = [f"## Permission growth: {_title(old, new)}", ""]
    out.append(f"- old: `sha256:{old.sha256}`")
    out.append(f"- new: `sha256:{new.sha256}`")
    out.append("")
    if growth.items:
        out += ["| kind | item (what an approval names) | where |", "| --- | --- | --- |"]
        for item in growth.items:
            where = (item.sources[0] if item.sources else item.detail).replace("|", "\\|")
            out.append(f"| {item.kind} | `{item.id}` | {where} |")
    else:
        out.append("No growth: the new version asks for nothing the old one did not.")
    if growth.updates:
        out += ["", "Image updates (not growth):", ""]
        out += [f"- `{u.repository}`: {', '.join(u.old)} → {', '.join(u.new)}" for u in growth.updates]
    return "\n".join(out) + "\n"


RENDERERS = {"text": as_text, "json": as_json, "markdown": as_markdown}
