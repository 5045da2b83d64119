"""What a chart does that offline rendering cannot reproduce: cluster lookups, DNS, unlocked dependencies.

Scanned on the gate's private copy (``chart_source``), the very files Helm renders, the chart and
every subchart in ``charts/``. Template functions are found in the template *actions* (``{{ … }}``)
of every file under ``templates/`` (helpers included: ``include`` only runs what such a file
defines), after template comments are removed; when a template calls ``tpl`` every other file of the
chart tree and the profiles' values are scanned too, since ``tpl`` renders any string as a template
(a value, a file read with ``.Files.Get``).

NOTE: a template that builds a function name out of pieces and hands it to ``tpl`` (``tpl (print
"{{ look" "up …}}")``) is not seen by a scan; Helm's ``lookup`` offline then renders nothing, the
failure is a chart that renders *less* offline. The dependency and signature checks do not depend
on the scan.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugingate.errors import InputError
from plugingate.files import read_bounded
from plugingate.findings import Finding, Location
from plugingate.packaging import chart_rules
from plugingate.packaging.chart_source import CHART_FILE
from plugingate.safeyaml import YamlDocument, YamlLimits, load_one

_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_COMMENT = re.compile(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", re.DOTALL)
_CLUSTER_FUNCTIONS = ("lookup", "getHostByName")
_UNSTABLE_FUNCTIONS = (
    "now",
    "randInt",
    "randAlphaNum",
    "randAlpha",
    "randNumeric",
    "randAscii",
    "randBytes",
    "uuidv4",
    "genPrivateKey",
    "genCA",
    "genSelfSignedCert",
    "genSignedCert",
    "shuffle",
)
_WORD = {name: re.compile(rf"(?<![\w.$]){name}(?!\w)") for name in (*_CLUSTER_FUNCTIONS, *_UNSTABLE_FUNCTIONS, "tpl")}
_META_LIMITS = YamlLimits(max_bytes=1 << 20, max_documents=1)
_MAX_SCAN_BYTES = 4 << 20


@dataclass(frozen=True, slots=True)
class ChartInfo:
    """One chart of the tree (the top chart or a subchart): its folder, name, version and shown path."""

    folder: Path
    name: str
    version: str
    shown: str
    meta: YamlDocument


def read_chart_yaml(folder: Path, shown: str) -> ChartInfo:
    """Chart.yaml of ``folder`` (bounded YAML); ``InputError`` when it is missing or has no name/version."""
    path = folder / CHART_FILE
    if not path.is_file():
        raise InputError(f"no {CHART_FILE}", path=shown, hint="every chart and subchart needs Chart.yaml")
    doc = load_one(_meta_bytes(path, f"{shown}/{CHART_FILE}"), path=f"{shown}/{CHART_FILE}", limits=_META_LIMITS)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or "version" not in data:
        raise InputError("expected a map with name and version", path=f"{shown}/{CHART_FILE}")
    return ChartInfo(folder=folder, name=data["name"], version=str(data["version"]), shown=shown, meta=doc)


def chart_tree(top: Path, shown: str) -> list[ChartInfo]:
    """The chart and every subchart under ``charts/`` (already unpacked), depth first."""
    found = [read_chart_yaml(top, shown)]
    charts = top / "charts"
    if charts.is_dir():
        for entry in sorted(charts.iterdir()):
            if entry.is_dir():
                found.extend(chart_tree(entry, f"{shown}/charts/{entry.name}"))
    return found


def scan_chart(top: Path, shown: str, extra_values: tuple[tuple[Path, str], ...] = ()) -> list[Finding]:
    """Every lookup/DNS call, clock or random use, and unvendored or unlocked dependency of the chart tree."""
    findings: list[Finding] = []
    top_shown = shown
    charts = chart_tree(top, shown)
    uses_tpl = False
    for chart in charts:
        for file, display in _template_files(chart):
            text = _read_text(file)
            actions = [m.group(1) for m in _ACTION.finditer(_COMMENT.sub("", text))]
            uses_tpl = uses_tpl or any(_WORD["tpl"].search(a) for a in actions)
            findings.extend(_function_findings(actions, text, display))
    if uses_tpl:
        # NOTE: tpl renders any string as a template: a values string, or a file read with .Files.Get.
        # So every other file of the chart tree, and the profiles' values, is scanned as if it were one.
        others = [
            (path, f"{top_shown}/{path.relative_to(top).as_posix()}")
            for path in sorted(top.rglob("*"))
            if path.is_file() and "templates" not in path.relative_to(top).parts
        ]
        for file, display in (*others, *extra_values):
            text = _read_text(file)
            findings.extend(_function_findings([text], text, display, only=_CLUSTER_FUNCTIONS))
    for chart in charts:
        findings.extend(check_dependencies(chart))
    return findings


def _template_files(chart: ChartInfo) -> Iterator[tuple[Path, str]]:
    templates = chart.folder / "templates"
    if not templates.is_dir():
        return
    for path in sorted(templates.rglob("*")):
        if path.is_file():
            yield path, f"{chart.shown}/{path.relative_to(chart.folder).as_posix()}"


def _read_text(path: Path) -> str:
    raw = read_bounded(path, _MAX_SCAN_BYTES, "a chart file", shown_as=path.name)
    return raw.decode("utf-8", errors="replace")


def _meta_bytes(path: Path, shown: str) -> bytes:
    return read_bounded(path, _META_LIMITS.max_bytes, "a chart's metadata", shown_as=shown)


def _function_findings(
    actions: list[str], text: str, display: str, only: tuple[str, ...] | None = None
) -> list[Finding]:
    out: list[Finding] = []
    for name in only or (*_CLUSTER_FUNCTIONS, *_UNSTABLE_FUNCTIONS):
        if not any(_WORD[name].search(a) for a in actions):
            continue
        match = _WORD[name].search(text)
        line = text.count("\n", 0, match.start()) + 1 if match else 1
        if name in _CLUSTER_FUNCTIONS:
            out.append(
                chart_rules.LOOKUP.finding(
                    f"{display} calls {name}: offline it renders as empty, at install from the live cluster or "
                    "DNS; expected no cluster or network reads in templates",
                    location=Location(display, line),
                    function=name,
                )
            )
        else:
            out.append(
                chart_rules.UNSTABLE_TEMPLATE.finding(
                    f"{display} calls {name}: its output changes from one rendering to the next; expected a "
                    "chart that renders the same objects every time",
                    location=Location(display, line),
                    function=name,
                )
            )
    return out


def _dependencies(chart: ChartInfo) -> tuple[list[dict[str, Any]], YamlDocument, str]:
    deps = chart.meta.data.get("dependencies")
    if deps:
        return list(deps), chart.meta, "Chart.lock"
    legacy = chart.folder / "requirements.yaml"
    if legacy.is_file():
        shown = f"{chart.shown}/requirements.yaml"
        doc = load_one(_meta_bytes(legacy, shown), path=shown, limits=_META_LIMITS)
        if isinstance(doc.data, dict) and doc.data.get("dependencies"):
            return list(doc.data["dependencies"]), doc, "requirements.lock"
    return [], chart.meta, "Chart.lock"


def check_dependencies(chart: ChartInfo) -> list[Finding]:
    """Each dependency vendored in charts/, and a lock whose digest and versions match (Helm's own rules)."""
    deps, where, lock_name = _dependencies(chart)
    if not deps:
        return []
    findings: list[Finding] = []
    vendored: dict[str, str] = {}
    charts = chart.folder / "charts"
    if charts.is_dir():
        for entry in sorted(charts.iterdir()):
            if entry.is_dir() and (entry / CHART_FILE).is_file():
                sub = read_chart_yaml(entry, f"{chart.shown}/charts/{entry.name}")
                vendored[sub.name] = sub.version
    for n, dep in enumerate(deps):
        name = str(dep.get("name", "")) if isinstance(dep, dict) else ""
        if name not in vendored:
            findings.append(
                chart_rules.DEPENDENCY_NOT_VENDORED.finding(
                    f"dependency {name!r} ({dep.get('repository', '?') if isinstance(dep, dict) else '?'}) is not in "
                    f"{chart.shown}/charts/; expected it vendored (helm dependency build)",
                    location=Location(where.path, where.line_of(("dependencies", n))),
                    dependency=name,
                )
            )
    lock_path = chart.folder / lock_name
    if not lock_path.is_file():
        findings.append(
            chart_rules.DEPENDENCY_NOT_LOCKED.finding(
                f"{chart.shown} has dependencies but no {lock_name}; expected the lock `helm dependency update` writes",
                location=Location(where.path, where.line_of(("dependencies",))),
            )
        )
        return findings
    shown = f"{chart.shown}/{lock_name}"
    lock = load_one(_meta_bytes(lock_path, shown), path=shown, limits=_META_LIMITS)
    locked = lock.data.get("dependencies") if isinstance(lock.data, dict) else None
    digest = lock.data.get("digest") if isinstance(lock.data, dict) else None
    expected = hash_req(deps, locked if isinstance(locked, list) else [])
    if digest != expected:
        findings.append(
            chart_rules.DEPENDENCY_NOT_LOCKED.finding(
                f"{lock_name} digest is {digest!r} but Chart.yaml's dependencies with this lock give {expected}: "
                "the lock is not for these dependencies; expected `helm dependency update` to have written it",
                location=Location(lock.path, lock.line_of(("digest",))),
            )
        )
    for n, entry in enumerate(locked if isinstance(locked, list) else []):
        if not isinstance(entry, dict):
            continue
        name, version = str(entry.get("name", "")), str(entry.get("version", ""))
        if name in vendored and vendored[name] != version:
            findings.append(
                chart_rules.DEPENDENCY_NOT_LOCKED.finding(
                    f"charts/ holds {name} {vendored[name]} but {lock_name} locks {version}; "
                    "expected the locked version",
                    location=Location(lock.path, lock.line_of(("dependencies", n))),
                    dependency=name,
                )
            )
    return findings


# NOTE: the JSON field order and omitempty of Helm's chart.Dependency, which HashReq marshals.
_DEP_FIELDS: tuple[tuple[str, bool], ...] = (
    ("name", False),
    ("version", True),
    ("repository", False),
    ("condition", True),
    ("tags", True),
    ("enabled", True),
    ("import-values", True),
    ("export-values", True),
    ("alias", True),
)


def _go_dependency(dep: Any) -> dict[str, Any] | None:
    if not isinstance(dep, dict):
        return None
    out: dict[str, Any] = {}
    for key, omit_empty in _DEP_FIELDS:
        value = dep.get(key)
        if key in ("tags", "import-values", "export-values"):
            value = list(value) if isinstance(value, list) else None
        elif key == "enabled":
            value = bool(value) if isinstance(value, bool) else False
        else:
            value = "" if value is None else str(value).strip()
        if omit_empty and not value:
            continue
        out[key] = value if value is not None else ""
    return out


def hash_req(req: list[Any], lock: list[Any]) -> str:
    """Helm's ``resolver.HashReq``: sha256 of Go's ``json.Marshal([req, lock])`` of the dependency lists."""
    data = [[_go_dependency(d) for d in req], [_go_dependency(d) for d in lock]]
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    # NOTE: Go's encoder escapes <, > and & (HTML-safe) and the two line separators.
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
