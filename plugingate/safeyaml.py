"""YAML from untrusted hands: bounded, tag-free, and with the line of every field.

``plugin.yaml`` and the Kubernetes manifests come from the plugin's author, so the loader must
survive a hostile file: no tag may build an object (``!!python/object``), alias expansion is
counted before anything is built (billion laughs), nesting depth is checked on the event stream,
which PyYAML produces iteratively (100,000-deep nesting fails here instead of overflowing the
composer's recursion), and duplicate keys are errors (a second ``image:`` could hide the first).
Dates stay strings, so that a policy's ``expires: 2027-01-31`` validates as a string.

Every document keeps a map from the JSON path of each node to its 1-based line, so that an error
found later by the schema or by a check can name the file, the line and the field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from plugingate.errors import InputError

JsonPath = tuple[str | int, ...]

_ALLOWED_TAGS = frozenset(
    {
        None,
        "!",
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
    }
)


@dataclass(frozen=True, slots=True)
class YamlLimits:
    """Bounds on one YAML file; the defaults fit any honest plugin.yaml, policy or manifest set."""

    max_bytes: int = 4 << 20
    max_depth: int = 64
    max_nodes: int = 200_000
    max_documents: int = 500


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One parsed document, with the line of every node it holds."""

    data: Any
    path: str
    lines: Mapping[JsonPath, int]
    index: int = 0

    def line_of(self, json_path: Sequence[str | int]) -> int | None:
        """The line of ``json_path``, or of its nearest ancestor that has one."""
        key = tuple(json_path)
        while True:
            line = self.lines.get(key)
            if line is not None:
                return line
            if not key:
                return None
            key = key[:-1]


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: dates stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}


def format_path(json_path: Sequence[str | int]) -> str:
    """``spec.images[0].ref`` for ``("spec", "images", 0, "ref")``."""
    out = ""
    for part in json_path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


def load_yaml(raw: bytes, *, path: str, limits: YamlLimits | None = None) -> list[YamlDocument]:
    """Parse every document in ``raw``; raise ``InputError`` naming ``path`` and the line on any problem."""
    limits = limits or YamlLimits()
    if len(raw) > limits.max_bytes:
        raise InputError(
            f"file is {len(raw)} bytes, more than the {limits.max_bytes} allowed",
            path=path,
            hint="a YAML file of this size is not a plugin description; check the bundle",
        )
    text = _decode(raw, path)
    _check_events(text, path, limits)
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path) from exc
    docs: list[YamlDocument] = []
    for index, node in enumerate(nodes):
        if node is None:
            continue
        lines: dict[JsonPath, int] = {}
        data = _build(node, (), lines, path)
        if data is None:
            continue
        docs.append(YamlDocument(data=data, path=path, lines=lines, index=index))
    return docs


def load_one(raw: bytes, *, path: str, limits: YamlLimits | None = None) -> YamlDocument:
    """Exactly one document (plugin.yaml, a policy); an empty file or several documents are errors."""
    docs = load_yaml(raw, path=path, limits=limits)
    if not docs:
        raise InputError("file is empty: expected one YAML document", path=path)
    if len(docs) > 1:
        raise InputError(
            f"file holds {len(docs)} YAML documents: expected one",
            path=path,
            line=docs[1].line_of(()),
        )
    return docs[0]


def _decode(raw: bytes, path: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            path=path,
            line=line,
            hint="save the file as UTF-8",
        ) from exc
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError("NUL byte in YAML text", path=path, line=line)
    return text


def _check_events(text: str, path: str, limits: YamlLimits) -> None:
    """Walk the event stream once: depth, tags, document count and the size after alias expansion."""
    depth = 0
    documents = 0
    # NOTE: a frame per open collection: [anchor name, nodes so far]. An alias adds the size its
    # anchor had, so the total is what a naive consumer would build.
    frames: list[list[Any]] = [[None, 0]]
    anchors: dict[str, int] = {}
    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > limits.max_documents:
                    raise InputError(f"more than {limits.max_documents} YAML documents", path=path, line=line)
                continue
            tag = getattr(event, "tag", None)
            if tag not in _ALLOWED_TAGS:
                raise InputError(
                    f"YAML tag {tag!r} is not allowed: only plain data (maps, lists, strings, numbers)",
                    path=path,
                    line=line,
                    hint="remove the tag; plugingate never builds objects from YAML",
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limits.max_depth:
                    raise InputError(f"nesting deeper than {limits.max_depth} levels", path=path, line=line)
                frames.append([event.anchor, 1])
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                anchor, size = frames.pop()
                if anchor is not None:
                    anchors[anchor] = size
                frames[-1][1] += size
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    anchors[event.anchor] = 1
                frames[-1][1] += 1
            elif isinstance(event, yaml.AliasEvent):
                frames[-1][1] += anchors.get(event.anchor or "", 1)
            else:
                continue
            if frames[-1][1] > limits.max_nodes or sum(f[1] for f in frames[:-1]) > limits.max_nodes:
                raise InputError(
                    f"more than {limits.max_nodes} values once aliases are expanded (an alias bomb?)",
                    path=path,
                    line=line,
                )
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path) from exc


def _build(node: yaml.Node, here: JsonPath, lines: dict[JsonPath, int], path: str) -> Any:
    lines.setdefault(here, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in _merged_pairs(node, path):
            key = _scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | float | bool) or key is None:
                raise InputError(
                    "mapping keys must be plain strings or numbers",
                    path=path,
                    line=key_node.start_mark.line + 1,
                )
            skey = key if isinstance(key, str) else str(key).lower() if isinstance(key, bool) else str(key)
            if skey in out:
                raise InputError(
                    f"duplicate key {skey!r} (first at line {lines.get((*here, skey))})",
                    path=path,
                    line=key_node.start_mark.line + 1,
                    field=format_path(here) if here else None,
                )
            lines[(*here, skey)] = key_node.start_mark.line + 1
            out[skey] = _build(value_node, (*here, skey), lines, path)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*here, i), lines, path) for i, item in enumerate(node.value)]
    return _scalar(node, path)


def _merged_pairs(node: yaml.MappingNode, path: str) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    """The key/value pairs of a mapping, with YAML merge keys (``<<``) expanded, own keys last."""
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    own: list[tuple[yaml.Node, yaml.Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise InputError("'<<' must merge a mapping", path=path, line=source.start_mark.line + 1)
                merged.extend(source.value)
        else:
            own.append((key_node, value_node))
    own_keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
    seen: set[Any] = set()
    for key_node, value_node in merged:
        if key_node.value in own_keys or key_node.value in seen:
            continue
        seen.add(key_node.value)
        yield key_node, value_node
    yield from own


_CONSTRUCTOR = _Loader("")


def _scalar(node: yaml.Node, path: str) -> Any:
    # NOTE: the scalar constructors of SafeConstructor are stateless, so one instance serves all.
    construct = _CONSTRUCTOR.yaml_constructors.get(node.tag)
    if construct is None:
        raise InputError(f"YAML tag {node.tag!r} is not allowed", path=path, line=node.start_mark.line + 1)
    try:
        return construct(_CONSTRUCTOR, node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path) from exc


def _yaml_error(exc: yaml.YAMLError, path: str) -> InputError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return InputError(f"invalid YAML: {problem}", path=path, line=line)
