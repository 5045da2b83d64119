"""``gate --previous OLD [--approval FILE]``: growth of a listed kind is denied unless a valid approval names it.

In-process, with every other step faked (they are tested elsewhere) and the real growth step: the
bundles are read, compared and the approvals verified for real. The CLI tests at the end run the
whole real gate (syft, grype, the attestation) once denying and once passing.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from plugingate.errors import ExitCode
from plugingate.findings import Step
from plugingate.gate import run_gate
from plugingate.growth.read import ReadVersion
from plugingate.growth.step import GrowthOutcome, growth_step
from plugingate.pipeline import GateRequest, GateSteps, StepContext
from plugingate.policy import load_policy
from plugingate.result import GateResult, StepResult, StepStatus, Verdict
from plugingate.schemas import load_schema
from tests.conftest import run_cli
from tests.core.test_gate import no_attestation, only_core_outputs
from tests.growth.conftest import GROWTH, KeyFiles, expected, make_approval, write_envelope, write_policy
from tests.manifests.kube import require_helper

Versions = dict[str, tuple[ReadVersion, ReadVersion]]


def ok(step: Step) -> object:
    return lambda ctx: StepResult(step, StepStatus.PASSED, f"{step} ok")


STEPS = GateSteps(
    signature=ok(Step.SIGNATURE),  # type: ignore[arg-type]
    provenance=ok(Step.PROVENANCE),  # type: ignore[arg-type]
    capabilities=ok(Step.CAPABILITIES),  # type: ignore[arg-type]
    manifests=ok(Step.MANIFESTS),  # type: ignore[arg-type]
    sbom=ok(Step.SBOM),  # type: ignore[arg-type]
    vulnerabilities=ok(Step.VULNERABILITIES),  # type: ignore[arg-type]
    attest=no_attestation,
    outputs=only_core_outputs,
    growth=growth_step,
)


def gate(
    tmp_path: Path,
    case: str,
    approver: KeyFiles | None,
    *approvals: Path,
    require_for: list[str] | None = None,
    mode: str = "enforce",
    steps: GateSteps = STEPS,
) -> GateResult:
    require_helper()
    policy = load_policy(write_policy(tmp_path, approver, require_for, mode))
    request = GateRequest(
        bundle=GROWTH / case / "new",
        policy=policy,
        out_dir=tmp_path / "out",
        previous=GROWTH / case / "old",
        approvals=approvals,
    )
    return run_gate(request, steps)


def errors(result: GateResult) -> list[str]:
    return sorted(f.rule_id for f in result.findings if f.denies)


def denied_items(result: GateResult) -> list[str]:
    return sorted(str(f.properties["growthItem"]) for f in result.findings if f.rule_id == "PG-GRW-001")


@pytest.mark.parametrize(
    "case",
    ["egress-host", "manifest-only-rbac", "manifest-only-binding", "host-spelling", "rbac-merged", "rbac-star-verb",
     "port-as-string", "addresses", "manifest-defaults"],
)  # fmt: skip
def test_unapproved_growth_is_denied_item_by_item(tmp_path: Path, approver: KeyFiles, case: str) -> None:
    result = gate(tmp_path, case, approver)
    assert result.verdict is Verdict.DENIED and result.exit_code is ExitCode.DENIED
    assert denied_items(result) == expected(GROWTH / case)["items"]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    jsonschema.validate(report, load_schema("report.schema.json"))
    assert [s["step"] for s in report["steps"]][4:6] == ["manifests", "growth"]
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "### Permission growth over 1.0.0" in summary and "❌ not approved" in summary


@pytest.mark.parametrize("case", ["reordered", "narrowed", "new-digest", "rbac-merged-same"])
def test_no_growth_passes_without_approval(tmp_path: Path, approver: KeyFiles, case: str) -> None:
    result = gate(tmp_path, case, approver)
    assert result.verdict is Verdict.PASSED, [f.message for f in result.findings]
    assert "No growth" in (tmp_path / "out" / "summary.md").read_text()


def test_approved_growth_passes_and_is_recorded(tmp_path: Path, approver: KeyFiles, versions: Versions) -> None:
    old, new = versions["cluster-scoped"]
    approval = write_envelope(tmp_path / "approval.json", make_approval(old, new), approver)
    result = gate(tmp_path, "cluster-scoped", approver, approval)
    assert result.verdict is Verdict.PASSED and result.findings == ()
    outcome = result.outcome(Step.GROWTH, GrowthOutcome)
    assert outcome is not None
    record = outcome.attested()
    assert record["approved"] == expected(GROWTH / "cluster-scoped")["items"] and record["denied"] == []
    assert record["previous"] == {"sha256": old.sha256, "version": "1.0.0"}
    assert record["approvals"][0]["signer"] == "platform-security"
    assert "✅ approved" in (tmp_path / "out" / "summary.md").read_text()


def test_growth_of_a_kind_not_listed_passes_but_is_recorded(tmp_path: Path, approver: KeyFiles) -> None:
    result = gate(tmp_path, "egress-host", approver, require_for=["rbac"])
    assert result.verdict is Verdict.PASSED
    outcome = result.outcome(Step.GROWTH, GrowthOutcome)
    assert outcome is not None and outcome.attested()["items"] == ["egress:telemetry-acme.example:443/TCP"]
    assert "not required" in (tmp_path / "out" / "summary.md").read_text()


def test_an_approval_naming_fewer_items_is_refused(tmp_path: Path, approver: KeyFiles, versions: Versions) -> None:
    old, new = versions["resources"]
    partial = write_envelope(tmp_path / "a.json", make_approval(old, new, items=["resources:cpu:1000m"]), approver)
    result = gate(tmp_path, "resources", approver, partial)
    assert result.verdict is Verdict.DENIED
    assert errors(result) == ["PG-GRW-001", "PG-GRW-005"]
    assert denied_items(result) == ["resources:memory:536870912"]


@pytest.mark.parametrize(
    ("attack", "rule"),
    [
        ("forged", "PG-GRW-002"),
        ("edited", "PG-GRW-002"),
        ("expired", "PG-GRW-003"),
        ("other-bundles", "PG-GRW-004"),
        ("other-plugin", "PG-GRW-004"),
    ],
)
def test_a_bad_approval_is_refused_and_the_growth_denied(
    tmp_path: Path, approver: KeyFiles, stranger: KeyFiles, versions: Versions, attack: str, rule: str
) -> None:
    old, new = versions["egress-host"]
    approval = make_approval(old, new)
    key = approver
    if attack == "forged":
        key = stranger
    elif attack == "expired":
        approval = make_approval(old, new, expires_in=-timedelta(minutes=1))
    elif attack == "other-bundles":
        approval = make_approval(*versions["egress-port"])
    else:
        approval = replace(approval, plugin="acme-other")
    path = write_envelope(tmp_path / "a.json", approval, key)
    if attack == "edited":
        # NOTE: a valid approval of another item, its signed statement edited to name this one.
        signed = make_approval(old, new, items=["egress:api-acme.example:443/TCP"])
        envelope = json.loads(write_envelope(tmp_path / "signed.json", signed, approver).read_text())
        statement = json.loads(base64.b64decode(envelope["payload"]))
        statement["predicate"]["items"] = ["egress:telemetry-acme.example:443/TCP"]
        envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
        path.write_text(json.dumps(envelope))
    result = gate(tmp_path, "egress-host", approver, path)
    assert result.verdict is Verdict.DENIED
    assert errors(result) == sorted(["PG-GRW-001", rule])
    assert denied_items(result) == ["egress:telemetry-acme.example:443/TCP"]


def test_warn_mode_reports_and_passes(tmp_path: Path, approver: KeyFiles) -> None:
    result = gate(tmp_path, "privilege-flag", approver, mode="warn")
    assert result.verdict is Verdict.PASSED and denied_items(result) == ["privileges:hostNetwork"]


def test_previous_without_a_growth_step_fails_closed(tmp_path: Path, approver: KeyFiles) -> None:
    result = gate(tmp_path, "egress-host", approver, steps=replace(STEPS, growth=None))
    assert result.verdict is Verdict.UNDECIDED and result.exit_code is ExitCode.UNDECIDED


# --- the real gate --------------------------------------------------------------------------------


def _tools_or_skip() -> None:
    from plugingate.errors import ToolError
    from plugingate.tools.locate import Tool, locate

    for tool in (Tool.SYFT, Tool.GRYPE):
        try:
            locate(tool)
        except ToolError as exc:
            pytest.skip(f"{tool} cannot be found ({exc.message}); run scripts/setup-tools")


@pytest.mark.integration
def test_the_real_gate_denies_then_passes_once_approved(tmp_path: Path, approver: KeyFiles) -> None:
    """``gate --previous`` through the CLI, then ``approve`` and ``gate --approval`` with a signed attestation."""
    _tools_or_skip()
    require_helper()
    import hashlib

    case = GROWTH / "egress-host"
    policy = write_policy(tmp_path, approver)
    pins = ["--policy-digest", "sha256:" + hashlib.sha256(policy.read_bytes()).hexdigest()]
    pins += ["--policy-file-digest", "sha256:" + hashlib.sha256(approver.public.read_bytes()).hexdigest()]
    common = ["gate", case / "new", "--policy", policy, "--previous", case / "old", "--format", "json", *pins]
    denied = run_cli(*common, "--out", tmp_path / "denied")
    assert denied.code == 1, denied.stderr
    report = json.loads((tmp_path / "denied" / "report.json").read_text())
    denying = [f["ruleId"] for s in report["steps"] for f in s.get("findings", []) if f["severity"] == "error"]
    assert denying == ["PG-GRW-001"]  # the growth alone denies: every other check passes

    env = {"COSIGN_PASSWORD": ""}
    approval = tmp_path / "approval.json"
    made = run_cli(
        "approve", case / "old", case / "new", "--key", approver.private, "--approver", "alice", "-o", approval, env=env
    )
    assert made.code == 0, made.stderr
    wrong = run_cli(
        "approve",
        case / "old",
        case / "new",
        "--key",
        approver.private,
        "--approver",
        "a",
        "--item",
        "egress:other.example:443/TCP",
        "-o",
        tmp_path / "x.json",
        env=env,
    )
    assert wrong.code == 2 and "not growth of NEW over OLD" in wrong.stderr

    passed = run_cli(
        *common, "--approval", approval, "--out", tmp_path / "passed", "--attest-key", approver.private, env=env
    )
    assert passed.code == 0, passed.stderr
    # NOTE: the action and the template hand options over as PLUGINGATE_<OPTION> (docs/ci.md): the same
    # two runs with the previous version and the approval named only in the environment.
    plain = ["gate", case / "new", "--policy", policy, "--format", "json", *pins]
    by_env = {"PLUGINGATE_PREVIOUS": str(case / "old")}
    assert run_cli(*plain, "--out", tmp_path / "env-denied", env=by_env).code == 1
    approved = run_cli(*plain, "--out", tmp_path / "env-passed", env={**by_env, "PLUGINGATE_APPROVAL": str(approval)})
    assert approved.code == 0, approved.stderr
    import base64

    lines = (tmp_path / "passed" / "attestations.intoto.jsonl").read_text().splitlines()
    statements = [json.loads(base64.b64decode(json.loads(line)["payload"])) for line in lines]
    gate_statement = next(s for s in statements if s["predicateType"] == "https://plugingate.dev/attestation/gate/v2")
    predicate = gate_statement["predicate"]
    jsonschema.validate(predicate, load_schema("gate-attestation-predicate.schema.json"))
    assert predicate["passed"] is True
    assert predicate["growth"]["approved"] == ["egress:telemetry-acme.example:443/TCP"]
    assert predicate["growth"]["approvals"][0]["approver"] == "alice"

    usage = run_cli("gate", case / "new", "--policy", policy, "--approval", approval, "--out", tmp_path / "u")
    assert usage.code == 2 and "--previous" in usage.stderr


def test_a_previous_version_of_another_plugin_or_no_bundle_is_bad_input(tmp_path: Path, approver: KeyFiles) -> None:
    import shutil

    from plugingate.errors import InputError

    require_helper()
    other = tmp_path / "other"
    shutil.copytree(GROWTH / "egress-host" / "old", other)
    plugin = other / "plugin.yaml"
    plugin.write_text(plugin.read_text().replace("name: acme-growth", "name: acme-other", 1))
    policy = load_policy(write_policy(tmp_path, approver))
    for previous, message in ((other, "acme-other"), (tmp_path / "policy.tgz", "not a tar")):
        if not previous.exists():
            previous.write_bytes(b"\x00" * 600)
        request = GateRequest(
            bundle=GROWTH / "egress-host" / "new", policy=policy, out_dir=tmp_path / "out", previous=previous
        )
        with pytest.raises(InputError, match=message):
            run_gate(request, STEPS)


@pytest.mark.integration
def test_the_previous_version_given_as_its_gate_attestation(
    tmp_path: Path, approver: KeyFiles, stranger: KeyFiles
) -> None:
    """The previous run's signed attestation records its permissions; the next gate compares with it."""
    _tools_or_skip()
    require_helper()
    import hashlib

    case = GROWTH / "egress-host"
    policy = write_policy(tmp_path, approver)
    pins = ["--policy-digest", "sha256:" + hashlib.sha256(policy.read_bytes()).hexdigest()]
    pins += ["--policy-file-digest", "sha256:" + hashlib.sha256(approver.public.read_bytes()).hexdigest()]
    env = {"COSIGN_PASSWORD": ""}
    # NOTE: the gate's own key (here the stranger's pair) signs the previous run; approvals come from the approver.
    first = run_cli(
        "gate", case / "old", "--policy", policy, *pins, "--attest-key", stranger.private, "--out", tmp_path / "v1",
        env=env,
    )  # fmt: skip
    assert first.code == 0, first.stderr
    previous = tmp_path / "v1" / "attestations.intoto.jsonl"
    common = ["gate", case / "new", "--policy", policy, *pins, "--previous", previous, "--format", "json"]

    denied = run_cli(*common, "--previous-key", stranger.public, "--out", tmp_path / "v2-denied")
    assert denied.code == 1, denied.stderr
    report = json.loads((tmp_path / "v2-denied" / "report.json").read_text())
    growth = next(s for s in report["steps"] if s["step"] == "growth")
    assert [f["ruleId"] for f in growth["findings"]] == ["PG-GRW-001"]
    assert growth["details"]["items"][0]["id"] == "egress:telemetry-acme.example:443/TCP"

    approval = tmp_path / "approval.json"
    made = run_cli("approve", case / "old", case / "new", "--key", approver.private, "--approver", "a", "-o", approval,
                   env=env)  # fmt: skip
    assert made.code == 0, made.stderr
    passed = run_cli(*common, "--previous-key", stranger.public, "--approval", approval, "--out", tmp_path / "v2")
    assert passed.code == 0, passed.stderr

    wrong_key = run_cli(*common, "--previous-key", approver.public, "--approval", approval, "--out", tmp_path / "v2-w")
    assert wrong_key.code == 1
    report = json.loads((tmp_path / "v2-w" / "report.json").read_text())
    growth = next(s for s in report["steps"] if s["step"] == "growth")
    assert [f["ruleId"] for f in growth["findings"]] == ["PG-GRW-006"]

    no_key = run_cli(*common, "--out", tmp_path / "v2-n")
    assert no_key.code == 2 and "--previous-key" in no_key.stderr


