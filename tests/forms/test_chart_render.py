"""Charts rendered with the real, pinned Helm: what the gate checks is what ``helm template`` prints.

The differential runs on every chart case of testdata/bundles: the objects the gate read (Python
reading held against Kubernetes' own decoder) equal the documents ``helm template`` prints for the
defaults and for each profile, parsed and compared as objects. The attacks try to make the gate see
other objects than Helm would install: symlinks, ``.helmignore`` in an archive, a path out of the
archive, lookups spelled other ways, a tampered lock, a template that loops or floods.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugingate.declaration import load_declaration
from plugingate.errors import InputError, ToolError
from plugingate.findings import Severity
from plugingate.manifests import check_manifests, load_manifests
from plugingate.manifests.kubedecode import HelperReader
from plugingate.packaging.chart_form import release_of
from plugingate.packaging.forms import PackagingOptions
from plugingate.policy import load_policy
from plugingate.policy.model import ChartsPolicy
from tests.conftest import run_cli
from tests.forms.conftest import CASES, CASES_POLICY, CHART_CASES, copy_case, run_helm

pytestmark = pytest.mark.integration


def _canonical(objects: list[Any]) -> list[str]:
    return sorted(json.dumps(o, sort_keys=True) for o in objects)


def _helm_objects(helm: Path, case: Path, *, check: bool = True) -> list[Any] | None:
    """What `helm template` prints for the case's chart, defaults then each profile, parsed independently."""
    declaration = load_declaration(case)
    assert declaration.chart is not None and declaration.chart.path is not None
    policy = ChartsPolicy()
    release, namespace = release_of(declaration)
    base = ["template", release, case / declaration.chart.path, "--namespace", namespace, "--include-crds"]
    base += ["--kube-version", policy.kube_version]
    runs = [base] + [[*base, "--values", case / p.values] for p in declaration.chart.profiles]
    objects: list[Any] = []
    for args in runs:
        printed = run_helm(helm, *args, check=check)
        if printed is None:
            return None
        objects += [d for d in yaml.safe_load_all(printed) if d is not None]
    return objects


def _gate_objects(case: Path) -> tuple[list[Any], list[str]]:
    declaration = load_declaration(case)
    manifests = load_manifests(case, declaration, second_reading=HelperReader())
    errors = [f.rule_id for f in manifests.form_findings if f.severity is Severity.ERROR]
    return [o.data for o in manifests.objects], errors


