"""The shipped Kyverno policies (ClusterPolicy and ImageValidatingPolicy), run by the Kyverno CLI against a
real registry, with the platform's revocation ConfigMap and pinned gate policy digest."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import CASES, POLICIES, POLICY_SHA, Images, render, tool

pytestmark = pytest.mark.integration

VERSION = "v1.19.1"
NAMESPACE = "plugins"
LABEL = {"plugingate.dev/plugins": "true"}

# NOTE: the ClusterPolicy requires the gate predicate on every image and every gate attestation to pass
# ("mixed" fails); it does not accept the VSA alone. The ImageValidatingPolicy accepts either.
CLUSTER_POLICY: dict[str, tuple[str, str]] = {
    "attested": ("pass", ""),
    "unattested": ("fail", "no matching attestations"),
    "denied": ("fail", "the plugingate gate denied this image"),
    "warn": ("fail", "the plugingate gate ran in warn mode, not enforce"),
    "dry-run": ("fail", "the plugingate gate ran in dry-run mode, not enforce"),
    "warn-now": ("fail", "the plugingate gate denied this image (passed: false, mode: warn"),
    "other-subject": ("fail", "no matching attestations"),
    "other-signer": ("fail", "no matching attestations"),
    "expired": ("fail", "expired at"),
    "revoked": ("fail", "a plugin image is revoked"),
    "bundle-revoked": ("fail", "is revoked"),
    "other-policy": ("fail", "not a pinned one"),
    "v1": ("fail", "attestions not found for predicate type https://plugingate.dev/attestation/gate/v2"),
    "mixed": ("fail", "the plugingate gate denied this image"),
    "vsa-only": ("fail", "attestions not found for predicate type https://plugingate.dev/attestation/gate/v2"),
    "vsa-failed": ("fail", "attestions not found"),
    "vsa-old": ("fail", "attestions not found"),
    "vsa-revoked": ("fail", "attestions not found"),
}


def test_every_case_has_an_expectation() -> None:
    assert set(CLUSTER_POLICY) == set(CASES)


def pod(name: str, image: str, namespace: str = NAMESPACE) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
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


def revocations(revoked: tuple[str, ...]) -> str:
    return json.dumps(list(revoked))


def values(
    images: Images, revoked: tuple[str, ...] | None = None, policy: str = "plugingate-gate-key"
) -> dict[str, Any]:
    """The CLI's stand-in for the cluster: the namespace's labels and the revocation ConfigMap's data."""
    listed = revocations(images.revoked if revoked is None else revoked)
    return {
        "apiVersion": "cli.kyverno.io/v1alpha1",
        "kind": "Values",
        "namespaceSelector": [{"name": NAMESPACE, "labels": LABEL}],
        "policies": [
            {
                "name": policy,
                "rules": [
                    {"name": rule, "values": {"revocations.data.digests": listed}}
                    for rule in ("refuse-revoked-images", "require-plugingate-gate")
                ],
            }
        ],
    }


