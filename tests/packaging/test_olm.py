"""spec.operator: the objects OLM makes from a CSV, checked as manifests, findings at the CSV field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from plugingate.declaration import load_declaration
from plugingate.errors import InputError, ToolError
from plugingate.manifests import load_manifests
from plugingate.manifests.kubedecode import HelperReader
from tests.packaging.conftest import copy_case, errors, gate_findings

pytestmark = pytest.mark.integration

CSV = Path("bundle/manifests/cases-operator.clusterserviceversion.yaml")


@pytest.fixture(autouse=True)
def _validator() -> None:
    """operator-framework's validators run on every operator bundle: tools/olmvalidate, built by setup-tools."""
    from plugingate.tools.locate import Helper, locate

    try:
        locate(Helper.OLMVALIDATE)
    except ToolError as exc:
        pytest.skip(f"{exc.message}: run scripts/setup-tools")


def _edit_csv(bundle: Path, change: Any) -> None:
    data = yaml.safe_load((bundle / CSV).read_text())
    change(data)
    (bundle / CSV).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_the_passing_bundle_gives_the_objects_olm_makes(tmp_path: Path) -> None:
    bundle = copy_case("pass/operator-bundle", tmp_path)
    manifests = load_manifests(bundle, load_declaration(bundle))
    kinds = sorted(o.kind for o in manifests.objects)
    assert kinds == ["Deployment", "Role", "RoleBinding", "ServiceAccount"]
    role = next(o for o in manifests.objects if o.kind == "Role")
    assert role.data["rules"][0]["resources"] == ["configmaps"]
    binding = next(o for o in manifests.objects if o.kind == "RoleBinding")
    assert binding.data["subjects"] == [{"kind": "ServiceAccount", "name": "app"}]
    assert errors(gate_findings(bundle)) == []


def test_cluster_permissions_beyond_the_declaration_name_the_csv_field_at_its_line(tmp_path: Path) -> None:
    bundle = copy_case("deny/operator-cluster-permissions-beyond-declared", tmp_path)
    found = [f for f in gate_findings(bundle) if f.rule_id == "PG-MAN-060"]
    assert len(found) == 1 and found[0].location is not None
    assert found[0].location.path == str(CSV)
    assert "spec.install.spec.clusterPermissions[0].rules[0]" in found[0].message
    line = (bundle / CSV).read_text().splitlines()[(found[0].location.line or 1) - 1]
    assert "apiGroups" in line or "secrets" in line or "- " in line


def test_an_undeclared_deployment_image_names_the_container_field(tmp_path: Path) -> None:
    bundle = copy_case("deny/operator-undeclared-image", tmp_path)
    found = [f for f in gate_findings(bundle) if f.rule_id == "PG-MAN-020"]
    assert found and found[0].location is not None
    assert "spec.install.spec.deployments[0].spec.template.spec.containers[0].image" in found[0].message
    line = (bundle / CSV).read_text().splitlines()[(found[0].location.line or 1) - 1]
    assert "image:" in line


def test_all_namespaces_makes_namespaced_permissions_cluster_wide(tmp_path: Path) -> None:
    """The same Role rules, but AllNamespaces supported: OLM grants them everywhere, so cluster scope is needed."""
    bundle = copy_case("pass/operator-bundle", tmp_path)

    def all_namespaces(data: dict[str, Any]) -> None:
        for mode in data["spec"]["installModes"]:
            mode["supported"] = mode["type"] == "AllNamespaces" or mode["supported"]

    _edit_csv(bundle, all_namespaces)
    findings = gate_findings(bundle)
    assert "PG-MAN-061" in errors(findings)
    wide = next(f for f in findings if f.rule_id == "PG-MAN-061")
    assert "AllNamespaces" in wide.message and "spec.install.spec.permissions[0]" in wide.message


def test_a_webhook_definition_is_an_admission_webhook(tmp_path: Path) -> None:
    bundle = copy_case("pass/operator-bundle", tmp_path)

    def webhook(data: dict[str, Any]) -> None:
        data["spec"]["webhookdefinitions"] = [
            {
                "type": "MutatingAdmissionWebhook",
                "generateName": "mutate.cases.example",
                "deploymentName": "app",
                "containerPort": 443,
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
            }
        ]

    _edit_csv(bundle, webhook)
    manifests = load_manifests(bundle, load_declaration(bundle))
    assert "MutatingWebhookConfiguration" in {o.kind for o in manifests.objects}
    findings = gate_findings(bundle)
    hook = [f for f in findings if f.location is not None and "webhookdefinitions[0]" in f.message]
    assert hook and all(f.location is not None and f.location.path == str(CSV) for f in hook)
    assert any(f.denies for f in hook)


