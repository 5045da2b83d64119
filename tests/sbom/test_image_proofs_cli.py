"""Image claims through the real CLI, syft and grype: each way of claiming a digest without holding it
is denied (PG-SBOM-004), and no signed attestation names the unproven digest.

Every case is the example plugin (its image pinned in plugin.yaml and deploy/deployment.yaml) with
its shipped image archive replaced by an attack built here; the untouched example is the passing
case, whose attestations name the image's digest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tarfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Completed, run_cli

from .imagefiles import ALPINE, layout_members, oci_image, write_docker_archive, write_tar

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "acme-exporter"
ARCHIVE = "image/exporter.oci.tar"
POLICY = REPO / "testdata" / "policies" / "cases.yaml"
PINNED = "sha256:401f7f357acbd9443618aaae4d976373d16659237926568dd2b9f18fdd3e08d3"
PASSWORD = {"PLUGINGATE_PASSWORD": "test-only"}


def _example_members() -> dict[str, bytes]:
    with tarfile.open(EXAMPLE / ARCHIVE) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _blob(digest: str) -> str:
    return f"blobs/sha256/{digest.removeprefix('sha256:')}"


def _index_claims_a_digest_its_manifest_does_not_hash_to(path: Path) -> None:
    members = _example_members()
    manifest = json.loads(members[_blob(PINNED)])
    manifest["annotations"] = {"org.opencontainers.image.description": "not the pinned manifest"}
    members[_blob(PINNED)] = json.dumps(manifest).encode()
    write_tar(path, members)


def _archive_holding_another_image(path: Path) -> None:
    write_tar(path, layout_members(oci_image(ALPINE), tag="registry.example.com/acme/exporter:1.4.2"))


def _docker_save_without_proof(path: Path) -> None:
    write_docker_archive(path, "registry.example.com/acme/exporter:1.4.2")


def _layer_that_does_not_hash(path: Path) -> None:
    members = _example_members()
    manifest = json.loads(members[_blob(PINNED)])
    layer = _blob(manifest["layers"][0]["digest"])
    members[layer] = members[layer][:-1] + b"x"
    write_tar(path, members)


def _index_json_naming_a_missing_blob(path: Path) -> None:
    members = _example_members()
    del members[_blob(PINNED)]
    write_tar(path, members)


def _symlinked_blob_escaping_the_archive(path: Path) -> None:
    members = _example_members()
    del members[_blob(PINNED)]
    write_tar(path, members, links={_blob(PINNED): "../../../../../etc/passwd"})


ATTACKS: dict[str, Callable[[Path], None]] = {
    "index-claims-unhashed-digest": _index_claims_a_digest_its_manifest_does_not_hash_to,
    "archive-holds-another-image": _archive_holding_another_image,
    "docker-save-without-proof": _docker_save_without_proof,
    "layer-does-not-hash": _layer_that_does_not_hash,
    "index-json-blob-missing": _index_json_naming_a_missing_blob,
    "symlinked-blob-escapes": _symlinked_blob_escaping_the_archive,
}


def _gate(bundle: Path, key: Path, out: Path, env: dict[str, str]) -> Completed:
    return run_cli(
        "gate",
        bundle,
        "--policy",
        POLICY,
        # NOTE: attestations are signed only under a pinned (or signed) policy.
        "--policy-digest",
        "sha256:" + hashlib.sha256(POLICY.read_bytes()).hexdigest(),
        "--attest-key",
        key,
        "--out",
        out,
        "--format",
        "json",
        "--no-cache",
        env={**env, **PASSWORD},
        timeout=600,
    )


@pytest.fixture(scope="module")
def runs(scanners: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Completed, Path]]:
    """Every case gated once (a few at a time): the CLI's result and its output folder."""
    tmp = tmp_path_factory.mktemp("proofs")
    keygen = run_cli("keygen", "--output-prefix", tmp / "gate", env=PASSWORD)
    assert keygen.code == 0, keygen.stderr
    bundles = {"pass": tmp / "pass"}
    shutil.copytree(EXAMPLE, bundles["pass"])
    for name, build in ATTACKS.items():
        bundles[name] = tmp / name
        shutil.copytree(EXAMPLE, bundles[name])
        (bundles[name] / ARCHIVE).unlink()
        build(bundles[name] / ARCHIVE)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            name: pool.submit(_gate, path, tmp / "gate.key", tmp / f"out-{name}", scanners)
            for name, path in bundles.items()
        }
        return {name: (future.result(), tmp / f"out-{name}") for name, future in futures.items()}


def _findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for step in report["steps"] for f in step["findings"]]


def _statements(out: Path) -> list[dict[str, Any]]:
    lines = (out / "attestations.intoto.jsonl").read_text().splitlines()
    return [json.loads(base64.b64decode(json.loads(line)["payload"])) for line in lines]


def _subject_digests(out: Path) -> set[str]:
    return {"sha256:" + s["digest"]["sha256"] for st in _statements(out) for s in st["subject"]}


def test_the_example_whose_digests_all_hold_passes_and_is_attested(runs: dict[str, tuple[Completed, Path]]) -> None:
    result, out = runs["pass"]
    assert result.code == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    sbom = next(s for s in report["steps"] if s["step"] == "sbom")
    [image] = sbom["details"]["images"]
    assert (image["ref"].rpartition("@")[2], image["digest"], image["origin"]) == (PINNED, PINNED, f"bundle:{ARCHIVE}")
    assert image["packages"] >= 5 and sbom["details"]["unprovenImages"] == []
    statements = _statements(out)
    assert len(statements) == 4  # gate, SBOM, vulnerabilities, VSA
    for statement in statements:
        assert PINNED.removeprefix("sha256:") in {s["digest"]["sha256"] for s in statement["subject"]}


@pytest.mark.parametrize("case", sorted(ATTACKS))
def test_an_unproven_image_is_denied_and_never_attested(runs: dict[str, tuple[Completed, Path]], case: str) -> None:
    result, out = runs[case]
    assert result.code == 1, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert report["passed"] is False
    proofs = [f for f in _findings(report) if f["ruleId"] == "PG-SBOM-004"]
    assert len(proofs) == 1 and PINNED in proofs[0]["message"], _findings(report)
    # NOTE: located at the spec.images entry (line 18 of the example's plugin.yaml: "- name: exporter").
    assert proofs[0]["location"] == {"path": "plugin.yaml", "line": 18}
    sbom = next(s for s in report["steps"] if s["step"] == "sbom")
    assert [u["digest"] for u in sbom["details"]["unprovenImages"]] == [PINNED]
    assert all(i.get("digest") != PINNED for i in sbom["details"]["images"])
    # Signed (with the test key) all the same, for the record: the bundle is a subject, the image never.
    statements = _statements(out)
    assert statements and PINNED not in _subject_digests(out)
    assert all(len(st["subject"]) == 1 for st in statements)
    assert statements[0]["predicate"]["passed"] is False


def test_a_symlinked_blob_never_reads_what_it_points_at(runs: dict[str, tuple[Completed, Path]]) -> None:
    result, _ = runs["symlinked-blob-escapes"]
    [proof] = [f for f in _findings(json.loads(result.stdout)) if f["ruleId"] == "PG-SBOM-004"]
    assert "is a link to '../../../../../etc/passwd'" in proof["message"]
    assert "root:" not in result.stdout