def apply_cluster_policy(
    images: Images,
    tmp_path: Path,
    image: str,
    *,
    pinned: tuple[str, ...] = (POLICY_SHA,),
    revoked: tuple[str, ...] | None = None,
    namespace: str = NAMESPACE,
    name: str = "clusterpolicy-key.yaml",
) -> tuple[int, str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(render(POLICIES / "kyverno" / name, images.public_key_pem, pinned=pinned))
    resource = tmp_path / "pod.yaml"
    resource.write_text(yaml.safe_dump(pod("plugin", image, namespace)))
    values_file = tmp_path / "values.yaml"
    policy_name = yaml.safe_load(policy.read_text())["metadata"]["name"]
    values_file.write_text(yaml.safe_dump(values(images, revoked, policy_name)))
    proc = kyverno(
        "apply", str(policy), "--resource", str(resource), "--values-file", str(values_file),
        "--registry", "--detailed-results", cwd=tmp_path,
    )  # fmt: skip
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("case", list(CLUSTER_POLICY))
def test_cluster_policy(images: Images, tmp_path: Path, case: str) -> None:
    verdict, reason = CLUSTER_POLICY[case]
    code, out = apply_cluster_policy(images, tmp_path, images.refs[case])
    if verdict == "pass":
        assert code == 0, out
        assert "fail: 0, warn: 0, error: 0" in out and "pass: 0" not in out, out
    else:
        assert code != 0, f"{case} ({CASES[case]}) was admitted: {out}"
        assert "fail: 0" not in out, out
        assert reason in out, out


def test_cluster_policy_checks_any_image_of_a_plugin_namespace(images: Images, tmp_path: Path) -> None:
    from support.registry import push_test_image

    digest = push_test_image(images.registry, "elsewhere/tool", b"an image outside plugins/")
    code, out = apply_cluster_policy(images, tmp_path, f"{images.registry}/elsewhere/tool@{digest}")
    assert code != 0 and "no matching attestations" in out, out


def test_cluster_policy_controls(images: Images, tmp_path: Path) -> None:
    """Without a pinned digest or with an empty revocation list, the same images are admitted: the
    platform's settings are what deny them, not something else."""
    assert apply_cluster_policy(images, tmp_path, images.refs["other-policy"], pinned=())[0] == 0
    assert apply_cluster_policy(images, tmp_path, images.refs["revoked"], revoked=())[0] == 0
    assert apply_cluster_policy(images, tmp_path, images.refs["bundle-revoked"], revoked=())[0] == 0


def test_keyless_policy_loads_and_fails_closed_offline(images: Images, tmp_path: Path) -> None:
    """The keyless variant needs Sigstore's public trust root (TUF), unreachable here: Kyverno loads the
    policy and denies, rather than admitting an image it could not check."""
    policy = tmp_path / "policy.yaml"
    policy.write_text((POLICIES / "kyverno" / "clusterpolicy-keyless.yaml").read_text())
    resource = tmp_path / "pod.yaml"
    resource.write_text(yaml.safe_dump(pod("attested-plugin", images.attested)))
    values_file = tmp_path / "values.yaml"
    doc = values(images)
    doc["policies"][0]["name"] = "plugingate-gate-keyless"
    values_file.write_text(yaml.safe_dump(doc))
    proc = kyverno(
        "apply", str(policy), "--resource", str(resource), "--values-file", str(values_file), "--registry",
        cwd=tmp_path,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "fulcio" in out.lower() or "tuf" in out.lower(), out


NO_GATE = "no gate attestation about this image signed by the gate"
IMAGE_VALIDATING_POLICY: dict[str, tuple[str, str]] = {
    "attested": ("pass", ""),
    "unattested": ("fail", NO_GATE),
    "denied": ("fail", "the plugingate gate denied it (passed: false, mode: enforce)"),
    "warn": ("fail", "the plugingate gate ran in warn mode, not enforce"),
    "dry-run": ("fail", "the plugingate gate ran in dry-run mode, not enforce"),
    "warn-now": ("fail", "the plugingate gate denied it (passed: false, mode: warn)"),
    "other-subject": ("fail", NO_GATE),
    "other-signer": ("fail", NO_GATE),
    "expired": ("fail", "the gate attestation expired at"),
    "revoked": ("fail", "revoked plugin image(s)"),
    "bundle-revoked": ("fail", "is revoked"),
    "other-policy": ("fail", "not a pinned one"),
    "v1": ("fail", NO_GATE),
    # NOTE: the ImageValidatingPolicy sees one verified statement per type: the last one attached (here the failing one)
    "mixed": ("fail", "the plugingate gate denied it"),
    "vsa-only": ("pass", ""),
    "vsa-failed": ("fail", NO_GATE),
    "vsa-old": ("fail", NO_GATE),
    "vsa-revoked": ("fail", NO_GATE),
}


def test_every_case_has_an_ivpol_expectation() -> None:
    assert set(IMAGE_VALIDATING_POLICY) == set(CASES)


def apply_ivpol(
    images: Images,
    tmp_path: Path,
    image: str,
    *,
    pinned: tuple[str, ...] = (POLICY_SHA,),
    revoked: tuple[str, ...] | None = None,
) -> tuple[int, str]:
    policy = tmp_path / "ivpol.yaml"
    policy.write_text(
        render(POLICIES / "kyverno" / "imagevalidatingpolicy-key.yaml", images.public_key_pem, pinned=pinned)
    )
    resource = tmp_path / "pod.yaml"
    resource.write_text(yaml.safe_dump(pod("plugin", image)))
    context = tmp_path / "context.yaml"
    context.write_text(yaml.safe_dump(cluster_context(images, revoked)))
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(namespace_values()))
    proc = kyverno(
        "apply", str(policy), "--resource", str(resource), "--context-file", str(context),
        "--values-file", str(values_file), "--registry", "--detailed-results", cwd=tmp_path,
    )  # fmt: skip
    return proc.returncode, proc.stdout + proc.stderr


def cluster_context(images: Images, revoked: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The CLI's stand-in for the cluster objects CEL policies read: the revocation ConfigMap."""
    from plugingate.attestation.revocation import configmap, make_list

    listed = images.revoked if revoked is None else revoked
    cm = (
        configmap(make_list(listed, issued_at=datetime.now(UTC)), namespace="kyverno")
        if listed
        else {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "plugingate-revocations", "namespace": "kyverno"},
            "data": {"digests": "[]"},
        }
    )
    return {
        "apiVersion": "cli.kyverno.io/v1alpha1",
        "kind": "Context",
        "metadata": {"name": "cluster"},
        "spec": {"resources": [cm]},
    }


def namespace_values() -> dict[str, Any]:
    return {
        "apiVersion": "cli.kyverno.io/v1alpha1",
        "kind": "Values",
        "namespaceSelector": [{"name": NAMESPACE, "labels": LABEL}],
        "namespaces": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": LABEL}}],
    }


@pytest.mark.parametrize("case", list(IMAGE_VALIDATING_POLICY))
def test_image_validating_policy(images: Images, tmp_path: Path, case: str) -> None:
    verdict, reason = IMAGE_VALIDATING_POLICY[case]
    code, out = apply_ivpol(images, tmp_path, images.refs[case])
    if verdict == "pass":
        assert code == 0, out
        assert "fail: 0, warn: 0, error: 0" in out and "pass: 0" not in out, out
    else:
        assert code != 0, f"{case} ({CASES[case]}) was admitted: {out}"
        assert "fail: 0" not in out, out
        assert reason in out, out


def test_image_validating_policy_controls(images: Images, tmp_path: Path) -> None:
    assert apply_ivpol(images, tmp_path, images.refs["other-policy"], pinned=())[0] == 0
    assert apply_ivpol(images, tmp_path, images.refs["revoked"], revoked=())[0] == 0
    assert apply_ivpol(images, tmp_path, images.refs["bundle-revoked"], revoked=())[0] == 0


SUITE: dict[str, tuple[str, str]] = {
    # case: (ClusterPolicy, ImageValidatingPolicy)
    "attested": ("pass", "pass"),
    "warn": ("fail", "fail"),
    "dry-run": ("fail", "fail"),
    "other-policy": ("fail", "fail"),
    "bundle-revoked": ("fail", "fail"),
    "vsa-only": ("fail", "pass"),
}


@pytest.mark.parametrize("flipped", [False, True])
def test_kyverno_test_suite(images: Images, tmp_path: Path, flipped: bool) -> None:
    """`kyverno test` with both policy kinds and the expected verdict of each pod, as a platform team
    would keep it in git. Flipped, the same suite must fail: the verdicts come from the registry."""
    (tmp_path / "policy.yaml").write_text(
        render(POLICIES / "kyverno" / "clusterpolicy-key.yaml", images.public_key_pem, pinned=(POLICY_SHA,))
    )
    (tmp_path / "ivpol.yaml").write_text(
        render(POLICIES / "kyverno" / "imagevalidatingpolicy-key.yaml", images.public_key_pem, pinned=(POLICY_SHA,))
    )
    (tmp_path / "resources.yaml").write_text(yaml.safe_dump_all([pod(f"{c}-plugin", images.refs[c]) for c in SUITE]))
    (tmp_path / "context.yaml").write_text(yaml.safe_dump(cluster_context(images)))
    doc = values(images)
    doc["namespaces"] = namespace_values()["namespaces"]
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(doc))

    def expect(verdict: str) -> str:
        return {"pass": "fail", "fail": "pass"}[verdict] if flipped else verdict

    results: list[dict[str, Any]] = []
    for verdict in ("pass", "fail"):
        cp = [f"{c}-plugin" for c, (v, _) in SUITE.items() if expect(v) == verdict]
        iv = [f"{c}-plugin" for c, (_, v) in SUITE.items() if expect(v) == verdict]
        if cp:
            results.append(
                {
                    "policy": "plugingate-gate-key",
                    "rule": "require-plugingate-gate",
                    "kind": "Pod",
                    "resources": cp,
                    "result": verdict,
                }
            )
        if iv:
            results.append(
                {
                    "policy": "plugingate-image-gate-key",
                    "isImageValidatingPolicy": True,
                    "kind": "Pod",
                    "resources": iv,
                    "result": verdict,
                }
            )
    suite = {
        "apiVersion": "cli.kyverno.io/v1alpha1",
        "kind": "Test",
        "metadata": {"name": "plugingate-gate"},
        "policies": ["policy.yaml", "ivpol.yaml"],
        "resources": ["resources.yaml"],
        "context": "context.yaml",
        "variables": "values.yaml",
        "results": results,
    }
    (tmp_path / "kyverno-test.yaml").write_text(yaml.safe_dump(suite))
    proc = kyverno("test", str(tmp_path), "--registry", "--detailed-results", cwd=tmp_path)
    out = proc.stdout + proc.stderr
    if flipped:
        assert proc.returncode != 0, out
        assert " 0 tests passed" in out, out
    else:
        assert proc.returncode == 0, out
        assert "tests passed and 0 tests failed" in out, out


