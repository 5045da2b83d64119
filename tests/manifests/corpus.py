"""A generated corpus of manifest files for the differential suite: every YAML construct readers disagree on.

``build_corpus()`` is deterministic (a fixed seed): hand-written families cover each construct the
issue lists (document separators and their variants, YAML 1.1 scalars, merge keys and their order,
anchors and aliases, duplicate keys, ``items`` lists of any kind, JSON documents and streams, BOMs,
tabs, comments, tags, empty documents, huge integers, timestamps, quoted and unquoted keys), and
seeded random mutations of well-formed manifests add the combinations nobody thought of.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SEED = 20261207

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  key: value\n"
POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod\n  labels:\n    app: demo\nspec:\n"
    "  hostPID: false\n  containers:\n  - name: app\n    image: registry.example.com/app@sha256:"
    + "ab" * 32
    + "\n    securityContext:\n      privileged: false\n      runAsUser: 1000\n"
)
DEPLOY = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n"
    "    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n"
    "      hostNetwork: false\n      containers:\n      - name: web\n        image: nginx\n"
    "        ports:\n        - containerPort: 8080\n"
)
BASES = (CM, POD, DEPLOY)

SEPARATORS = (
    "---",
    "--- ",
    "---\t",
    "--- # comment",
    "---#comment",
    "----",
    "--- !!map",
    "--- |",
    "--- >",
    "--- {}",
    "...\n---",
    "...",
    " ---",
    "\t---",
    "---\u00a0",
    "---\u0085",
    "---\r",
    "\n\n---\n\n",
    "---\n---",
    "%YAML 1.1\n---",
    "--- %YAML",
    "#---",
)

SCALARS = (
    "y",
    "Y",
    "yes",
    "Yes",
    "YES",
    "n",
    "N",
    "no",
    "No",
    "NO",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "OFF",
    "true",
    "True",
    "TRUE",
    "false",
    "False",
    "FALSE",
    "~",
    "null",
    "Null",
    "NULL",
    "''",
    '""',
    "0755",
    "0o755",
    "0x1F",
    "0b101",
    "1_000",
    "1:30",
    "190:20:30",
    ".inf",
    "-.inf",
    ".nan",
    ".NaN",
    "1e3",
    "1.0e3",
    "1.5",
    "1.",
    ".5",
    "+1",
    "-0",
    "0",
    "1.0",
    "12345678901234567890",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    "=",
    "'y'",
    '"on"',
    "!!str yes",
    "!!bool yes",
    "!!int '42'",
    "!!float 1",
    "!!binary aGVsbG8=",
    "!!null ''",
    "!custom x",
    "!!timestamp 2001-12-14",
    "0.",
    "00",
    "08",
    "0e0",
    "+.inf",
    "1__0",
    "0x_1",
    "'\\u0041'",
    '"\\u0041"',
)

FIELDS = ("data", "host", "key", "item")


@dataclass(frozen=True, slots=True)
class Case:
    """One manifest file: a name saying what it covers, its bytes, and its extension."""

    name: str
    data: bytes
    ext: str = "yaml"


def _scalar_case(token: str, where: str) -> str:
    if where == "data":
        return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: {token}\n"
    if where == "host":
        return f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostPID: {token}\n  containers: []\n"
    if where == "key":
        return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  {token}: v\n"
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  finalizers: [{token}, x]\n"


def _families() -> list[Case]:
    cases: list[Case] = []
    for i, sep in enumerate(SEPARATORS):
        for j, (a, b) in enumerate(((CM, POD), (POD, CM))):
            cases.append(Case(f"sep-{i:02d}-{j}-between", f"{a}{sep}\n{b}".encode()))
        cases.append(Case(f"sep-{i:02d}-leading", f"{sep}\n{CM}".encode()))
        cases.append(Case(f"sep-{i:02d}-trailing", f"{CM}{sep}\n".encode()))
    for i, token in enumerate(SCALARS):
        for where in FIELDS:
            cases.append(Case(f"scalar-{i:02d}-{where}", _scalar_case(token, where).encode()))
    merges = {
        "merge-after-own": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n<<: {kind: Pod}\n",
        "merge-before-own": "<<: {kind: Pod}\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n",
        "merge-list-order": "apiVersion: v1\nmetadata: {name: m}\n<<: [{kind: ConfigMap}, {kind: Pod}]\n",
        "merge-list-reverse": "apiVersion: v1\nmetadata: {name: m}\n<<: [{kind: Pod}, {kind: ConfigMap}]\n",
        "merge-alias": "apiVersion: v1\nkind: Pod\nmetadata: &m {name: m}\nspec:\n  <<: *m\n  hostPID: true\n",
        "merge-nested-after": (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: m}\nspec:\n  hostPID: false\n  <<: {hostPID: true}\n"
        ),
        "merge-nested-before": (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: m}\nspec:\n  <<: {hostPID: true}\n  hostPID: false\n"
        ),
        "merge-twice": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n<<: {a: 1}\n<<: {a: 2}\n",
        "merge-scalar": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n<<: 3\n",
        "merge-quoted": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n'<<': {kind: Pod}\n",
        "merge-in-list-item": "apiVersion: v1\nkind: List\nitems:\n- <<: {apiVersion: v1, kind: Pod}\n  kind: Secret\n",
    }
    anchors = {
        "alias-value": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: &n a}\ndata: {x: *n}\n",
        "alias-key": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {&k x: 1, *k : 2}\n",
        "alias-bool": "apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {t: &t yes}}\nspec: {hostPID: *t}\n",
        "alias-map": "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: a}\ndata: *m\n",
        "alias-undefined": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: *nope}\n",
        "anchor-redefined": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: &a x}\ndata: {a: &a y, b: *a}\n",
        "alias-across-docs": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: &a x}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: *a}\n",
    }
    duplicates = {
        "dup-kind": "apiVersion: v1\nkind: ConfigMap\nkind: Pod\nmetadata: {name: d}\n",
        "dup-nested": "apiVersion: v1\nkind: Pod\nmetadata: {name: d}\nspec: {hostPID: false, hostPID: true}\n",
        "dup-quoted": "apiVersion: v1\nkind: ConfigMap\n'kind': Pod\nmetadata: {name: d}\n",
        "dup-double-quoted": 'apiVersion: v1\nkind: ConfigMap\n"kind": Pod\nmetadata: {name: d}\n',
        "dup-bool-keys": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {y: a, true: b}\n",
        "dup-int-keys": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {1: a, '1': b}\n",
        "dup-escaped": 'apiVersion: v1\nkind: ConfigMap\n"\\u006bind": Pod\nmetadata: {name: d}\n',
        "dup-metadata": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nmetadata: {name: b}\n",
    }
    pod_item = "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {hostPID: true}}"
    lists = {
        "list-v1": f"apiVersion: v1\nkind: List\nitems:\n- {pod_item}\n",
        "list-configmap-kind": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\nitems:\n- {pod_item}\n",
        "list-podlist-typeless": (
            "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: p}\n  spec: {hostPID: true}\n"
        ),
        "list-kind-only": "apiVersion: v1\nkind: PodList\nitems:\n- {kind: Secret, metadata: {name: p}}\n",
        "list-apiversion-only": "apiVersion: v1\nkind: PodList\nitems:\n- {apiVersion: v1, metadata: {name: p}}\n",
        "list-null": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nitems: null\n",
        "list-empty": "apiVersion: v1\nkind: List\nitems: []\n",
        "list-map": "apiVersion: v1\nkind: List\nitems: {a: 1}\n",
        "list-string": "apiVersion: v1\nkind: List\nitems: abc\n",
        "list-nested": f"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: [{pod_item}]\n",
        "list-scalar-item": "apiVersion: v1\nkind: List\nitems: [3]\n",
        "list-null-item": "apiVersion: v1\nkind: List\nitems: [null]\n",
        "list-no-kind": f"apiVersion: v1\nitems: [{pod_item}]\n",
        "list-crd-kind": f"apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nitems: [{pod_item}]\n",
        "list-item-items-null": "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, items: null}\n",
        "list-non-string-kind": "apiVersion: v1\nkind: PodList\nitems:\n- {kind: 5, metadata: {name: p}}\n",
        "list-bad-metadata": f"apiVersion: v1\nkind: List\nmetadata: {{name: 5}}\nitems: [{pod_item}]\n",
    }
    for group in (merges, anchors, duplicates, lists):
        cases.extend(Case(name, text.encode()) for name, text in group.items())
    json_docs = {
        "json-plain": b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {"a": "y"}}',
        "json-stream": b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}\n'
        b'{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"}}\n',
        "json-separated": b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}\n---\n'
        b'{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"}}\n',
        "json-dup": b'{"apiVersion": "v1", "kind": "ConfigMap", "kind": "Pod", "metadata": {"name": "j"}}',
        "json-trailing-comma": b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"},}',
        "json-escapes": b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "\\u006a"}, '
        b'"data": {"s": "\\/\\t\\ud83d\\ude00"}}',
        "json-numbers": b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, '
        b'"x": [1, 1.0, 1e3, 12345678901234567890, -0, 0.1]}',
        "json-bools": b'{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"}, "spec": {"hostPID": true}}',
        "json-array": b'[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}]',
        "json-list": b'{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", '
        b'"metadata": {"name": "p"}}]}',
        "json-leading-space": b'   \n\t{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}',
        "json-then-yaml": b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}\nkind: Pod\n',
        "json-comment": b'{"apiVersion": "v1", # c\n "kind": "ConfigMap", "metadata": {"name": "j"}}',
        "json-tab-indent": b'{\n\t"apiVersion": "v1",\n\t"kind": "ConfigMap",\n\t"metadata": {"name": "j"}\n}',
        "json-unquoted": b"{apiVersion: v1, kind: ConfigMap, metadata: {name: j}, data: {a: y}}",
        "json-nul": b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "\\u0000"}}',
    }
    cases.extend(Case(name, data, "json") for name, data in json_docs.items())
    cm = CM.encode()
    encodings = {
        "bom-utf8": b"\xef\xbb\xbf" + cm,
        "bom-twice": b"\xef\xbb\xbf\xef\xbb\xbf" + cm,
        "bom-middle": cm + b"---\n\xef\xbb\xbf" + POD.encode(),
        "bom-utf16le": b"\xff\xfe" + CM.encode("utf-16-le"),
        "bom-utf16be": b"\xfe\xff" + CM.encode("utf-16-be"),
        "utf16-no-bom": CM.encode("utf-16-le"),
        "latin1": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \xe9}\n",
        "crlf": CM.replace("\n", "\r\n").encode() + b"---\r\n" + POD.replace("\n", "\r\n").encode(),
        "cr-only": (CM + "---\n" + POD).replace("\n", "\r").encode(),
        "nel-breaks": (CM + "---\n" + POD).replace("\n", "\u0085").encode(),
        "line-separator": (CM + "---\n" + POD).replace("\n", "\u2028").encode(),
        "tab-indent": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: t\n",
        "tab-after-colon": b"apiVersion:\tv1\nkind:\tConfigMap\nmetadata:\t{name: t}\n",
        "tab-in-value": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t}\ndata: {a: b\tc}\n",
        "tab-trailing": b"apiVersion: v1\t\nkind: ConfigMap\t\nmetadata: {name: t}\t\n",
        "comment-trailing": b"apiVersion: v1 # c\nkind: ConfigMap #c\nmetadata: {name: c} # x\n",
        "comment-no-space": b"apiVersion: v1\nkind: ConfigMap#c\nmetadata: {name: c}\n",
        "comment-in-flow": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, # c\n  labels: {}}\n",
        "comment-only": b"# nothing here\n",
        "empty-file": b"",
        "only-separators": b"---\n---\n---\n",
        "null-doc": b"null\n",
        "tilde-doc": b"~\n---\n" + cm,
        "empty-between": cm + b"---\n---\n" + POD.encode(),
        "scalar-doc": b"just a string\n",
        "list-doc": b"- a\n- b\n",
        "key-question": b"? kind\n: ConfigMap\napiVersion: v1\nmetadata: {name: q}\n",
        "key-quoted": b"'apiVersion': v1\n\"kind\": ConfigMap\nmetadata: {'name': q}\n",
        "key-trailing-space": b"apiVersion : v1\nkind  : ConfigMap\nmetadata: {name: q}\n",
        "key-complex": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: q}\ndata: {[a, b]: c}\n",
        "key-null": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: q}\ndata: {~: c}\n",
        "key-float": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: q}\ndata: {1.5: c, 1e3: d}\n",
        "key-case": b"apiVersion: v1\nKind: Pod\nkind: ConfigMap\nmetadata: {name: q}\n",
        "huge-int": b"apiVersion: v1\nkind: Pod\nmetadata: {name: h}\nspec: {securityContext: {runAsUser: "
        b"18446744073709551616}}\n",
        "neg-zero-user": b"apiVersion: v1\nkind: Pod\nmetadata: {name: h}\nspec: {securityContext: {runAsUser: -0}}\n",
        "float-user": b"apiVersion: v1\nkind: Pod\nmetadata: {name: h}\nspec: {securityContext: {runAsUser: 0.0}}\n",
        "octal-user": b"apiVersion: v1\nkind: Pod\nmetadata: {name: h}\nspec: {securityContext: {runAsUser: 00}}\n",
        "sexagesimal-port": b"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 1:20}]}\n",
        "timestamp-label": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t, labels: {d: 2001-12-14}}\n",
        "block-literal": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  s: |\n    ---\n    x\n",
        "block-folded-keep": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  s: >+\n    a\n\n",
        "block-indicator": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  s: |2-\n     a\n",
        "multiline-plain": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  s: a\n    b\n",
        "multiline-quoted": b'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  s: "a\n---\n  b"\n',
        "set-tag": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: !!set {a, b}\n",
        "omap-tag": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: !!omap [a: 1]\n",
        "str-tag-kind": b"apiVersion: v1\nkind: !!str Pod\nmetadata: {name: b}\n",
        "local-tag": b"apiVersion: v1\nkind: !Pod ConfigMap\nmetadata: {name: b}\n",
        "verbatim-tag": b"apiVersion: v1\nkind: !<tag:yaml.org,2002:str> Pod\nmetadata: {name: b}\n",
        "directive-tag": b"%TAG !e! tag:example.com,2000:\n---\napiVersion: v1\nkind: !e!x Pod\nmetadata: {name: b}\n",
        "deep-flow": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {a: "
        + b"[" * 40
        + b"]" * 40
        + b"}\n",
        "unicode-name": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\u00e9}\ndata: {\u00e9: \u2603}\n".encode(
            "utf-8"
        ),
        "zero-width": "apiVersion: v1\nkind: Pod\u200b\nmetadata: {name: z}\n".encode(),
    }
    cases.extend(Case(name, data) for name, data in encodings.items())
    return cases


MUTATION_TOKENS = (*SCALARS[:60], "<<: {kind: Pod}", "*x", "&x a", "{a: 1}", "[1]", "|", ">")


def _mutate(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(9)
        n = rng.randrange(len(lines))
        line = lines[n]
        if op == 0 and ": " in line:
            head, _, _ = line.partition(": ")
            lines[n] = f"{head}: {rng.choice(MUTATION_TOKENS)}"
        elif op == 1:
            lines.insert(n, rng.choice(SEPARATORS))
        elif op == 2:
            lines.insert(n, line)
        elif op == 3 and len(lines) > 2:
            del lines[n]
        elif op == 4:
            lines[n] = rng.choice(("", " ", "  ", "\t")) + line
        elif op == 5 and ":" in line:
            indent = line[: len(line) - len(line.lstrip())]
            lines.insert(n + 1, f"{indent}<<: {{{rng.choice(('kind: Pod', 'hostPID: true', 'name: x'))}}}")
        elif op == 6:
            lines[n] = line + rng.choice((" # c", "#c", " ", "\t", "\r"))
        elif op == 7 and ": " in line:
            head, _, value = line.partition(": ")
            quote = rng.choice(("'", '"'))
            lines[n] = f"{head}: {quote}{value}{quote}"
        else:
            key = line.strip().split(":")[0]
            lines.insert(n + 1, line.replace(key, key.upper() if rng.random() < 0.5 else key, 1))
    return "\n".join(lines)


def build_corpus(mutations: int = 200) -> list[Case]:
    """Every hand-written case, then ``mutations`` seeded mutations of the base manifests (deterministic)."""
    cases = _families()
    rng = random.Random(SEED)
    for i in range(mutations):
        base = rng.choice(BASES)
        if rng.random() < 0.3:
            base = base + "---\n" + rng.choice(BASES)
        text = _mutate(rng, base)
        prefix = b"\xef\xbb\xbf" if rng.random() < 0.05 else b""
        cases.append(Case(f"mutation-{i:03d}", prefix + text.encode()))
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases
