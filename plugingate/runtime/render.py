"""The whole rendered set: every object in a fixed order, one canonical YAML stream, and its digest.

The stream is canonical (keys sorted, block style, one document per object, in the order below), so
the same declaration and policy always give the same bytes and the same ``sha256``: the digest the
gate attestation records is a statement about exactly these objects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from plugingate.declaration import Declaration
from plugingate.files import write_atomic
from plugingate.policy.model import Cni, GatePolicy
from plugingate.runtime.kyverno import render_kyverno
from plugingate.runtime.namespace import render_namespace
from plugingate.runtime.netpol import render_network
from plugingate.runtime.objects import Target
from plugingate.runtime.quota import render_resources
from plugingate.runtime.rbac import render_identity
from plugingate.runtime.safety import namespace_name, network_cidr

STREAM_FILE = "runtime.yaml"
KUSTOMIZATION_FILE = "kustomization.yaml"


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """What the caller may set beyond the policy: the namespace, and overrides of ``runtime`` settings."""

    namespace: str | None = None
    cni: Cni | None = None
    api_server_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderedControls:
    """The rendered objects, their canonical stream and its ``sha256:<hex>`` digest."""

    namespace: str
    cni: Cni
    objects: tuple[dict[str, Any], ...]
    stream: bytes
    digest: str

    def summary(self) -> dict[str, Any]:
        """What the gate attestation records: the digest and the objects (``Kind/name``)."""
        return {
            "digest": self.digest,
            "namespace": self.namespace,
            "cni": str(self.cni),
            "objects": [f"{o['kind']}/{o['metadata']['name']}" for o in self.objects],
        }


def canonical_stream(objects: list[dict[str, Any]]) -> bytes:
    """One YAML document per object, keys sorted, block style: the same objects, the same bytes."""
    docs = [
        yaml.safe_dump(o, sort_keys=True, default_flow_style=False, allow_unicode=False, width=1 << 16) for o in objects
    ]
    return "---\n".join(docs).encode()


def render_controls(
    declaration: Declaration, policy: GatePolicy, options: RenderOptions | None = None
) -> RenderedControls:
    """Every control for ``declaration`` under ``policy`` (InputError when a value cannot be rendered safely)."""
    options = options or RenderOptions()
    runtime = policy.runtime
    if options.namespace:
        namespace = namespace_name(options.namespace, where="--namespace")
    else:
        namespace = namespace_name(declaration.namespace or declaration.name, where="spec.namespace")
    cidrs = options.api_server_cidrs or runtime.api_server_cidrs
    cidrs_from = "--api-server-cidr" if options.api_server_cidrs else "spec.runtime.apiServerCIDRs"
    target = Target(
        declaration=declaration,
        namespace=namespace,
        cni=options.cni or runtime.cni,
        api_server_cidrs=tuple(network_cidr(c, field=cidrs_from) for c in cidrs),
        max_pods=runtime.max_pods,
        allow_private_addresses=policy.capabilities.network.allow_private_addresses,
        allow_metadata_addresses=policy.capabilities.network.allow_metadata_addresses,
    )
    objects = [
        render_namespace(target),
        *render_identity(target),
        *render_network(target),
        *render_resources(target),
        *render_kyverno(target),
    ]
    stream = canonical_stream(objects)
    return RenderedControls(
        namespace=namespace,
        cni=target.cni,
        objects=tuple(objects),
        stream=stream,
        digest=f"sha256:{hashlib.sha256(stream).hexdigest()}",
    )


def kustomization() -> bytes:
    """A Kustomize Component holding the stream (``components: [DIR]`` in the platform's kustomization)."""
    return yaml.safe_dump(
        {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component", "resources": [STREAM_FILE]},
        sort_keys=False,
    ).encode()


def write_controls(rendered: RenderedControls, out_dir: Path) -> list[Path]:
    """Write ``runtime.yaml`` and ``kustomization.yaml`` into ``out_dir`` (atomically)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / STREAM_FILE, out_dir / KUSTOMIZATION_FILE]
    write_atomic(written[0], rendered.stream)
    write_atomic(written[1], kustomization())
    return written
