"""The runtime renderer's fixtures: the example plugin's declaration (as YAML to change), the default policy."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from plugingate.declaration import parse_declaration
from plugingate.policy import load_policy
from plugingate.policy.model import Cni, GatePolicy
from plugingate.runtime import RenderedControls, RenderOptions, render_controls
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "acme-exporter"
DEFAULT_POLICY = REPO / "policies" / "default.yaml"
GOLDEN = REPO / "testdata" / "runtime"
API_SERVER = ("10.0.0.1/32",)


def example_data() -> dict[str, Any]:
    """The example plugin.yaml as plain data (a fresh copy to change)."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLE / "plugin.yaml").read_text())
    return copy.deepcopy(data)


def render_data(
    data: dict[str, Any],
    policy: GatePolicy,
    *,
    cni: Cni = Cni.PLAIN,
    namespace: str | None = None,
    api_server_cidrs: tuple[str, ...] = API_SERVER,
) -> RenderedControls:
    """Render a plugin.yaml given as data (validated as the gate validates it)."""
    declaration = parse_declaration(yaml.safe_dump(data).encode())
    options = RenderOptions(cni=cni, namespace=namespace, api_server_cidrs=api_server_cidrs)
    return render_controls(declaration, policy, options)


@pytest.fixture(scope="session")
def policy() -> GatePolicy:
    return load_policy(DEFAULT_POLICY)


@pytest.fixture
def render(policy: GatePolicy) -> Callable[..., RenderedControls]:
    def run(data: dict[str, Any] | None = None, **kwargs: Any) -> RenderedControls:
        return render_data(example_data() if data is None else data, policy, **kwargs)

    return run


def objects_of(rendered: RenderedControls, kind: str) -> list[dict[str, Any]]:
    return [o for o in rendered.objects if o["kind"] == kind]


def one(rendered: RenderedControls, kind: str, name_suffix: str = "") -> dict[str, Any]:
    found = [o for o in objects_of(rendered, kind) if o["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, f"{kind} *{name_suffix}: {[o['metadata']['name'] for o in found]}"
    return found[0]
