"""spec.kustomize: built by the real kustomize, confined to the bundle, findings at the base or the patch.

Every test here runs the pinned kustomize (the unit of interest is what kustomize really builds);
each refusal is tried in other spellings, since a check that one spelling defeats is no check.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from plugingate.declaration import load_declaration
from plugingate.errors import InputError
from plugingate.manifests import load_manifests
from tests.packaging.conftest import copy_case, errors, gate_findings, kustomize_or_skip

pytestmark = pytest.mark.integration

OVERLAY = Path("deploy/overlay/kustomization.yaml")


@pytest.fixture(autouse=True)
def _kustomize() -> None:
    kustomize_or_skip()


def _overlay(bundle: Path, text: str) -> None:
    (bundle / OVERLAY).write_text(text, encoding="utf-8")


def test_a_patch_that_adds_a_capability_is_named_in_the_finding(tmp_path: Path) -> None:
    bundle = copy_case("deny/kustomize-patch-adds-capability", tmp_path)
    found = [f for f in gate_findings(bundle) if f.rule_id == "PG-MAN-013"]
    assert len(found) == 1
    finding = found[0]
    assert finding.location is not None and finding.location.path == "deploy/overlay/add-net-admin.yaml"
    patch_lines = (bundle / "deploy/overlay/add-net-admin.yaml").read_text().splitlines()
    assert finding.location.line is not None and "NET_ADMIN" in patch_lines[finding.location.line - 1]
    assert "patches[0]" in finding.message and "kustomize:" in str(finding.properties["rendered"])


def test_an_inline_patch_is_named_by_its_kustomization_entry(tmp_path: Path) -> None:
    """The same capability added by an inline strategic-merge patch: the finding names patches[0] of the file."""
    bundle = copy_case("deny/kustomize-patch-adds-capability", tmp_path)
    patch = (bundle / "deploy/overlay/add-net-admin.yaml").read_text()
    (bundle / "deploy/overlay/add-net-admin.yaml").unlink()
    inline = "".join(f"    {line}\n" for line in patch.splitlines())
    _overlay(bundle, "resources:\n- ../base\npatches:\n- patch: |-\n" + inline)
    found = [f for f in gate_findings(bundle) if f.rule_id == "PG-MAN-013"]
    assert len(found) == 1 and found[0].location is not None
    assert found[0].location.path == str(OVERLAY) and found[0].location.line == 4
    assert "patches[0]" in found[0].message


def test_a_field_of_the_base_is_named_at_its_line_in_the_base(tmp_path: Path) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    deployment = bundle / "deploy/base/deployment.yaml"
    deployment.write_text(deployment.read_text().replace("drop:\n            - ALL", "drop: []"), encoding="utf-8")
    found = [f for f in gate_findings(bundle) if f.rule_id == "PG-MAN-088"]
    assert found and found[0].location is not None
    assert found[0].location.path == "deploy/base/deployment.yaml"
    line = found[0].location.line
    assert line is not None
    assert any(key in deployment.read_text().splitlines()[line - 1] for key in ("securityContext", "capabilities"))


@pytest.mark.parametrize(
    "entry",
    [
        "https://github.com/acme-cases/monitoring//base?ref=v1.2.0",
        "github.com/acme-cases/monitoring/base?ref=v1.2.0",
        "git@github.com:acme-cases/monitoring.git/base",
        "ssh://git@github.com/acme-cases/monitoring.git",
        "HTTP://charts.acme-cases.example/base.yaml",
        "not-in-the-bundle/",
    ],
)
def test_remote_bases_are_refused_in_every_spelling(tmp_path: Path, entry: str) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    _overlay(bundle, f"resources:\n- ../base\n- {entry}\n")
    assert errors(gate_findings(bundle)) == ["PG-KUS-001"]


@pytest.mark.parametrize("field", ["components", "bases", "crds"])
def test_remote_references_are_refused_in_other_fields(tmp_path: Path, field: str) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    _overlay(bundle, f"resources:\n- ../base\n{field}:\n- https://github.com/acme-cases/x//y?ref=v1\n")
    assert errors(gate_findings(bundle)) == ["PG-KUS-001"]


def test_a_remote_base_of_a_base_is_refused(tmp_path: Path) -> None:
    """The refusal is not only for the top kustomization: the base's own remote resource is found too."""
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    base = bundle / "deploy/base/kustomization.yaml"
    base.write_text(base.read_text() + "- https://github.com/acme-cases/x//y?ref=v1\n", encoding="utf-8")
    findings = gate_findings(bundle)
    assert errors(findings) == ["PG-KUS-001"]
    assert findings[0].location is not None and findings[0].location.path == "deploy/base/kustomization.yaml"


