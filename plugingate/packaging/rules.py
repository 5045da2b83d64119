"""Rules of the packaging forms (PG-KUS-0xx kustomize, PG-OLM-0xx operator bundles).

A form the gate cannot render faithfully from the bundle alone is refused with one of these, naming
the kustomization or ClusterServiceVersion field; what a form renders is then checked by the
manifests rules (PG-MAN) like any plain manifest.
"""

from __future__ import annotations

from plugingate.findings import Rule, Step

_S = Step.MANIFESTS

KUSTOMIZE_REMOTE = Rule(
    "PG-KUS-001",
    _S,
    "Kustomize reference to something outside the bundle",
    "A kustomization names a resource, component or base that is not a file or folder of the bundle: a URL, "
    "a git reference or a missing path, which kustomize would fetch. What is fetched at build time was never "
    "signed with the bundle nor checked by the gate. Vendor it into the bundle and name it by its path.",
)
KUSTOMIZE_FUNCTION = Rule(
    "PG-KUS-002",
    _S,
    "Kustomize plugin or KRM function",
    "A kustomization's generators, transformers or validators name an exec or containerized KRM function "
    "(config.kubernetes.io/function), or a kind that is not one of kustomize's built-in ones. It would run "
    "code of the author's choice while the objects are built. Use built-in transformers or plain resources.",
)
KUSTOMIZE_HELM = Rule(
    "PG-KUS-003",
    _S,
    "Helm chart inflated by kustomize",
    "A kustomization uses helmCharts, helmGlobals or a HelmChartInflationGenerator, which run helm (and may "
    "download the chart). Declare the chart as spec.chart instead, where the gate renders it itself.",
)
KUSTOMIZE_ESCAPE = Rule(
    "PG-KUS-004",
    _S,
    "Kustomize path that leaves the bundle",
    "A kustomization names an absolute path, a path that climbs above the bundle with ../, or the folder "
    "holds a symlink: kustomize could read a file the bundle does not hold, or one the gate did not read. "
    "Name files inside the bundle, without symlinks.",
)
OLM_RELATED_IMAGE_UNPINNED = Rule(
    "PG-OLM-001",
    _S,
    "OLM related image not pinned by digest",
    "The ClusterServiceVersion's spec.relatedImages lists an image by tag. OLM mirrors and pulls related "
    "images; a tag can be moved to other bytes after the gate ran. Pin it as NAME@sha256:<digest>.",
)
OLM_RELATED_IMAGE_UNDECLARED = Rule(
    "PG-OLM-002",
    _S,
    "OLM related image not declared",
    "The ClusterServiceVersion's spec.relatedImages lists an image plugin.yaml's spec.images does not: "
    "the operator may run it (operands, jobs), and nothing the gate signed names it. Declare it.",
)
OLM_OWNED_CRD_MISSING = Rule(
    "PG-OLM-003",
    _S,
    "OLM owned CRD not in the bundle",
    "The ClusterServiceVersion's spec.customresourcedefinitions.owned names a CRD that no file in manifests/ "
    "defines (operator-framework's bundle validation refuses it too): OLM would install a definition the "
    "gate never read. Ship the CRD in manifests/.",
)
OLM_VALIDATION = Rule(
    "PG-OLM-004",
    _S,
    "OLM bundle refused by operator-framework's validators",
    "operator-framework/api's default bundle validators (ClusterServiceVersionValidator, "
    "CustomResourceDefinitionValidator, BundleValidator; what `operator-sdk bundle validate` runs) report an "
    "error, or cannot load the bundle at all: OLM's own tooling would refuse it. The finding quotes the validator.",
)

RULES = (
    KUSTOMIZE_REMOTE,
    KUSTOMIZE_FUNCTION,
    KUSTOMIZE_HELM,
    KUSTOMIZE_ESCAPE,
    OLM_RELATED_IMAGE_UNPINNED,
    OLM_RELATED_IMAGE_UNDECLARED,
    OLM_OWNED_CRD_MISSING,
    OLM_VALIDATION,
)
