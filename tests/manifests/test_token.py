"""PG-MAN-070: a pod of a plugin that declares no RBAC rules should not get an API token mounted."""

from __future__ import annotations

from typing import Any

import pytest

from plugingate.findings import Finding, Severity

from .conftest import Runner, deployment, good_objects, ids, plugin_with, pod_spec
from .test_workloads import KINDS, wrap

NO_RBAC = plugin_with(kubernetes={})


def objects(account: dict[str, Any] | None = None, *workloads: dict[str, Any]) -> list[dict[str, Any]]:
    """The baseline without its Role, RoleBinding and Deployment (nothing RBAC to declare), plus these."""
    kept = [o for o in good_objects() if o["kind"] not in ("Role", "RoleBinding", "Deployment", "ServiceAccount")]
    sa: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "demo"}, **(account or {})}
    return [sa, *kept, *workloads]


def tokens(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule_id == "PG-MAN-070"]


def test_unset_without_rbac_warns(run: Runner) -> None:
    findings = run(objects(None, deployment()), NO_RBAC)
    assert ids(findings) == []  # a warning, never a denial
    (token,) = tokens(findings)
    assert token.severity is Severity.WARNING
    assert "Deployment/demo does not set automountServiceAccountToken: false" in token.message
    assert "ServiceAccount 'demo'" in token.message and "declares no kubernetes.rules" in token.message
    assert token.location is not None and token.location.path == "deploy/all.yaml" and token.location.line


def test_explicit_true_warns_at_the_field(run: Runner) -> None:
    findings = run(objects(None, deployment(pod_spec(automountServiceAccountToken=True))), NO_RBAC)
    (token,) = tokens(findings)
    assert "sets automountServiceAccountToken: true" in token.message
    lines = (run.root / "deploy" / "all.yaml").read_text().splitlines()
    assert token.location is not None
    assert "automountServiceAccountToken: true" in lines[(token.location.line or 0) - 1]


def test_pod_false_is_fine(run: Runner) -> None:
    assert tokens(run(objects(None, deployment(pod_spec(automountServiceAccountToken=False))), NO_RBAC)) == []


def test_service_account_false_is_fine(run: Runner) -> None:
    account = {"automountServiceAccountToken": False}
    assert tokens(run(objects(account, deployment()), NO_RBAC)) == []


def test_pod_true_overrides_service_account_false(run: Runner) -> None:
    account = {"automountServiceAccountToken": False}
    spec = pod_spec(automountServiceAccountToken=True)
    assert len(tokens(run(objects(account, deployment(spec)), NO_RBAC))) == 1


def test_default_account_mounts_the_token(run: Runner) -> None:
    """``default`` is not in the bundle, so nothing turns its token off; another account's false does not count."""
    account = {"automountServiceAccountToken": False}
    findings = tokens(run(objects(account, deployment(pod_spec(serviceAccountName="default"))), NO_RBAC))
    assert len(findings) == 1 and "ServiceAccount 'default'" in findings[0].message
    spec = pod_spec()
    del spec["serviceAccountName"]
    assert len(tokens(run(objects(account, deployment(spec)), NO_RBAC))) == 1


def test_declared_rbac_needs_the_token(run: Runner) -> None:
    """The baseline declares kubernetes.rules and leaves the token on: no warning."""
    assert tokens(run(good_objects())) == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind(run: Runner, kind: str) -> None:
    assert len(tokens(run(objects(None, wrap(kind, pod_spec())), NO_RBAC))) == 1
    assert tokens(run(objects(None, wrap(kind, pod_spec(automountServiceAccountToken=False))), NO_RBAC)) == []
