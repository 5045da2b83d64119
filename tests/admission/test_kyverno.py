"""The shipped Kyverno ClusterPolicy, run by the Kyverno CLI against a real registry."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import POLICIES, Images, render, tool

pytestmark = pytest.mark.integration

VERSION = "v1.19.1"


def pod(name: str, image: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "plugins"},
        "spec": {"containers": [{"name": "plugin", "image": image}]},
    }


def kyverno(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = tool("PLUGINGATE_KYVERNO", "kyverno", VERSION)
    home = cwd / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [binary, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "KYVERNO_EXPERIMENTAL": "false"},
        check=False,
    )


def write_policy(images: Images, tmp_path: Path) -> Path:
    policy = tmp_path / "policy.yaml"
    policy.write_text(render(POLICIES / "kyverno" / "clusterpolicy-key.yaml", images.public_key_pem, images.registry))
    return policy


@pytest.mark.parametrize(
    ("which", "verdict", "reason"),
    [
        ("attested", "pass", ""),
        ("unattested", "fail", "no matching attestations"),
        ("denied", "fail", "the plugingate gate denied this image"),
        ("expired", "fail", "expired at"),
        # NOTE: Kyverno requires every gate attestation on the image to pass (see docs/attestation.md)
        ("mixed", "fail", "the plugingate gate denied this image"),
    ],
)
def test_kyverno_apply(images: Images, tmp_path: Path, which: str, verdict: str, reason: str) -> None:
    policy = write_policy(images, tmp_path)
    resource = tmp_path / "pod.yaml"
    resource.write_text(yaml.safe_dump(pod(f"{which}-plugin", getattr(images, which))))
    proc = kyverno("apply", str(policy), "--resource", str(resource), "--registry", "--detailed-results", cwd=tmp_path)
    out = proc.stdout + proc.stderr
    if verdict == "pass":
        assert proc.returncode == 0, out
        assert "fail: 0, warn: 0, error: 0" in out and "pass: 0" not in out, out
    else:
        assert proc.returncode != 0, out
        assert "fail: 0" not in out, out
        assert reason in out, out


@pytest.mark.parametrize("flipped", [False, True])
def test_kyverno_test_suite(images: Images, tmp_path: Path, flipped: bool) -> None:
    """`kyverno test` with the expected verdict of each pod, as a platform team would keep it in git.

    Flipped (the attested pod expected to fail, the others to pass), the same suite must fail: the
    verdicts come from the registry, not from the test's expectations.
    """
    write_policy(images, tmp_path)
    names = {"attested": "pass", "unattested": "fail", "denied": "fail", "expired": "fail"}
    if flipped:
        names = {n: "fail" if v == "pass" else "pass" for n, v in names.items()}
    (tmp_path / "resources.yaml").write_text(
        yaml.safe_dump_all([pod(f"{n}-plugin", getattr(images, n)) for n in names])
    )
    suite = {
        "apiVersion": "cli.kyverno.io/v1alpha1",
        "kind": "Test",
        "metadata": {"name": "plugingate-gate"},
        "policies": ["policy.yaml"],
        "resources": ["resources.yaml"],
        "results": [
            {
                "policy": "plugingate-gate-key",
                "rule": "require-plugingate-gate",
                "kind": "Pod",
                "resources": [f"{n}-plugin" for n, v in names.items() if v == verdict],
                "result": verdict,
            }
            for verdict in ("pass", "fail")
        ],
    }
    (tmp_path / "kyverno-test.yaml").write_text(yaml.safe_dump(suite))
    proc = kyverno("test", str(tmp_path), "--registry", "--detailed-results", cwd=tmp_path)
    out = proc.stdout + proc.stderr
    if flipped:
        assert proc.returncode != 0, out
        assert "0 tests passed and 8 tests failed" in out, out
    else:
        # NOTE: two results per pod: the attestation check and the image digest check
        assert proc.returncode == 0, out
        assert "Test Summary: 8 tests passed and 0 tests failed" in out, out


def test_keyless_policy_loads_and_fails_closed_offline(images: Images, tmp_path: Path) -> None:
    """The keyless variant needs Sigstore's public trust root (TUF), unreachable here: Kyverno loads the
    policy and denies, rather than admitting an image it could not check."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        (POLICIES / "kyverno" / "clusterpolicy-keyless.yaml")
        .read_text()
        .replace("registry.example.com/plugins", f"{images.registry}/plugins")
    )
    resource = tmp_path / "pod.yaml"
    resource.write_text(yaml.safe_dump(pod("attested-plugin", images.attested)))
    proc = kyverno("apply", str(policy), "--resource", str(resource), "--registry", cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "pass: 0" in out and "error: 0" in out, out
    assert "fulcio" in out.lower() or "tuf" in out.lower(), out
