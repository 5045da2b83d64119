"""The objects the gate checks for a kustomize plugin equal what ``kubectl kustomize`` prints.

kubectl's built-in kustomize (tools/kubectl, the same kustomize version the gate pins, a different
binary) builds each case's folder in the bundle as it is; the gate builds a private copy through its
wrapper with origin annotations, strips them, writes and re-reads the objects through its loader and
Kubernetes' own second reading. Any difference in between shows here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugingate.declaration import load_declaration
from plugingate.manifests import check_manifests, load_manifests
from plugingate.manifests.kubedecode import HelperReader
from plugingate.policy import load_policy
from tests.forms.conftest import CASES, CASES_POLICY, kustomize_or_skip
from tests.manifests.kubectl import kubectl_binary

pytestmark = pytest.mark.integration

KUSTOMIZE_CASES = sorted(
    case
    for case in CASES.glob("*/*")
    if (case / "plugin.yaml").is_file() and "kustomize:" in (case / "plugin.yaml").read_text()
)


def _kubectl_kustomize(folder: Path) -> list[dict[str, Any]] | None:
    done = subprocess.run(
        [str(kubectl_binary()), "kustomize", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(folder)},
    )
    if done.returncode != 0:
        return None
    return [d for d in yaml.safe_load_all(done.stdout) if d is not None]


@pytest.mark.parametrize("case", KUSTOMIZE_CASES, ids=lambda c: f"{c.parent.name}/{c.name}")
def test_the_gate_checks_what_kubectl_kustomize_prints(case: Path, tmp_path: Path) -> None:
    kustomize_or_skip()
    declaration = load_declaration(case)
    assert declaration.kustomize is not None
    manifests = load_manifests(case, declaration, second_reading=HelperReader())
    # NOTE: kubectl reads a copy: a refused case may name a path outside the bundle, which must not exist.
    copy = tmp_path / "bundle"
    shutil.copytree(case, copy, symlinks=True)
    printed = _kubectl_kustomize(copy / declaration.kustomize)
    if manifests.form_findings and not manifests.objects:
        # A refused case: the gate built nothing; kubectl either fails too or fetched nothing it may use.
        assert all(f.denies for f in manifests.form_findings)
        return
    assert printed is not None
    assert [o.data for o in manifests.objects] == printed


def test_there_are_kustomize_cases_that_pass_and_deny() -> None:
    assert {c.parent.name for c in KUSTOMIZE_CASES} == {"pass", "deny"} and len(KUSTOMIZE_CASES) >= 6


def test_a_forged_origin_annotation_neither_reaches_the_checks_nor_moves_a_finding(tmp_path: Path) -> None:
    """kustomize drops an origin annotation a resource brings: the gate checks what kubectl prints, at real files."""
    kustomize_or_skip()
    bundle = tmp_path / "bundle"
    shutil.copytree(CASES / "deny" / "kustomize-patch-adds-capability", bundle)
    base = bundle / "deploy/base/deployment.yaml"
    text = base.read_text().replace(
        "metadata:\n  name: app\n",
        "metadata:\n  name: app\n  annotations:\n    config.kubernetes.io/origin: 'path: elsewhere.yaml'\n",
        1,
    )
    assert "elsewhere.yaml" in text
    base.write_text(text)
    declaration = load_declaration(bundle)
    manifests = load_manifests(bundle, declaration, second_reading=HelperReader())
    printed = _kubectl_kustomize(bundle / "deploy/overlay")
    assert printed is not None and [o.data for o in manifests.objects] == printed
    assert "elsewhere.yaml" not in json.dumps(printed)
    findings = check_manifests(manifests, declaration, load_policy(CASES_POLICY).capabilities)
    places = {f.location.path for f in findings if f.location is not None}
    assert "deploy/overlay/add-net-admin.yaml" in places
    real = {"deploy/overlay/add-net-admin.yaml", "deploy/base/deployment.yaml", "deploy/base/serviceaccount.yaml"}
    assert places <= real
