"""The differential suite: for every generated manifest file, the gate refuses it or reads what kubectl sends.

``corpus.build_corpus()`` generates several hundred files covering every construct YAML readers
disagree on, plus seeded random mutations. For each, the gate's reading either refuses the file (bad
input) or its objects equal, field for field and type for type, what the Go helper decodes; the
helper itself is checked against the real ``kubectl create --dry-run=client -o json`` on a sample
(``test_kubectl_sample.py``). Zero files may be accepted with a different reading.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugingate.declaration import load_declaration
from plugingate.errors import InputError
from plugingate.manifests import load_manifests
from plugingate.manifests.agreement import check_agreement
from plugingate.manifests.kubedecode import HelperReader, KubeReading
from plugingate.manifests.loader import python_reading
from tests.manifests.conftest import PLUGIN
from tests.manifests.corpus import Case, build_corpus
from tests.manifests.kube import require_helper
from tests.manifests.kubectl import fake_api_server, kubectl_binary, kubectl_create

pytestmark = pytest.mark.integration


def canonical(value: Any) -> str:
    """JSON text that keeps types apart (``true``/``1``/``1.0``) and ignores key order."""
    return json.dumps(value, sort_keys=True, allow_nan=True)


def decode_all(folder: Path, cases: list[Case]) -> KubeReading:
    """Every case as a file in ``folder``, decoded by the helper in one run."""
    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for case in cases:
        path = folder / f"{case.name}.{case.ext}"
        path.write_bytes(case.data)
        pairs.append((path.name, path))
    return HelperReader().start(pairs).result(timeout=300)


def verdicts(cases: list[Case], reading: KubeReading) -> dict[str, list[dict[str, Any]] | None]:
    """For each case: the objects the gate accepted (checked against kubectl's), or None when it refused."""
    out: dict[str, list[dict[str, Any]] | None] = {}
    for case in cases:
        name = f"{case.name}.{case.ext}"
        try:
            ours = python_reading(case.data, name)
            check_agreement([name], ours, reading)
        except InputError:
            out[name] = None
            continue
        theirs = [o for d in reading.files[name].documents for o in d.objects]
        assert canonical([o.data for o in ours]) == canonical(theirs), f"{name}: accepted with another reading"
        out[name] = theirs
    return out


@pytest.fixture(scope="module")
def corpus() -> list[Case]:
    return build_corpus()


def test_the_corpus_covers_every_construct(corpus: list[Case]) -> None:
    assert len(corpus) >= 300
    families = {c.name.split("-")[0] for c in corpus}
    assert {"sep", "scalar", "merge", "alias", "anchor", "dup", "list", "json", "bom", "tab", "comment"} <= families
    assert {"mutation", "huge", "timestamp", "key", "crlf", "cr", "empty", "null", "str"} <= families
    assert build_corpus() == corpus, "the corpus is deterministic"


def test_every_file_is_refused_or_read_as_kubectl_reads_it(corpus: list[Case], tmp_path: Path) -> None:
    require_helper()
    reading = decode_all(tmp_path / "corpus", corpus)
    found = verdicts(corpus, reading)
    accepted = [name for name, objects in found.items() if objects is not None]
    refused = [name for name, objects in found.items() if objects is None]
    # NOTE: both sides must be exercised: a reader that refused everything would pass vacuously.
    assert len(accepted) >= 150 and len(refused) >= 100, (len(accepted), len(refused))
    print(
        f"\ndifferential: {len(corpus)} files, {len(accepted)} accepted as kubectl reads them, {len(refused)} refused"
    )


def test_the_gate_reads_the_accepted_files_together_as_kubectl(corpus: list[Case], tmp_path: Path) -> None:
    """The same verdicts through ``load_manifests`` (the gate's path): one bundle of every accepted file."""
    require_helper()
    reading = decode_all(tmp_path / "probe", corpus)
    found = verdicts(corpus, reading)
    root = tmp_path / "bundle"
    (root / "deploy").mkdir(parents=True)
    (root / "plugin.yaml").write_text(yaml.safe_dump(PLUGIN))
    expected: list[dict[str, Any]] = []
    for name in sorted(found):
        objects = found[name]
        if objects is None:
            continue
        shutil.copy(tmp_path / "probe" / name, root / "deploy" / name)
        expected.extend(objects)
    manifests = load_manifests(root, load_declaration(root), second_reading=HelperReader())
    assert canonical([o.data for o in manifests.objects]) == canonical(expected)


@pytest.mark.parametrize("name", ["merge-after-own", "scalar-00-host", "dup-kind", "cr-only", "sep-06-0-between"])
def test_each_known_disagreement_is_refused_through_the_gate(corpus: list[Case], tmp_path: Path, name: str) -> None:
    require_helper()
    case = next(c for c in corpus if c.name == name)
    root = tmp_path / "bundle"
    (root / "deploy").mkdir(parents=True)
    (root / "plugin.yaml").write_text(yaml.safe_dump(PLUGIN))
    (root / "deploy" / f"{name}.{case.ext}").write_bytes(case.data)
    with pytest.raises(InputError) as caught:
        load_manifests(root, load_declaration(root), second_reading=HelperReader())
    assert caught.value.path == f"deploy/{name}.{case.ext}"


def test_the_helper_reads_as_the_real_kubectl_on_a_sample(corpus: list[Case], tmp_path: Path) -> None:
    """``kubectl create --dry-run=client -o json`` on a sample: the objects and the failures are the helper's."""
    require_helper()
    kubectl = kubectl_binary()
    folder = tmp_path / "corpus"
    reading = decode_all(folder, corpus)
    found = verdicts(corpus, reading)
    accepted = sorted(n for n, o in found.items() if o is not None)
    refused = sorted(n for n, o in found.items() if o is None)
    sample = accepted[:: max(1, len(accepted) // 100)] + refused[:: max(1, len(refused) // 50)]
    kinds = {
        (str(o.get("apiVersion")), str(o.get("kind")))
        for n in sample
        for d in reading.files[n].documents
        for o in d.objects
    }
    kinds |= {d.type for n in sample for d in reading.files[n].documents if d.type is not None}
    checked = 0
    with fake_api_server(kinds, tmp_path) as config:
        for name in sample:
            helper = reading.files[name]
            theirs = kubectl_create(kubectl, config, folder / name, tmp_path)
            ours = [o for d in helper.documents for o in d.objects]
            helper_failed = helper.error is not None or any(d.error for d in helper.documents)
            assert canonical(theirs.objects) == canonical(ours), f"{name}: kubectl {theirs.stderr}"
            # NOTE: kubectl create also fails on a file with no object at all; that is no decoding error.
            empty = not ours and theirs.stderr.strip() == "error: no objects passed to create"
            assert theirs.failed == (helper_failed or empty), f"{name}: kubectl failed={theirs.failed} {theirs.stderr}"
            checked += 1
    assert checked >= 120
    print(f"\nkubectl sample: {checked} files agree")
