"""Resource controls: a LimitRange holding each container to the declared CPU and memory, and a ResourceQuota.

The declaration gives the most one container may use; the quota multiplies it by the policy's
``runtime.maxPods`` (room for a rolling update) and caps pods, and it forbids LoadBalancer and
NodePort Services unless an ingress rule was declared ``external``.
"""

from __future__ import annotations

from typing import Any

from plugingate.runtime.objects import Target


def cpu_quantity(millicores: int) -> str:
    """CPU in the shortest exact Kubernetes spelling (``2`` or ``1500m``)."""
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def memory_quantity(size: int) -> str:
    """Memory in the largest binary unit that divides it exactly (``768Mi``), else bytes."""
    for unit, factor in (("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def render_resources(target: Target) -> list[dict[str, Any]]:
    """The LimitRange (when resources are declared) and the ResourceQuota."""
    res = target.declaration.capabilities.resources
    per_container: dict[str, str] = {}
    hard: dict[str, str] = {"pods": str(target.max_pods)}
    if res.cpu_millicores is not None:
        per_container["cpu"] = cpu_quantity(res.cpu_millicores)
        hard["limits.cpu"] = hard["requests.cpu"] = cpu_quantity(res.cpu_millicores * target.max_pods)
    if res.memory_bytes is not None:
        per_container["memory"] = memory_quantity(res.memory_bytes)
        hard["limits.memory"] = hard["requests.memory"] = memory_quantity(res.memory_bytes * target.max_pods)
    if not any(rule.external for rule in target.declaration.capabilities.ingress):
        hard["services.loadbalancers"] = "0"
        hard["services.nodeports"] = "0"
    objects: list[dict[str, Any]] = []
    if per_container:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": target.metadata(target.name),
                "spec": {
                    "limits": [
                        {
                            "type": "Container",
                            "max": dict(per_container),
                            "default": dict(per_container),
                            "defaultRequest": dict(per_container),
                        }
                    ]
                },
            }
        )
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": target.metadata(target.name),
            "spec": {"hard": dict(sorted(hard.items()))},
        }
    )
    return objects
