"""The attestation names an image only when the SBOM step proved its pinned digest."""

from __future__ import annotations

from dataclasses import replace

from plugingate.attestation.step import image_digests
from plugingate.findings import Step
from plugingate.result import GateResult, StepResult, StepStatus
from plugingate.sbom.generate import SbomResult, ScannedImage

from .test_gate_step import IMAGE, gate_result

OTHER = "registry.example.com/acme/sidecar@sha256:" + "d" * 64


def _with_sbom(images: list[dict[str, object]]) -> GateResult:
    result = gate_result()
    assert result.plugin is not None
    result = replace(result, plugin=replace(result.plugin, images=(("exporter", IMAGE), ("sidecar", OTHER))))
    scanned = tuple(
        ScannedImage(
            name=str(i["name"]),
            ref=str(i["ref"]),
            origin=str(i["origin"]),
            packages=0,
            digest=str(i["digest"]) if "digest" in i else None,
        )
        for i in images
    )
    sbom = result.outcome(Step.SBOM, SbomResult)
    assert sbom is not None
    typed = replace(sbom, images=scanned)
    steps = tuple(
        StepResult(Step.SBOM, StepStatus.PASSED, "sbom", details={"images": images}, outcome=typed)
        if s.step is Step.SBOM
        else s
        for s in result.steps
    )
    return replace(result, steps=steps)


def test_only_proven_digests_are_subjects() -> None:
    proven = {"name": "exporter", "ref": IMAGE, "origin": "bundle:x.tar", "digest": IMAGE.rpartition("@")[2]}
    assert image_digests(_with_sbom([proven])) == [(IMAGE, IMAGE.rpartition("@")[2])]


def test_a_scanned_but_unproven_image_or_another_digest_is_never_a_subject() -> None:
    unproven = {"name": "exporter", "ref": IMAGE, "origin": "bundle:x.tar"}
    other_digest = {"name": "sidecar", "ref": OTHER, "origin": "docker engine", "digest": "sha256:" + "e" * 64}
    wrong_ref = {"name": "exporter", "ref": OTHER, "origin": "x", "digest": IMAGE.rpartition("@")[2]}
    assert image_digests(_with_sbom([unproven, other_digest, wrong_ref])) == []
    assert image_digests(_with_sbom([])) == []
