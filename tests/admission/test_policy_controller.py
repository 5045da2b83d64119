"""The shipped ClusterImagePolicy, evaluated by Sigstore policy-controller's own tester against a real registry."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import POLICIES, Images, render, tool

pytestmark = pytest.mark.integration

VERSION = "v0.13.1"


def test_embedded_rego_is_the_reviewed_file() -> None:
    rego = (POLICIES / "policy-controller" / "gate.rego").read_text()
    for name in ("clusterimagepolicy-key.yaml", "clusterimagepolicy-keyless.yaml"):
        doc = yaml.safe_load((POLICIES / "policy-controller" / name).read_text())
        (authority,) = doc["spec"]["authorities"]
        (att,) = authority["attestations"]
        assert att["predicateType"] == "https://plugingate.dev/attestation/gate/v2"
        assert att["policy"]["type"] == "rego"
        assert att["policy"]["data"].strip() == rego.strip()


def run_tester(images: Images, tmp_path: Path, image: str) -> tuple[int, str]:
    binary = tool("PLUGINGATE_POLICY_TESTER", "policy-tester", VERSION)
    policy = tmp_path / "cip.yaml"
    policy.write_text(
        render(POLICIES / "policy-controller" / "clusterimagepolicy-key.yaml", images.public_key_pem, images.registry)
    )
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    proc = subprocess.run(
        [binary, "--policy", str(policy), "--image", image, "--log-level", "warn"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_admits_the_attested_image(images: Images, tmp_path: Path) -> None:
    code, out = run_tester(images, tmp_path, images.attested)
    assert code == 0, out


def test_denies_an_unattested_image(images: Images, tmp_path: Path) -> None:
    code, out = run_tester(images, tmp_path, images.unattested)
    assert code == 1, out
    assert "no matching attestations" in out, out


def test_denies_a_failed_gate(images: Images, tmp_path: Path) -> None:
    code, out = run_tester(images, tmp_path, images.denied)
    assert code == 1, out
    assert "the plugingate gate denied this image (passed: false" in out


def test_denies_an_expired_attestation(images: Images, tmp_path: Path) -> None:
    code, out = run_tester(images, tmp_path, images.expired)
    assert code == 1, out
    assert "expired at" in out


def test_any_passing_attestation_is_enough(images: Images, tmp_path: Path) -> None:
    # NOTE: unlike Kyverno, policy-controller admits when one verified gate attestation passes
    code, out = run_tester(images, tmp_path, images.mixed)
    assert code == 0, out


def test_denies_another_key(images: Images, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    code, out = run_tester(Images(**{**images.__dict__, "public_key_pem": other}), tmp_path, images.attested)
    assert code == 1, out


def test_keyless_policy_is_valid(images: Images, tmp_path: Path) -> None:
    """The keyless variant cannot verify here (no Fulcio/Rekor), but the tester validates it first."""
    binary = tool("PLUGINGATE_POLICY_TESTER", "policy-tester", VERSION)
    policy = tmp_path / "cip.yaml"
    policy.write_text(
        (POLICIES / "policy-controller" / "clusterimagepolicy-keyless.yaml")
        .read_text()
        .replace("registry.example.com/plugins", f"{images.registry}/plugins")
    )
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run(
        [binary, "--policy", str(policy), "--image", images.attested],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert "Policy was successfully validated" in out, out
    assert "CIP is invalid" not in out
    # and it fails closed: without the Sigstore trust root nothing is admitted
    assert proc.returncode != 0, out
