"""``plugingate render`` through the real command line: what it writes, and when it refuses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.conftest import run_cli

from .conftest import DEFAULT_POLICY, EXAMPLE, GOLDEN


def test_render_writes_the_stream_and_a_kustomize_component(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run_cli(
        "render", EXAMPLE, "--policy", DEFAULT_POLICY, "--out", out, "--api-server-cidr", "10.0.0.1", "--format", "json"
    )
    assert res.code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["rendered"] is True and payload["cni"] == "plain"
    assert (out / "runtime.yaml").read_text() == (GOLDEN / "acme-exporter-plain.yaml").read_text()
    component = yaml.safe_load((out / "kustomization.yaml").read_text())
    assert component == {
        "apiVersion": "kustomize.config.k8s.io/v1alpha1",
        "kind": "Component",
        "resources": ["runtime.yaml"],
    }
    import hashlib

    assert payload["digest"] == "sha256:" + hashlib.sha256((out / "runtime.yaml").read_bytes()).hexdigest()
    assert "Namespace/acme-exporter" in payload["objects"]


def test_the_cni_comes_from_the_policy_or_the_option(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    data = yaml.safe_load(DEFAULT_POLICY.read_text())
    data["spec"]["runtime"] = {"cni": "cilium"}
    policy.write_text(yaml.safe_dump(data))
    res = run_cli("render", EXAMPLE, "--policy", policy, "--out", tmp_path / "a")
    assert res.code == 0, res.stderr
    assert (tmp_path / "a" / "runtime.yaml").read_text() == (GOLDEN / "acme-exporter-cilium.yaml").read_text()
    res = run_cli(
        "render",
        EXAMPLE,
        "--policy",
        policy,
        "--out",
        tmp_path / "b",
        "--cni",
        "anp",
        "--api-server-cidr",
        "10.0.0.1/32",
    )
    assert res.code == 0, res.stderr
    assert (tmp_path / "b" / "runtime.yaml").read_text() == (GOLDEN / "acme-exporter-anp.yaml").read_text()


def test_a_declaration_the_policy_denies_is_not_rendered(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, bundle)
    plugin = yaml.safe_load((bundle / "plugin.yaml").read_text())
    plugin["spec"]["capabilities"]["privileges"]["privileged"] = True
    plugin["spec"]["capabilities"]["network"]["egress"].append(
        {"host": "169.254.169.254", "ports": [80], "reason": "metadata"}
    )
    (bundle / "plugin.yaml").write_text(yaml.safe_dump(plugin))
    out = tmp_path / "out"
    res = run_cli("render", bundle, "--policy", DEFAULT_POLICY, "--out", out, "--api-server-cidr", "10.0.0.1/32")
    assert res.code == 1, res.stdout + res.stderr
    assert "PG-CAP-" in res.stdout and "not rendered" in res.stderr
    assert not out.exists()
    # NOTE: warn mode does not make a denied declaration renderable.
    policy = yaml.safe_load(DEFAULT_POLICY.read_text())
    policy["spec"]["mode"] = "warn"
    (tmp_path / "warn.yaml").write_text(yaml.safe_dump(policy))
    res = run_cli("render", bundle, "--policy", tmp_path / "warn.yaml", "--out", out, "--format", "json")
    assert res.code == 1
    assert json.loads(res.stdout)["rendered"] is False and not out.exists()


def test_bad_input_exits_2(tmp_path: Path) -> None:
    res = run_cli("render", EXAMPLE, "--policy", DEFAULT_POLICY, "--out", tmp_path, "--namespace", "Not_A_Label")
    assert res.code == 2 and "not a valid namespace name" in res.stderr
    res = run_cli("render", EXAMPLE, "--policy", DEFAULT_POLICY, "--out", tmp_path, "--api-server-cidr", "kubernetes")
    assert res.code == 2 and "--api-server-cidr: 'kubernetes' is not an address or CIDR" in res.stderr
    # NOTE: the example declares Kubernetes API rules: a NetworkPolicy needs the API server's addresses.
    res = run_cli("render", EXAMPLE, "--policy", DEFAULT_POLICY, "--out", tmp_path)
    assert res.code == 2 and "apiServerCIDRs" in res.stderr
    assert not (tmp_path / "runtime.yaml").exists()