@pytest.mark.parametrize(
    "text",
    [
        # an exec function in a file
        "transformers:\n- owner.yaml\n",
        # a containerized function, inline
        "generators:\n- |-\n  apiVersion: x/v1\n  kind: Gen\n  metadata:\n    name: g\n    annotations:\n"
        "      config.kubernetes.io/function: |\n        container:\n          image: evil.example/fn:1\n",
        # the legacy annotation
        "transformers:\n- |-\n  apiVersion: x/v1\n  kind: T\n  metadata:\n    name: t\n    annotations:\n"
        "      config.k8s.io/function: |\n        exec: {path: ./x}\n",
        # a Go plugin kind without any annotation
        "transformers:\n- |-\n  apiVersion: someteam.example.com/v1\n  kind: ChartInflator\n  metadata: {name: c}\n",
        "validators:\n- owner.yaml\n",
    ],
)
def test_plugins_and_krm_functions_are_refused(tmp_path: Path, text: str) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    (bundle / "deploy/overlay/owner.yaml").write_text(
        "apiVersion: x/v1\nkind: SetOwner\nmetadata:\n  name: o\n  annotations:\n"
        "    config.kubernetes.io/function: |\n      exec:\n        path: ./owner.sh\n",
        encoding="utf-8",
    )
    _overlay(bundle, "resources:\n- ../base\n" + text)
    assert errors(gate_findings(bundle)) == ["PG-KUS-002"]


def test_a_builtin_transformer_is_accepted(tmp_path: Path) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    (bundle / "deploy/overlay/labels.yaml").write_text(
        "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: l}\nlabels: {team: cases}\n"
        "fieldSpecs: [{path: metadata/labels, create: true}]\n",
        encoding="utf-8",
    )
    _overlay(bundle, "resources:\n- ../base\ntransformers:\n- labels.yaml\n")
    assert errors(gate_findings(bundle)) == []


@pytest.mark.parametrize("field", ["helmCharts", "helmGlobals", "helmChartInflationGenerator"])
def test_helm_inside_kustomize_is_refused(tmp_path: Path, field: str) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    _overlay(bundle, f"resources:\n- ../base\n{field}:\n- name: x\n")
    assert errors(gate_findings(bundle)) == ["PG-KUS-003"]


@pytest.mark.parametrize(
    "entry", ["../../../outside.yaml", "/etc/passwd", "../base/../../../../x", "./../../../../etc/hosts"]
)
def test_paths_leaving_the_bundle_are_refused(tmp_path: Path, entry: str) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    _overlay(bundle, f"resources:\n- ../base\n- {entry}\n")
    assert errors(gate_findings(bundle)) == ["PG-KUS-004"]


def test_a_patch_file_outside_the_bundle_is_refused(tmp_path: Path) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    _overlay(bundle, "resources:\n- ../base\npatches:\n- path: ../../../evil.yaml\n")
    assert errors(gate_findings(bundle)) == ["PG-KUS-004"]


@pytest.mark.parametrize("target", ["/etc/hostname", "../base/deployment.yaml"])
def test_symlinks_in_a_kustomize_folder_are_refused(tmp_path: Path, target: str) -> None:
    """Even one that points back into the bundle: kustomize and the gate could resolve it differently."""
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    os.symlink(target, bundle / "deploy/overlay/linked.yaml")
    _overlay(bundle, "resources:\n- ../base\n")
    assert errors(gate_findings(bundle)) == ["PG-KUS-004"]


