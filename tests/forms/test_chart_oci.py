"""``spec.chart.oci``: a chart pushed by the real ``helm push`` to a real registry on loopback, pulled by digest.

The gate fetches the manifest by the pinned digest and the chart layer by its own digest with the
project's registry client, and renders what it fetched exactly as a shipped archive: the objects
equal those of the same chart shipped in the bundle. Attacks: a digest the registry does not hold, an
artifact that is not a chart, a tag instead of a digest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from plugingate.declaration import load_declaration
from plugingate.errors import InputError, UndecidedError
from plugingate.manifests import load_manifests
from plugingate.manifests.kubedecode import HelperReader
from plugingate.oci.client import RegistryClient, sha256_digest
from tests.forms.conftest import copy_case, run_helm
from tests.support.registry import Registry, start_registry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    try:
        yield reg
    finally:
        reg.stop()


def _push(helm: Path, registry: Registry, case: Path, tmp_path: Path) -> str:
    """`helm package` then `helm push` the case's chart; the manifest digest helm prints."""
    pkg = tmp_path / "pkg"
    run_helm(helm, "package", case / "chart", "--destination", pkg)
    [archive] = list(pkg.glob("*.tgz"))
    out = run_helm(helm, "push", archive, f"oci://{registry.host}/charts", "--plain-http")
    assert out is not None
    # NOTE: helm prints the digest on stderr on some versions: ask the registry for the tag then.
    found = re.search(r"sha256:[0-9a-f]{64}", out)
    if found:
        return found.group(0)
    version = yaml.safe_load((case / "chart" / "Chart.yaml").read_text())["version"]
    manifest = RegistryClient(registry.host).get_manifest(f"charts/{archive.name.rsplit('-', 1)[0]}", version)
    assert manifest is not None
    return manifest.digest


def _oci_case(tmp_path: Path, ref: str) -> Path:
    case = copy_case("pass/chart-minimal", tmp_path / "oci")
    doc = yaml.safe_load((case / "plugin.yaml").read_text())
    doc["spec"]["chart"] = {"oci": ref, "profiles": doc["spec"]["chart"]["profiles"]}
    (case / "plugin.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return case


def _objects(case: Path) -> list[str]:
    manifests = load_manifests(case, load_declaration(case), second_reading=HelperReader())
    assert not manifests.form_findings
    return sorted(json.dumps(o.data, sort_keys=True) for o in manifests.objects)


def test_a_chart_pulled_by_digest_renders_as_the_shipped_chart(helm: Path, registry: Registry, tmp_path: Path) -> None:
    shipped = copy_case("pass/chart-minimal", tmp_path / "shipped")
    digest = _push(helm, registry, shipped, tmp_path)
    case = _oci_case(tmp_path, f"oci://{registry.host}/charts/chart-minimal@{digest}")
    assert _objects(case) == _objects(shipped)
    assert len(_objects(case)) == 4


def test_a_digest_the_registry_does_not_hold_cannot_be_checked(helm: Path, registry: Registry, tmp_path: Path) -> None:
    _push(helm, registry, copy_case("pass/chart-minimal", tmp_path / "shipped"), tmp_path)
    case = _oci_case(tmp_path, f"oci://{registry.host}/charts/chart-minimal@sha256:{'0' * 64}")
    with pytest.raises(UndecidedError):
        load_manifests(case, load_declaration(case))


def test_an_artifact_that_is_not_a_chart_is_refused(registry: Registry, tmp_path: Path) -> None:
    client = RegistryClient(registry.host)
    config = client.put_blob("charts/not-a-chart", b"{}")
    layer = client.put_blob("charts/not-a-chart", b"not a chart")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": 11}],
        }
    ).encode()
    client.put_manifest(
        "charts/not-a-chart", sha256_digest(manifest), manifest, "application/vnd.oci.image.manifest.v1+json"
    )
    case = _oci_case(tmp_path, f"oci://{registry.host}/charts/not-a-chart@{sha256_digest(manifest)}")
    with pytest.raises(InputError, match="is not a Helm chart"):
        load_manifests(case, load_declaration(case))


def test_a_tag_instead_of_a_digest_is_bad_input(tmp_path: Path) -> None:
    case = copy_case("pass/chart-minimal", tmp_path)
    doc = yaml.safe_load((case / "plugin.yaml").read_text())
    doc["spec"]["chart"] = {"oci": "oci://127.0.0.1:5000/charts/chart-minimal:0.1.0"}
    (case / "plugin.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(InputError, match=r"spec\.chart"):
        load_declaration(case)
