"""Rules of Helm charts (PG-CHART-0xx): what the gate refuses to render, or renders only with a warning.

A chart is rendered offline with the real Helm; whatever would make the cluster's rendering differ
from the gate's (a cluster lookup, a DNS query, a dependency that is not the locked one, the clock)
is refused as a finding that names the template, because the objects checked would not be the
objects installed.
"""

from __future__ import annotations

from plugingate.findings import Rule, Severity, Step

_S = Step.MANIFESTS

LOOKUP = Rule(
    "PG-CHART-001",
    _S,
    "Chart reads the cluster while rendering",
    "A template of the chart (or of a subchart, or a helper it includes, or a values string rendered "
    "with tpl) calls `lookup` or `getHostByName`. Offline, `helm template` renders them as empty, "
    "while `helm install` renders them from the live cluster or DNS: the objects the gate checks would "
    "not be the objects installed. Remove the call (pass the value in values instead).",
)
DEPENDENCY_NOT_VENDORED = Rule(
    "PG-CHART-002",
    _S,
    "Chart dependency not vendored",
    "Chart.yaml (or requirements.yaml) names a dependency that is not in the chart's charts/ folder. "
    "The gate renders offline and fetches nothing; the installer would fetch whatever the repository "
    "serves then. Vendor it with `helm dependency build` and ship charts/ in the bundle.",
)
DEPENDENCY_NOT_LOCKED = Rule(
    "PG-CHART-003",
    _S,
    "Chart dependency not locked",
    "The chart has dependencies but no Chart.lock (requirements.lock), or the lock's digest does not "
    "match Chart.yaml's dependencies (Helm's own HashReq), or a vendored chart in charts/ is not the "
    "version the lock names. Run `helm dependency update` and ship the lock with the vendored charts.",
)
UNSTABLE_TEMPLATE = Rule(
    "PG-CHART-004",
    _S,
    "Chart renders differently from run to run",
    "A template calls a function whose result changes with the clock or at random (`now`, `randInt`, "
    "`randAlphaNum`, `uuidv4`, …). The gate checks one rendering; another (at install, later) may "
    "differ, which is how a time bomb hides. Review the template by hand.",
    severity=Severity.WARNING,
)
SIGNATURE = Rule(
    "PG-CHART-005",
    _S,
    "Chart signature not valid",
    "plugin.yaml names a signature of the chart archive (a Helm provenance file or a cosign signature) "
    "that does not verify: the archive changed after signing, another key signed it, or the provenance "
    "is for another chart. Or the policy requires a signed chart (charts.requireSignature) and none is "
    "declared. Sign the chart with `helm package --sign` (a key in the policy's charts.keyring) or cosign.",
)

RULES: tuple[Rule, ...] = (LOOKUP, DEPENDENCY_NOT_VENDORED, DEPENDENCY_NOT_LOCKED, UNSTABLE_TEMPLATE, SIGNATURE)
