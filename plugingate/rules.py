"""Every rule plugingate knows, gathered from the step packages that own them.

Each step declares its rules beside its checks (``plugingate/<step>/rules.py``, a module-level
``RULES`` tuple); this module gathers them for the reports (SARIF rules, the docs) and checks that no
id is declared twice. Id prefixes: PG-BUN bundle, PG-SIG signature, PG-PRV provenance, PG-DEC
plugin.yaml, PG-CAP declared capabilities against the policy, PG-MAN manifests against the
declaration, PG-CHART Helm charts, PG-KUS and PG-OLM kustomize and operator bundles, PG-SBOM,
PG-VUL vulnerabilities, PG-ATT attestations, PG-POL the policy's trust, PG-GRW permission growth
between versions, PG-PRB the shadow run (probe).
"""

from __future__ import annotations

import importlib
from functools import cache

from plugingate.findings import Rule

_OWNERS = (
    "plugingate.bundle.rules",
    "plugingate.signature.rules",
    "plugingate.provenance.rules",
    "plugingate.declaration.rules",
    "plugingate.capabilities.rules",
    "plugingate.manifests.rules",
    "plugingate.packaging.rules",
    "plugingate.packaging.chart_rules",
    "plugingate.sbom.rules",
    "plugingate.vulnerabilities.rules",
    "plugingate.attestation.rules",
    "plugingate.policy.rules",
    "plugingate.probe.rules",
    "plugingate.growth.rules",
)


@cache
def all_rules() -> dict[str, Rule]:
    """Every known rule by id; a step package that does not exist yet contributes nothing."""
    found: dict[str, Rule] = {}
    for name in _OWNERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        for rule in getattr(module, "RULES", ()):
            if rule.id in found:
                raise RuntimeError(f"rule id {rule.id} is declared twice ({name})")
            found[rule.id] = rule
    return found
