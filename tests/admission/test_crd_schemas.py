"""Every shipped admission policy is valid against its CRD's openAPIV3Schema (from the Go module source)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from .conftest import POLICIES

MODCACHE = Path(os.environ.get("GOMODCACHE") or Path.home() / "go" / "pkg" / "mod")
CRDS = {
    "ClusterPolicy": MODCACHE
    / "github.com/kyverno/kyverno@v1.19.1/config/crds/kyverno/kyverno.io_clusterpolicies.yaml",
    "ImageValidatingPolicy": MODCACHE
    / "github.com/kyverno/kyverno@v1.19.1/config/crds/policies.kyverno.io"
    / "policies.kyverno.io_imagevalidatingpolicies.yaml",
    "ClusterImagePolicy": MODCACHE / "github.com/sigstore/policy-controller@v0.13.1/config/300-clusterimagepolicy.yaml",
}
CASES = [
    ("kyverno/clusterpolicy-key.yaml", "kyverno.io/v1"),
    ("kyverno/clusterpolicy-keyless.yaml", "kyverno.io/v1"),
    ("kyverno/clusterpolicy-vsa-key.yaml", "kyverno.io/v1"),
    ("kyverno/imagevalidatingpolicy-key.yaml", "policies.kyverno.io/v1"),
    ("kyverno/imagevalidatingpolicy-keyless.yaml", "policies.kyverno.io/v1"),
    ("policy-controller/clusterimagepolicy-key.yaml", "policy.sigstore.dev/v1beta1"),
    ("policy-controller/clusterimagepolicy-keyless.yaml", "policy.sigstore.dev/v1beta1"),
]


@functools.cache
def _spec_schema(kind: str, api_version: str) -> dict[str, Any]:
    """The CRD's schema of ``spec``, closed (see ``_strict``); the CRD files are large: read once."""
    spec: dict[str, Any] = _strict(crd_schema(kind, api_version)["properties"]["spec"])
    return spec


def crd_schema(kind: str, api_version: str) -> dict[str, Any]:
    path = CRDS[kind]
    if not path.exists():
        pytest.skip(f"{path} not in the Go module cache: run scripts/setup-admission-tools")
    # NOTE: the ClusterPolicy CRD is megabytes of YAML: libyaml's loader when PyYAML has it
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for doc in yaml.load_all(path.read_text(), Loader=loader):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        for version in doc["spec"]["versions"]:
            if f"{doc['spec']['group']}/{version['name']}" == api_version:
                schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
                return schema
    raise AssertionError(f"{api_version} {kind} not found in {path}")


def _strict(schema: Any) -> Any:
    """Close every object that lists its properties (the API server prunes unknown fields: we refuse them)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@pytest.mark.parametrize(("name", "api_version"), CASES)
def test_policy_matches_its_crd(name: str, api_version: str) -> None:
    doc = yaml.safe_load((POLICIES / name).read_text())
    assert doc["apiVersion"] == api_version
    schema = _spec_schema(doc["kind"], api_version)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc["spec"]), key=lambda e: list(e.path))
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]


def test_strict_schema_catches_a_typo() -> None:
    doc = yaml.safe_load((POLICIES / "kyverno/clusterpolicy-key.yaml").read_text())
    doc["spec"]["rules"][1]["verifyImages"][0]["attestations"][0]["conditon"] = []
    schema = _spec_schema("ClusterPolicy", "kyverno.io/v1")
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc["spec"]))