def test_keyless_image_validating_policy_fails_closed_offline(images: Images, tmp_path: Path) -> None:
    """Same for the ImageValidatingPolicy's keyless variant: it compiles, and without Sigstore's trust root
    nothing verifies, so the attested image is refused."""
    policy = tmp_path / "ivpol.yaml"
    policy.write_text((POLICIES / "kyverno" / "imagevalidatingpolicy-keyless.yaml").read_text())
    resource = tmp_path / "pod.yaml"
    resource.write_text(yaml.safe_dump(pod("attested-plugin", images.attested)))
    context = tmp_path / "context.yaml"
    context.write_text(yaml.safe_dump(cluster_context(images)))
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(namespace_values()))
    proc = kyverno(
        "apply", str(policy), "--resource", str(resource), "--context-file", str(context),
        "--values-file", str(values_file), "--registry", "--detailed-results", cwd=tmp_path,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "pass: 0" in out and "fail: 1" in out, out
    assert "no gate attestation about this image signed by the gate" in out, out


VSA_NOT_FOUND = "attestions not found for predicate type https://slsa.dev/verification_summary/v1"
VSA_CLUSTER_POLICY: dict[str, tuple[str, str]] = {
    "attested": ("pass", ""),
    "vsa-only": ("pass", ""),
    "vsa-failed": ("fail", "the plugingate gate did not pass this image (verificationResult: FAILED)"),
    "vsa-old": ("fail", "the verification summary is too old"),
    "vsa-revoked": ("fail", "is revoked"),
    "revoked": ("fail", "a plugin image is revoked"),
    "warn": ("fail", VSA_NOT_FOUND),
    "unattested": ("fail", "no matching attestations"),
    "other-signer": ("fail", "no matching attestations"),
    "other-subject": ("fail", "no matching attestations"),
}


@pytest.mark.parametrize("case", list(VSA_CLUSTER_POLICY))
def test_vsa_cluster_policy(images: Images, tmp_path: Path, case: str) -> None:
    verdict, reason = VSA_CLUSTER_POLICY[case]
    code, out = apply_cluster_policy(images, tmp_path, images.refs[case], name="clusterpolicy-vsa-key.yaml")
    if verdict == "pass":
        assert code == 0, out
        assert "fail: 0, warn: 0, error: 0" in out and "pass: 0" not in out, out
    else:
        assert code != 0, f"{case} ({CASES[case]}) was admitted: {out}"
        assert reason in out, out


def test_vsa_cluster_policy_controls(images: Images, tmp_path: Path) -> None:
    code, out = apply_cluster_policy(
        images, tmp_path, images.refs["vsa-revoked"], revoked=(), name="clusterpolicy-vsa-key.yaml"
    )
    assert code == 0, out