@pytest.mark.parametrize("case", CHART_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_gate_checks_exactly_what_helm_template_prints(helm: Path, case: Path) -> None:
    ours, refused = _gate_objects(case)
    theirs = _helm_objects(helm, case, check=not refused)
    if refused:
        # NOTE: a chart refused as unfaithful offline (a lookup, an unlocked dependency) is not read at
        # all: Helm renders *something* for it (or fails), which is exactly what must not be trusted.
        assert ours == [], refused
        return
    assert theirs, "helm rendered nothing"
    assert _canonical(ours) == _canonical(theirs)


def test_findings_name_the_template_and_profile(helm: Path) -> None:
    case = CASES / "deny" / "chart-profile-hostpath"
    declaration = load_declaration(case)
    findings = check_manifests(load_manifests(case, declaration), declaration, load_policy(CASES_POLICY).capabilities)
    [hostpath] = [f for f in findings if f.rule_id == "PG-MAN-010"]
    assert hostpath.location is not None
    assert hostpath.location.path == "chart chart-profile-hostpath/templates/deployment.yaml (profile debug)"


def _plugin(case: Path, **chart: Any) -> None:
    doc = yaml.safe_load((case / "plugin.yaml").read_text())
    doc["spec"]["chart"] = chart
    (case / "plugin.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def _errors(case: Path, options: PackagingOptions | None = None) -> list[str]:
    declaration = load_declaration(case)
    manifests = load_manifests(case, declaration, packaging=options)
    policy = load_policy(CASES_POLICY)
    return sorted(
        {
            f.rule_id
            for f in check_manifests(manifests, declaration, policy.capabilities)
            if f.severity is Severity.ERROR
        }
    )


def _tar(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)


def _chart_members(case: Path) -> dict[str, bytes]:
    chart = case / "chart"
    return {f"app/{p.relative_to(chart).as_posix()}": p.read_bytes() for p in sorted(chart.rglob("*")) if p.is_file()}


def test_a_symlink_in_a_chart_folder_is_refused(tmp_path: Path) -> None:
    case = copy_case("pass/chart-minimal", tmp_path)
    (tmp_path / "secret.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n")
    (case / "chart" / "templates" / "outside.yaml").symlink_to(tmp_path / "secret.yaml")
    with pytest.raises(InputError, match="symlink"):
        _errors(case)


def test_helmignore_in_an_archive_does_not_hide_a_template(helm: Path, tmp_path: Path) -> None:
    """Helm ignores .helmignore in an archive: a template it would hide in a folder is still installed."""
    case = copy_case("deny/chart-hook-privileged", tmp_path)
    members = _chart_members(case)
    members["app/.helmignore"] = b"templates/hook-migrate.yaml\n"
    _tar(case / "app-0.1.0.tgz", members)
    _plugin(case, path="app-0.1.0.tgz")
    assert _errors(case) == ["PG-MAN-012"]
    # NOTE: the differential: Helm itself renders the hidden hook from the archive.
    printed = run_helm(helm, "template", "x", case / "app-0.1.0.tgz")
    assert printed is not None and "privileged: true" in printed


def test_an_archive_path_out_of_the_chart_is_refused(tmp_path: Path) -> None:
    case = copy_case("pass/chart-minimal", tmp_path)
    members = _chart_members(case)
    members["app/../../evil.yaml"] = b"x: 1\n"
    _tar(case / "app.tgz", members)
    _plugin(case, path="app.tgz")
    with pytest.raises(InputError, match=r"\.\."):
        _errors(case)


def test_a_symlink_in_an_archive_is_refused(tmp_path: Path) -> None:
    case = copy_case("pass/chart-minimal", tmp_path)
    _tar(case / "app.tgz", _chart_members(case), links={"app/templates/link.yaml": "deployment.yaml"})
    _plugin(case, path="app.tgz")
    with pytest.raises(InputError, match="symlink"):
        _errors(case)


LOOKUP_SPELLINGS = [
    '{{ lookup "v1" "Secret" "ns" "x" }}',
    '{{- $s := (lookup "v1" "Secret" .Release.Namespace "x") -}}{{ $s }}',
    '{{lookup "v1" "Namespace" "" ""|toYaml}}',
    '{{ if (getHostByName "metadata.internal") }}x{{ end }}',
]


@pytest.mark.parametrize("spelling", LOOKUP_SPELLINGS)
def test_lookup_spellings_are_refused(tmp_path: Path, spelling: str) -> None:
    case = copy_case("pass/chart-minimal", tmp_path)
    (case / "chart" / "templates" / "_extra.tpl").write_text(f'{{{{- define "x.extra" -}}}}{spelling}{{{{- end }}}}\n')
    assert _errors(case) == ["PG-CHART-001"]


def test_lookup_hidden_in_values_rendered_with_tpl_is_refused(tmp_path: Path) -> None:
    case = copy_case("pass/chart-minimal", tmp_path)
    (case / "chart" / "templates" / "note.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: note}\ndata:\n  note: {{ tpl .Values.note . | quote }}\n"
    )
    (case / "profiles" / "ha.yaml").write_text('replicas: 3\nnote: \'{{ lookup "v1" "Secret" "" "" }}\'\n')
    assert _errors(case) == ["PG-CHART-001"]


def test_lookup_in_a_template_comment_or_plain_text_is_not_a_call(tmp_path: Path) -> None:
    case = copy_case("pass/chart-minimal", tmp_path)
    (case / "chart" / "templates" / "_doc.tpl").write_text("{{/* we never lookup the cluster */}}\nlookup is a word\n")
    assert _errors(case) == []


def test_a_lock_for_other_dependencies_is_refused(tmp_path: Path) -> None:
    case = copy_case("deny/chart-lookup", tmp_path)
    (case / "chart" / "charts" / "common" / "templates" / "_secrets.tpl").write_text(
        '{{- define "common.existingToken" -}}{{- end }}\n'
    )
    assert _errors(case) == []
    chart_yaml = case / "chart" / "Chart.yaml"
    chart_yaml.write_text(
        chart_yaml.read_text().replace("version: 0.1.0\n  repository", "version: 0.2.0\n  repository")
    )
    assert _errors(case) == ["PG-CHART-003"]


def test_a_vendored_chart_of_another_version_than_locked_is_refused(tmp_path: Path) -> None:
    case = copy_case("deny/chart-lookup", tmp_path)
    sub = case / "chart" / "charts" / "common"
    (sub / "templates" / "_secrets.tpl").write_text('{{- define "common.existingToken" -}}{{- end }}\n')
    (sub / "Chart.yaml").write_text((sub / "Chart.yaml").read_text().replace("version: 0.1.0", "version: 0.1.1"))
    assert _errors(case) == ["PG-CHART-003"]


def test_a_template_that_floods_is_stopped(tmp_path: Path) -> None:
    case = copy_case("pass/chart-minimal", tmp_path)
    (case / "chart" / "templates" / "flood.yaml").write_text('# {{ repeat 50000000 "x" }}\n')
    options = PackagingOptions(charts=ChartsPolicy(max_rendered_bytes=1 << 20))
    with pytest.raises(ToolError, match="more than"):
        _errors(case, options)


def test_a_template_that_loops_is_stopped_in_time(tmp_path: Path) -> None:
    import time
    from datetime import timedelta

    case = copy_case("pass/chart-minimal", tmp_path)
    (case / "chart" / "templates" / "loop.yaml").write_text(
        "{{- range $i := until 100000 }}{{- range $j := until 100000 }}{{- end }}{{- end }}\n"
    )
    options = PackagingOptions(charts=ChartsPolicy(render_timeout=timedelta(seconds=3)))
    started = time.monotonic()
    with pytest.raises(ToolError, match="did not finish"):
        _errors(case, options)
    assert time.monotonic() - started < 30


def test_two_packaging_forms_are_bad_input(tmp_path: Path) -> None:
    case = copy_case("pass/chart-minimal", tmp_path)
    doc = yaml.safe_load((case / "plugin.yaml").read_text())
    doc["spec"]["manifests"] = "deploy/"
    (case / "plugin.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(InputError, match=r"spec\.manifests and spec\.chart are both set"):
        load_declaration(case)


def test_gate_cli_on_a_chart_records_helm_and_names_templates(tmp_path: Path) -> None:
    case = CASES / "deny" / "chart-hook-privileged"
    out = tmp_path / "out"
    run = run_cli("gate", case, "--policy", CASES_POLICY, "--out", out, "--format", "json", timeout=600)
    assert run.code == 1, run.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["tools"].get("helm") == "3.21.4", report["tools"]
    text = json.dumps(report)
    assert "chart chart-hook-privileged/templates/hook-migrate.yaml (default values)" in text


def test_templates_see_the_policy_kube_version_and_api_versions(tmp_path: Path) -> None:
    """.Capabilities come from the policy, not from Helm's build: a chart renders the same everywhere."""
    case = copy_case("pass/chart-minimal", tmp_path)
    (case / "chart" / "templates" / "caps.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caps}\ndata:\n"
        "  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n"
        '  monitoring: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}\n'
    )
    declaration = load_declaration(case)

    def caps(options: PackagingOptions | None) -> set[tuple[str, str]]:
        objects = load_manifests(case, declaration, packaging=options).objects
        return {(o.data["data"]["kube"], o.data["data"]["monitoring"]) for o in objects if o.name == "caps"}

    assert caps(None) == {("v1.33.0", "false")}
    charts = ChartsPolicy(kube_version="1.30.2", api_versions=("monitoring.coreos.com/v1",))
    assert caps(PackagingOptions(charts=charts)) == {("v1.30.2", "true")}


def test_lookup_in_a_file_rendered_with_tpl_is_refused(tmp_path: Path) -> None:
    case = copy_case("pass/chart-minimal", tmp_path)
    (case / "chart" / "conf").mkdir()
    (case / "chart" / "conf" / "token.tpl").write_text('{{ (lookup "v1" "Secret" "" "").items }}\n')
    (case / "chart" / "templates" / "conf.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata:\n"
        '  c: {{ tpl (.Files.Get "conf/token.tpl") . | quote }}\n'
    )
    assert _errors(case) == ["PG-CHART-001"]


def test_helm_runs_with_its_homes_in_the_private_folder_and_no_kubeconfig(helm: Path, tmp_path: Path) -> None:
    from plugingate.packaging.helm import helm_env
    from plugingate.tools.locate import Helper
    from plugingate.tools.runner import ToolRunner

    run = ToolRunner(work_root=tmp_path / "runs").run(Helper.HELM, ["env"], env=helm_env())
    settings = dict(line.split("=", 1) for line in run.stdout.decode().splitlines() if "=" in line)
    work = str(tmp_path / "runs")
    for name in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_REGISTRY_CONFIG"):
        assert settings[name].strip('"').startswith(work), (name, settings[name])
    assert settings["HELM_KUBECONTEXT"].strip('"') == ""
    assert not list((tmp_path / "runs").iterdir()), "the private folder is removed after the run"


def test_a_template_that_asks_for_gigabytes_is_stopped_by_the_memory_bound(tmp_path: Path) -> None:
    """Helm builds the output in memory first: the output bound alone would come too late."""
    import time

    case = copy_case("pass/chart-minimal", tmp_path)
    (case / "chart" / "templates" / "flood.yaml").write_text('# {{ repeat 4000000000 "x" }}\n')
    started = time.monotonic()
    with pytest.raises(InputError, match=r"out of memory.*more than the 2147483648 bytes"):
        _errors(case)
    assert time.monotonic() - started < 60
