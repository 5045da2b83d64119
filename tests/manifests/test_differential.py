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
    print(f"\ndifferential: {len(corpus)} files, {len(accepted)} accepted as kubectl reads them, {len(refused)} refused")


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
