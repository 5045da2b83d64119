"""A client-side dry run of the rendered stream with the real kubectl.

``kubectl apply --dry-run=client`` needs a live API server (it reads the objects it would patch); offline,
``kubectl create --dry-run=client --validate=false -o json`` is what works: kubectl still maps every
object to an API resource through discovery (a fake discovery server on 127.0.0.1 answers, with the
namespaced kinds marked so), decodes the stream with its own resource builder, and prints what it
would send. Schema validation is tests/runtime/test_schemas.py's job (kubectl's would ask the server
for its OpenAPI document).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from plugingate.policy.model import Cni, GatePolicy
from tests.manifests.kubectl import fake_api_server, kubectl_binary, kubectl_create

from .conftest import example_data, render_data
from .test_schemas import maximal

pytestmark = pytest.mark.integration

NAMESPACED = frozenset(
    {"ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "CiliumNetworkPolicy", "LimitRange", "ResourceQuota"}
)


@pytest.mark.parametrize("case", ["example", "maximal"])
@pytest.mark.parametrize("cni", list(Cni))
def test_kubectl_reads_the_stream_as_rendered(policy: GatePolicy, tmp_path: Path, case: str, cni: Cni) -> None:
    rendered = render_data(example_data() if case == "example" else maximal(), policy, cni=cni)
    stream = tmp_path / "runtime.yaml"
    stream.write_bytes(rendered.stream)
    kinds = {(o["apiVersion"], o["kind"]) for o in rendered.objects}
    with fake_api_server(kinds, tmp_path, NAMESPACED) as config:
        result = kubectl_create(kubectl_binary(), config, stream, tmp_path)
    assert not result.failed, result.stderr
    # NOTE: what kubectl would send is exactly what was rendered: no field dropped, renamed or defaulted.
    assert result.objects == list(rendered.objects)
    assert result.objects == list(yaml.safe_load_all(rendered.stream))
