"""Findings on a rendered copy moved back to the bundle's own file: line to field, field to source line."""

from __future__ import annotations

from plugingate.findings import Location, Severity, Step
from plugingate.findings import Rule as FindingRule
from plugingate.packaging.origin import (
    FixedOrigin,
    RenderedObjectRef,
    Source,
    field_name,
    line_in,
    path_at_line,
    relocate,
)
from plugingate.safeyaml import load_one

RENDERED = b"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: p-app
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: a
      - name: app
        securityContext:
          capabilities:
            add:
            - NET_ADMIN
"""
SOURCE = b"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
      - name: app
        securityContext:
          capabilities:
            add: [NET_ADMIN]
"""
RULE = FindingRule("PG-MAN-013", Step.MANIFESTS, "t", "h", Severity.ERROR)


def test_a_line_of_the_copy_is_read_back_as_the_shortest_field_on_it() -> None:
    doc = load_one(RENDERED, path="kustomize:x/0000.yaml")
    assert path_at_line(doc, (), 14) == (
        "spec",
        "template",
        "spec",
        "containers",
        1,
        "securityContext",
        "capabilities",
        "add",
    )
    assert path_at_line(doc, (), 9) == ("spec", "template", "spec", "containers", 0)
    assert path_at_line(doc, (), None) == ()


def test_list_items_are_matched_by_name_in_the_source() -> None:
    """The rendered object's second container is the patch's first: the line is the patch's."""
    rendered = load_one(RENDERED, path="r")
    source = load_one(SOURCE, path="overlay/patch.yaml")
    path = ("spec", "template", "spec", "containers", 1, "securityContext", "capabilities", "add")
    assert line_in(source, (), path, rendered.data) == 12
    # a container the source lacks: the nearest field it has
    assert line_in(source, (), ("spec", "template", "spec", "containers", 0, "image"), rendered.data) == 8


def test_relocate_names_the_source_and_keeps_the_rendered_place() -> None:
    doc = load_one(RENDERED, path="kustomize:x/0000.yaml")
    origin = FixedOrigin(Source(Location("overlay/patch.yaml", 12), "patch overlay/kustomization.yaml: patches[0]"))
    finding = RULE.finding("adds NET_ADMIN", location=Location("kustomize:x/0000.yaml", 14))
    other = RULE.finding("elsewhere", location=Location("deploy/plain.yaml", 3))
    moved, kept = relocate([finding, other], {"kustomize:x/0000.yaml": RenderedObjectRef(doc, (), origin)})
    assert moved.location == Location("overlay/patch.yaml", 12)
    assert moved.message == "adds NET_ADMIN [from patch overlay/kustomization.yaml: patches[0]]"
    assert moved.properties["rendered"] == "kustomize:x/0000.yaml:14"
    assert kept == other


def test_field_names() -> None:
    assert field_name("spec.install.spec", ("deployments", 0, "spec")) == "spec.install.spec.deployments[0].spec"
    assert field_name("rules", (0, "verbs")) == "rules[0].verbs"
    assert field_name("x", ()) == "x"
