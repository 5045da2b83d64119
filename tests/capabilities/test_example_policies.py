"""policies/examples: the strict policy denies the example plugin for the reasons it should; the
permissive one is in warn mode and accepts it."""

from __future__ import annotations

from pathlib import Path

from plugingate.capabilities import check_capabilities
from plugingate.declaration import load_declaration
from plugingate.manifests import check_manifests, load_manifests
from plugingate.policy import load_policy
from plugingate.policy.model import Mode

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "acme-exporter"


def error_ids(policy_file: str) -> list[str]:
    policy = load_policy(REPO / "policies" / policy_file)
    decl = load_declaration(EXAMPLE)
    findings = check_capabilities(decl, policy.capabilities)
    findings += check_manifests(load_manifests(EXAMPLE, decl), decl, policy.capabilities)
    return sorted({f.rule_id for f in findings if f.denies})


def test_strict_policy_denies_the_example_for_its_stricter_lists() -> None:
    assert load_policy(REPO / "policies" / "examples" / "strict.yaml").mode is Mode.ENFORCE
    assert error_ids("examples/strict.yaml") == [
        "PG-CAP-001",  # egress only to named hosts
        "PG-CAP-020",  # secrets must be called plugin-*
        "PG-CAP-043",  # no Linux capabilities at all
        "PG-CAP-061",  # images only from the platform's mirror
    ]


def test_permissive_policy_is_warn_mode_and_accepts_the_example() -> None:
    assert load_policy(REPO / "policies" / "examples" / "permissive.yaml").mode is Mode.WARN
    assert error_ids("examples/permissive.yaml") == []


def test_default_policy_accepts_the_example() -> None:
    assert error_ids("default.yaml") == []
