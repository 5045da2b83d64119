"""The written Kustomize Component, built by the real kustomize (inside kubectl) from a parent kustomization."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from plugingate.policy.model import Cni
from tests.conftest import run_cli
from tests.manifests.kubectl import kubectl_binary

from .conftest import API_SERVER, DEFAULT_POLICY, EXAMPLE

pytestmark = pytest.mark.integration


def _key(obj: dict[str, object]) -> tuple[str, str, str]:
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    return (str(obj["kind"]), str(meta.get("namespace", "")), str(meta["name"]))


@pytest.mark.parametrize("cni", list(Cni))
def test_the_component_builds_into_exactly_the_rendered_objects(tmp_path: Path, cni: Cni) -> None:
    out = tmp_path / "runtime"
    res = run_cli(
        "render",
        EXAMPLE,
        "--policy",
        DEFAULT_POLICY,
        "--out",
        out,
        "--cni",
        str(cni),
        "--api-server-cidr",
        API_SERVER[0],
    )
    assert res.code == 0, res.stderr
    parent = tmp_path / "platform"
    parent.mkdir()
    (parent / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "components": ["../runtime"]}
        )
    )
    done = subprocess.run(
        [str(kubectl_binary()), "kustomize", str(parent)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    built = sorted(yaml.safe_load_all(done.stdout), key=_key)
    rendered = sorted(yaml.safe_load_all((out / "runtime.yaml").read_text()), key=_key)
    assert built == rendered
