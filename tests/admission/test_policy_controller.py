"""The shipped ClusterImagePolicies, evaluated by Sigstore policy-controller's own tester against a real registry."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import CASES, POLICIES, POLICY_SHA, Images, render, tool

pytestmark = pytest.mark.integration

VERSION = "v0.13.1"
REGO = {
    "https://plugingate.dev/attestation/gate/v2": "gate.rego",
    "https://slsa.dev/verification_summary/v1": "vsa.rego",
}
# NOTE: policy-controller admits when ANY authority (the gate predicate, or the VSA) is satisfied, and
# within one, when any verified attestation passes its policy ("mixed").
EXPECTED: dict[str, tuple[int, str]] = {
    "attested": (0, ""),
    "unattested": (1, "no matching attestations"),
    "denied": (1, "the plugingate gate denied this image (passed: false"),
    "warn": (1, "the plugingate gate ran in warn mode, not enforce"),
    "dry-run": (1, "the plugingate gate ran in dry-run mode, not enforce"),
    "warn-now": (1, "the plugingate gate denied this image (passed: false, mode: warn"),
    "other-subject": (1, "no matching attestations"),
    "other-signer": (1, "no matching attestations"),
    "expired": (1, "expired at"),
    "revoked": (1, "is revoked"),
    "bundle-revoked": (1, "is revoked"),
    "other-policy": (1, "not a pinned one"),
    "v1": (1, "no matching attestations"),
    "mixed": (0, ""),
    "vsa-only": (0, ""),
    "vsa-failed": (1, "verificationResult: FAILED"),
    "vsa-old": (1, "too old"),
    "vsa-revoked": (1, "is revoked"),
}


def test_every_case_has_an_expectation() -> None:
    assert set(EXPECTED) == set(CASES)


@pytest.mark.parametrize("name", ["clusterimagepolicy-key.yaml", "clusterimagepolicy-keyless.yaml"])
def test_embedded_rego_is_the_reviewed_file(name: str) -> None:
    doc = yaml.safe_load((POLICIES / "policy-controller" / name).read_text())
    assert doc["spec"]["images"] == [{"glob": "**"}]
    authorities = doc["spec"]["authorities"]
    assert [a["attestations"][0]["predicateType"] for a in authorities] == list(REGO)
    for authority in authorities:
        (att,) = authority["attestations"]
        assert att["policy"]["type"] == "rego"
        reviewed = (POLICIES / "policy-controller" / REGO[att["predicateType"]]).read_text()
        assert att["policy"]["data"].strip() == reviewed.strip()


def run_tester(
    images: Images,
    tmp_path: Path,
    image: str,
    *,
    pinned: tuple[str, ...] = (POLICY_SHA,),
    revoked: tuple[str, ...] | None = None,
    public_key_pem: str | None = None,
) -> tuple[int, str]:
    binary = tool("PLUGINGATE_POLICY_TESTER", "policy-tester", VERSION)
    policy = tmp_path / "cip.yaml"
    policy.write_text(
        render(
            POLICIES / "policy-controller" / "clusterimagepolicy-key.yaml",
            public_key_pem or images.public_key_pem,
            pinned=pinned,
            revoked=images.revoked if revoked is None else revoked,
        )
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


@pytest.mark.parametrize("case", list(EXPECTED))
def test_each_case(images: Images, tmp_path: Path, case: str) -> None:
    expected, reason = EXPECTED[case]
    code, out = run_tester(images, tmp_path, images.refs[case])
    assert code == expected, f"{case} ({CASES[case]}): {out}"
    assert reason in out, out


def test_any_image_in_the_namespace_is_checked(images: Images, tmp_path: Path) -> None:
    """The glob is every image, not one registry path: an image from elsewhere needs its attestation too."""
    from support.registry import push_test_image

    digest = push_test_image(images.registry, "elsewhere/tool", b"an image outside plugins/")
    code, out = run_tester(images, tmp_path, f"{images.registry}/elsewhere/tool@{digest}")
    assert code == 1 and "no matching attestations" in out, out


def test_pinning_and_revocation_are_what_deny(images: Images, tmp_path: Path) -> None:
    """Controls: without a pinned digest or a revocation list, the same images are admitted."""
    assert run_tester(images, tmp_path, images.refs["other-policy"], pinned=())[0] == 0
    assert run_tester(images, tmp_path, images.refs["revoked"], revoked=())[0] == 0
    assert run_tester(images, tmp_path, images.refs["bundle-revoked"], revoked=())[0] == 0


def test_keyless_policy_is_valid(images: Images, tmp_path: Path) -> None:
    """The keyless variant cannot verify here (no Fulcio/Rekor), but the tester validates it first."""
    binary = tool("PLUGINGATE_POLICY_TESTER", "policy-tester", VERSION)
    policy = tmp_path / "cip.yaml"
    policy.write_text((POLICIES / "policy-controller" / "clusterimagepolicy-keyless.yaml").read_text())
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
