"""Package URLs, as far as matching needs them: type, namespace, name and optional version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True, slots=True)
class Purl:
    """A parsed ``pkg:type/namespace/name@version`` (qualifiers and subpath dropped)."""

    type: str
    namespace: str
    name: str
    version: str | None

    @classmethod
    def parse(cls, text: str) -> Purl:
        """Parse ``text``; ``ValueError`` when it is not a package URL."""
        if not text.startswith("pkg:"):
            raise ValueError(f"not a package URL (expected pkg:TYPE/NAME[@VERSION]): {text!r}")
        rest = text[4:].lstrip("/").split("#", 1)[0].split("?", 1)[0]
        version = None
        if "@" in rest:
            rest, version = rest.rsplit("@", 1)
            version = unquote(version) or None
        parts = [unquote(p) for p in rest.split("/") if p]
        if len(parts) < 2:
            raise ValueError(f"a package URL needs a type and a name: {text!r}")
        kind = parts[0].lower()
        namespace, name = "/".join(parts[1:-1]), parts[-1]
        return cls(type=kind, namespace=namespace, name=name, version=version)

    def key(self) -> tuple[str, str, str]:
        """What identifies the package regardless of version, normalized per ecosystem."""
        namespace, name = self.namespace, self.name
        if self.type == "pypi":
            name = re.sub(r"[-_.]+", "-", name).lower()
        elif self.type in {"npm", "golang", "github"}:
            namespace, name = namespace.lower(), name.lower()
        return (self.type, namespace, name)

    def covers(self, other: Purl) -> bool:
        """Whether this purl (version optional) names ``other``: same package, same version if given."""
        if self.key() != other.key():
            return False
        return self.version is None or _version(self.version) == _version(other.version or "")


def _version(value: str) -> str:
    return value.removeprefix("v")
