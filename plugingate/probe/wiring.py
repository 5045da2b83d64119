"""Where the plugin's own manifests put each declared secret: environment variable names and files.

A pod reads a secret under the name its manifest gives it (``env[].valueFrom.secretKeyRef``,
``envFrom[].secretRef``, a ``secret`` volume's mount), not under a name plugingate could guess; so the
canaries are placed where the bundle's manifests place the secrets for the container that runs the
image. Secrets the manifests do not wire for it get the probe's convention as well (``run.env_name``
and ``/var/run/secrets/plugingate/NAME/KEY``), so that a plugin that finds them some other way is
still given a canary to leak.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from plugingate.declaration.model import Declaration, ImageRef
from plugingate.manifests.kinds import pod_specs
from plugingate.manifests.model import ManifestSet
from plugingate.manifests.pods import containers


@dataclass
class Wiring:
    """For each (secret, key): the environment variables and files the manifests give it to the image's container."""

    env: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    files: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def add_env(self, secret: str, key: str, name: str) -> None:
        self.env.setdefault((secret, key), set()).add(name)

    def add_file(self, secret: str, key: str, path: str) -> None:
        self.files.setdefault((secret, key), set()).add(posixpath.normpath(path))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _matches(container_image: Any, image: ImageRef) -> bool:
    if not isinstance(container_image, str):
        return False
    return container_image == image.ref or container_image.split("@", 1)[0] == image.ref.split("@", 1)[0]


def _pods(manifests: ManifestSet) -> Iterator[dict[str, Any]]:
    for obj in manifests.objects:
        for spec, _ in pod_specs(obj):
            yield spec


def secret_wiring(manifests: ManifestSet, declaration: Declaration, image: ImageRef) -> Wiring:
    """How the bundle's manifests (as the gate read them, any packaging form) hand the declared secrets
    to the containers that run ``image``."""
    wiring = Wiring()
    keys = {ref.name: ref.keys or ("data",) for ref in declaration.capabilities.secrets}
    for spec in _pods(manifests):
        volumes = {
            v.get("name"): _map(v.get("secret"))
            for v in _list(spec.get("volumes"))
            if isinstance(v, dict) and isinstance(v.get("secret"), dict)
        }
        for _, container, _ in containers(spec, ()):
            if not _matches(container.get("image"), image):
                continue
            for env in _list(container.get("env")):
                ref = _map(_map(_map(env).get("valueFrom")).get("secretKeyRef"))
                if ref.get("name") in keys and isinstance(_map(env).get("name"), str):
                    wiring.add_env(str(ref["name"]), str(ref.get("key", "")), str(env["name"]))
            for source in _list(container.get("envFrom")):
                ref = _map(_map(source).get("secretRef"))
                if ref.get("name") in keys:
                    prefix = str(_map(source).get("prefix") or "")
                    for key in keys[str(ref["name"])]:
                        wiring.add_env(str(ref["name"]), key, prefix + key)
            for mount in _list(container.get("volumeMounts")):
                volume = volumes.get(_map(mount).get("name"))
                if (
                    volume is None
                    or volume.get("secretName") not in keys
                    or not isinstance(mount.get("mountPath"), str)
                ):
                    continue
                secret = str(volume["secretName"])
                items = {i.get("key"): i.get("path") for i in _list(volume.get("items")) if isinstance(i, dict)}
                for key in keys[secret]:
                    if items and key not in items:
                        continue
                    wiring.add_file(secret, key, posixpath.join(mount["mountPath"], str(items.get(key) or key)))
    return wiring