@pytest.mark.integration
def test_approve_refuses_what_it_cannot_mean(tmp_path: Path, approver: KeyFiles) -> None:
    require_helper()
    env = {"COSIGN_PASSWORD": ""}
    key = ["--key", str(approver.private), "--approver", "a", "-o", str(tmp_path / "a.json")]
    nothing = run_cli("approve", GROWTH / "reordered" / "old", GROWTH / "reordered" / "new", *key, env=env)
    assert nothing.code == 2 and "nothing to approve" in nothing.stderr
    case = GROWTH / "egress-host"
    bad_time = run_cli("approve", case / "old", case / "new", *key, "--valid-for", "a while", env=env)
    assert bad_time.code == 2 and "--valid-for" in bad_time.stderr
    assert not (tmp_path / "a.json").exists()
    some = run_cli(
        "approve", case / "old", case / "new", *key, "--item", "egress:telemetry-acme.example:443/TCP", env=env
    )
    assert some.code == 0 and "1 growth item(s) approved" in some.stdout


def test_growth_compares_the_objects_the_manifests_step_checked(tmp_path: Path, approver: KeyFiles) -> None:
    # NOTE: the growth step takes the manifests step's own reading (a chart rendered once, with the
    # policy's settings) and reads nothing again: handed the old Role as what was checked, it sees no
    # growth although the bundle on disk grows it; the stand-in without objects makes it read the bundle.
    from plugingate.declaration import load_declaration
    from plugingate.manifests import load_manifests

    old = GROWTH / "manifest-only-rbac" / "old"
    checked = load_manifests(old, load_declaration(old))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    def manifests(ctx: StepContext) -> StepResult:
        return StepResult(Step.MANIFESTS, StepStatus.PASSED, "the old objects", outcome=checked)

    assert gate(tmp_path / "a", "manifest-only-rbac", approver, steps=replace(STEPS, manifests=manifests)).verdict is (
        Verdict.PASSED
    )
    assert denied_items(gate(tmp_path / "b", "manifest-only-rbac", approver)) == [
        "rbac:core/pods:delete",
        "rbac:core/services:delete",
    ]