@pytest.mark.parametrize(
    ("related", "rule"),
    [
        ("registry.example.com/cases/helper:1.0", "PG-OLM-001"),
        ("registry.example.com/cases/helper", "PG-OLM-001"),
        ("registry.example.com/cases/helper:1.0@sha256:" + "9" * 64, "PG-OLM-002"),
        ("registry.example.com/cases/app@sha256:" + "9" * 64, "PG-OLM-002"),
    ],
)
def test_related_images_must_be_pinned_and_declared(tmp_path: Path, related: str, rule: str) -> None:
    bundle = copy_case("pass/operator-bundle", tmp_path)
    _edit_csv(bundle, lambda d: d["spec"]["relatedImages"].append({"name": "helper", "image": related}))
    assert errors(gate_findings(bundle)) == [rule]


def test_a_shipped_owned_crd_is_accepted_and_a_missing_one_is_not(tmp_path: Path) -> None:
    bundle = copy_case("deny/operator-owned-crd-missing", tmp_path)
    findings = gate_findings(bundle)
    # NOTE: the gate's own reading (PG-OLM-003, at the CSV line) and operator-framework's BundleValidator agree.
    assert errors(findings) == ["PG-OLM-003", "PG-OLM-004"]
    assert any("BundleValidator" in f.message and "Widget" in f.message for f in findings if f.rule_id == "PG-OLM-004")
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.cases.example"},
        "spec": {
            "group": "cases.example",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [
                {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {"type": "object"}}}
            ],
        },
    }
    (bundle / "bundle/manifests/widgets.crd.yaml").write_text(yaml.safe_dump(crd), encoding="utf-8")
    assert "PG-OLM-003" not in errors(gate_findings(bundle))


def test_two_csvs_or_no_annotations_are_bad_input(tmp_path: Path) -> None:
    bundle = copy_case("pass/operator-bundle", tmp_path)
    (bundle / "bundle/manifests/second.clusterserviceversion.yaml").write_text((bundle / CSV).read_text())
    with pytest.raises(InputError, match="2 ClusterServiceVersions"):
        load_manifests(bundle, load_declaration(bundle))
    bundle = copy_case("pass/operator-bundle", tmp_path / "again")
    (bundle / "bundle/metadata/annotations.yaml").write_text("annotations:\n  x: y\n")
    with pytest.raises(InputError, match="registry"):
        load_manifests(bundle, load_declaration(bundle))


def test_a_csv_file_with_other_documents_is_bad_input(tmp_path: Path) -> None:
    """OLM reads one object per file: a Role hidden after the CSV in its file is refused, not skipped."""
    bundle = copy_case("pass/operator-bundle", tmp_path)
    role = "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: hidden}\nrules: []\n"
    (bundle / CSV).write_text((bundle / CSV).read_text() + role)
    with pytest.raises(InputError, match="CSV alone in its file"):
        load_manifests(bundle, load_declaration(bundle))


def test_two_forms_at_once_are_bad_input_naming_both(tmp_path: Path) -> None:
    bundle = copy_case("pass/operator-bundle", tmp_path)
    text = (bundle / "plugin.yaml").read_text().replace("  operator:\n", "  manifests: deploy/\n  operator:\n")
    (bundle / "plugin.yaml").write_text(text)
    with pytest.raises(InputError, match=r"spec\.manifests and spec\.operator") as caught:
        load_declaration(bundle)
    assert caught.value.exit_code == 2


def test_a_csv_operator_framework_cannot_load_is_refused_naming_it(tmp_path: Path) -> None:
    bundle = copy_case("deny/operator-csv-invalid-version", tmp_path)
    findings = gate_findings(bundle)
    assert errors(findings) == ["PG-OLM-004"]
    assert (
        "operator-framework cannot load the bundle" in findings[0].message and str(tmp_path) not in findings[0].message
    )


def test_without_the_validator_the_gate_cannot_decide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed: no operator-framework validation, no verdict (exit 3), never a silent pass."""
    bundle = copy_case("pass/operator-bundle", tmp_path)
    monkeypatch.setenv("PLUGINGATE_OLMVALIDATE", str(tmp_path / "missing"))
    with pytest.raises(ToolError) as caught:
        gate_findings(bundle)
    assert caught.value.exit_code == 3


def test_a_csv_field_kubernetes_reads_otherwise_is_refused_at_the_csv(tmp_path: Path) -> None:
    """`privileged: y` is the string "y" to the gate's reading and true to Kubernetes': refused, naming the CSV."""
    bundle = copy_case("pass/operator-bundle", tmp_path)
    indent = " " * 18
    text = (
        (bundle / CSV)
        .read_text()
        .replace("allowPrivilegeEscalation: false", f"allowPrivilegeEscalation: false\n{indent}privileged: y")
    )
    assert "privileged: y" in text
    (bundle / CSV).write_text(text)
    with pytest.raises(InputError) as caught:
        load_manifests(bundle, load_declaration(bundle), second_reading=HelperReader())
    assert caught.value.path == str(CSV)