def test_the_bundle_is_never_edited(tmp_path: Path) -> None:
    bundle = copy_case("deny/kustomize-patch-adds-capability", tmp_path)
    before = {p: p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    gate_findings(bundle)
    assert {p: p.read_bytes() for p in bundle.rglob("*") if p.is_file()} == before


def test_origin_annotations_are_stripped_before_the_checks(tmp_path: Path) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    manifests = load_manifests(bundle, load_declaration(bundle))
    assert manifests.objects
    for obj in manifests.objects:
        assert "config.kubernetes.io/origin" not in yaml.safe_dump(obj.data)


def test_a_kustomization_kustomize_cannot_build_is_bad_input(tmp_path: Path) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    _overlay(bundle, "resources:\n- ../base\npatches:\n- path: replicas.yaml\n  target: {kind: [not, a, string]}\n")
    with pytest.raises(InputError, match="kustomize"):
        load_manifests(bundle, load_declaration(bundle))


def test_a_folder_without_a_kustomization_is_bad_input(tmp_path: Path) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    (bundle / OVERLAY).unlink()
    with pytest.raises(InputError, match=r"no kustomization\.yaml"):
        load_manifests(bundle, load_declaration(bundle))


@pytest.mark.parametrize(
    "text",
    [
        "configMapGenerator:\n- name: c\n  files:\n  - ../../../etc/passwd\n",
        "configMapGenerator:\n- name: c\n  files:\n  - key=/etc/passwd\n",
        "secretGenerator:\n- name: s\n  envs:\n  - ../../../../root/.env\n",
        "configurations:\n- /etc/kustomizeconfig.yaml\n",
        "replacements:\n- path: ../../../r.yaml\n",
        "openapi:\n  path: /etc/schema.json\n",
        "patchesJson6902:\n- target: {kind: Deployment, name: app}\n  path: ../../../p.yaml\n",
        "patchesStrategicMerge:\n- ../../../p.yaml\n",
    ],
)
def test_files_outside_the_bundle_are_refused_in_every_field(tmp_path: Path, text: str) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    _overlay(bundle, "resources:\n- ../base\n" + text)
    assert errors(gate_findings(bundle)) == ["PG-KUS-004"]


def test_a_json6902_patch_that_adds_host_network_is_named(tmp_path: Path) -> None:
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    (bundle / "deploy/overlay/host.yaml").write_text(
        "- op: add\n  path: /spec/template/spec/hostNetwork\n  value: true\n", encoding="utf-8"
    )
    _overlay(
        bundle,
        "resources:\n- ../base\npatches:\n- path: replicas.yaml\n- path: host.yaml\n  target: {kind: Deployment}\n",
    )
    found = [f for f in gate_findings(bundle) if "hostNetwork" in f.message]
    assert found and all(f.location is not None for f in found)
    assert {f.location.path for f in found if f.location is not None} == {"deploy/overlay/host.yaml"}
    assert all("patches[1]" in f.message for f in found)


def test_a_component_patch_is_named(tmp_path: Path) -> None:
    """A capability added by a Component's patch names the component's patch, not the overlay."""
    bundle = copy_case("deny/kustomize-patch-adds-capability", tmp_path)
    component = bundle / "deploy/components/net"
    component.mkdir(parents=True)
    (bundle / "deploy/overlay/add-net-admin.yaml").rename(component / "add-net-admin.yaml")
    (component / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- path: add-net-admin.yaml\n",
        encoding="utf-8",
    )
    _overlay(bundle, "resources:\n- ../base\ncomponents:\n- ../components/net\n")
    found = [f for f in gate_findings(bundle) if f.rule_id == "PG-MAN-013"]
    assert len(found) == 1 and found[0].location is not None
    assert found[0].location.path == "deploy/components/net/add-net-admin.yaml"


@pytest.mark.parametrize(
    "text",
    [
        "RESOURCES:\n- ../base\n- https://github.com/acme-cases/x//y?ref=v1\n",
        "Resources:\n- ../base\n- https://github.com/acme-cases/x//y?ref=v1\n",
        # a long s (U+017F): Go's case folding reads it as s
        "re\u017fources:\n- ../base\n- https://github.com/acme-cases/x//y?ref=v1\n",
        "resources:\n- ../base\nCOMPONENTS:\n- https://github.com/acme-cases/x//y?ref=v1\n",
    ],
)
def test_remote_bases_are_refused_whatever_the_case_of_the_field(tmp_path: Path, text: str) -> None:
    """kustomize reads RESOURCES as resources (Go's encoding/json ignores case): so does the scan."""
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    _overlay(bundle, text)
    assert errors(gate_findings(bundle)) == ["PG-KUS-001"]


def test_a_patch_path_in_capitals_is_scanned_and_named(tmp_path: Path) -> None:
    bundle = copy_case("deny/kustomize-patch-adds-capability", tmp_path)
    _overlay(bundle, "resources:\n- ../base\nPATCHES:\n- PATH: add-net-admin.yaml\n")
    found = [f for f in gate_findings(bundle) if f.rule_id == "PG-MAN-013"]
    assert len(found) == 1 and found[0].location is not None
    assert found[0].location.path == "deploy/overlay/add-net-admin.yaml"
    _overlay(bundle, "resources:\n- ../base\nPATCHES:\n- PATH: ../../../../etc/x.yaml\n")
    assert errors(gate_findings(bundle)) == ["PG-KUS-004"]


def test_two_spellings_of_one_field_are_bad_input(tmp_path: Path) -> None:
    """kustomize keeps the last of `resources` and `Resources`; the gate refuses to guess."""
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    _overlay(bundle, "resources:\n- ../base\nResources:\n- ../base\n")
    with pytest.raises(InputError, match="same field to kustomize"):
        load_manifests(bundle, load_declaration(bundle))


def test_a_kustomization_at_the_bundle_root_beside_folders_named_like_the_gates_own(tmp_path: Path) -> None:
    """The work folder's copy and wrapper cannot collide with bundle folders, whatever they are named."""
    bundle = copy_case("pass/kustomize-overlay", tmp_path)
    for name in ("wrapper", "bundle", "src"):
        (bundle / name).mkdir()
        (bundle / name / "kustomization.yaml").write_text("resources: []\n", encoding="utf-8")
    (bundle / "kustomization.yaml").write_text(
        "resources:\n- deploy/overlay\n- wrapper\n- bundle\n- src\n", encoding="utf-8"
    )
    (bundle / "plugin.yaml").write_text(
        (bundle / "plugin.yaml").read_text().replace("path: deploy/overlay", "path: ."), encoding="utf-8"
    )
    manifests = load_manifests(bundle, load_declaration(bundle))
    assert sorted(o.kind for o in manifests.objects) == ["Deployment", "ServiceAccount"]
    assert errors(gate_findings(bundle)) == []
