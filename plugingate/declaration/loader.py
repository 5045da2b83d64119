"""Loading ``plugin.yaml``: bounded YAML, the packaged JSON Schema, then typed values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from plugingate.declaration.model import (
    Capabilities,
    Declaration,
    EgressRule,
    ImageRef,
    IngressRule,
    Privileges,
    RbacRule,
    Resources,
    SecretRef,
    ServiceRef,
    pinned_digest,
    service_of_host,
)
from plugingate.errors import InputError
from plugingate.files import read_bounded
from plugingate.safeyaml import YamlDocument, YamlLimits, load_one
from plugingate.schemas import validate_document
from plugingate.units import parse_bytes, parse_millicores

PLUGIN_FILE = "plugin.yaml"
_LIMITS = YamlLimits(max_bytes=1 << 20, max_depth=32, max_nodes=50_000, max_documents=1)
# NOTE: the OCI digest grammar (algorithm:encoded); a sha256 digest must also be one ``pinned_digest``
# reads. An image pinned by digest becomes a subject of the attestations, which admission control matches.
_DIGEST = re.compile(r"@(?P<algorithm>[a-z0-9]+(?:[+._-][a-z0-9]+)*):(?P<encoded>[A-Za-z0-9=_-]+)\Z")


def load_declaration(root: Path) -> Declaration:
    """Read ``plugin.yaml`` at the top of an unpacked bundle (never through a symlink)."""
    file = root / PLUGIN_FILE
    if file.is_symlink() or (file.exists() and not file.is_file()):
        raise InputError("must be a regular file, not a link or a folder", path=PLUGIN_FILE)
    if not file.exists():
        raise InputError(
            "not found at the bundle root",
            path=PLUGIN_FILE,
            hint="a plugin bundle's root holds plugin.yaml (apiVersion plugingate.dev/v1, kind Plugin)",
        )
    raw = read_bounded(file, _LIMITS.max_bytes, "plugin.yaml", shown_as=PLUGIN_FILE)
    return parse_declaration(raw, path=PLUGIN_FILE)


def parse_declaration(raw: bytes, *, path: str = PLUGIN_FILE) -> Declaration:
    """Parse and validate the bytes of a plugin.yaml."""
    doc = load_one(raw, path=path, limits=_LIMITS)
    validate_document(doc, "plugin.schema.json", what="plugin.yaml")
    return _build(doc)


def _egress(doc: YamlDocument, n: int, entry: dict[str, Any]) -> EgressRule:
    """One egress entry: a host, or an in-cluster Service (``service:``, or a host ``NAME.NAMESPACE.svc``)."""
    if "service" in entry:
        service: ServiceRef | None = ServiceRef(name=entry["service"]["name"], namespace=entry["service"]["namespace"])
    else:
        service = service_of_host(entry["host"])
    return EgressRule(
        host=service.host if service is not None else entry["host"].lower().rstrip("."),
        ports=tuple(entry["ports"]),
        reason=entry["reason"],
        protocol=entry.get("protocol", "TCP"),
        line=doc.line_of(("spec", "capabilities", "network", "egress", n)),
        service=service,
    )


def _build(doc: YamlDocument) -> Declaration:
    data: dict[str, Any] = doc.data
    meta, spec = data["metadata"], data["spec"]
    caps = spec.get("capabilities") or {}
    images = tuple(
        ImageRef(name=i["name"], ref=i["ref"], archive=i.get("archive"), line=doc.line_of(("spec", "images", n)))
        for n, i in enumerate(spec.get("images") or [])
    )
    for number, image in enumerate(images):
        _check_digest(doc, number, image.ref)
    _check_one_form(doc, spec)
    manifests = spec.get("manifests") or []
    if isinstance(manifests, str):
        manifests = [manifests]
    network = caps.get("network") or {}
    egress = tuple(_egress(doc, n, e) for n, e in enumerate(network.get("egress") or []))
    ingress = tuple(
        IngressRule(
            port=i["port"],
            reason=i["reason"],
            protocol=i.get("protocol", "TCP"),
            external=bool(i.get("external", False)),
            line=doc.line_of(("spec", "capabilities", "network", "ingress", n)),
        )
        for n, i in enumerate(network.get("ingress") or [])
    )
    fs = caps.get("filesystem") or {}
    secrets = tuple(
        SecretRef(
            name=s["name"],
            keys=tuple(s.get("keys") or ()),
            as_=s.get("as"),
            line=doc.line_of(("spec", "capabilities", "secrets", n)),
        )
        for n, s in enumerate(caps.get("secrets") or [])
    )
    kube = caps.get("kubernetes") or {}
    rules = tuple(
        RbacRule(
            verbs=tuple(r.get("verbs") or ()),
            api_groups=tuple(r.get("apiGroups") or ()),
            resources=tuple(r.get("resources") or ()),
            resource_names=tuple(r.get("resourceNames") or ()),
            non_resource_urls=tuple(r.get("nonResourceURLs") or ()),
            line=doc.line_of(("spec", "capabilities", "kubernetes", "rules", n)),
        )
        for n, r in enumerate(kube.get("rules") or [])
    )
    priv = caps.get("privileges") or {}
    privileges = Privileges(
        run_as_non_root=bool(priv.get("runAsNonRoot", True)),
        privileged=bool(priv.get("privileged", False)),
        allow_privilege_escalation=bool(priv.get("allowPrivilegeEscalation", False)),
        capabilities=tuple(priv.get("capabilities") or ()),
        host_network=bool(priv.get("hostNetwork", False)),
        host_pid=bool(priv.get("hostPID", False)),
        host_ipc=bool(priv.get("hostIPC", False)),
        host_path=tuple(priv.get("hostPath") or ()),
        volume_types=tuple(priv.get("volumeTypes") or ()),
        line=doc.line_of(("spec", "capabilities", "privileges")),
    )
    res = caps.get("resources") or {}
    resources = Resources(
        cpu_millicores=_quantity(doc, res, "cpu", parse_millicores),
        memory_bytes=_quantity(doc, res, "memory", parse_bytes),
        cpu=str(res["cpu"]) if "cpu" in res else None,
        memory=str(res["memory"]) if "memory" in res else None,
        line=doc.line_of(("spec", "capabilities", "resources")),
    )
    return Declaration(
        name=meta["name"],
        version=str(meta["version"]),
        publisher=meta["publisher"],
        source=meta.get("source"),
        description=meta.get("description"),
        images=images,
        manifests=tuple(manifests),
        capabilities=Capabilities(
            egress=egress,
            ingress=ingress,
            fs_read=tuple(fs.get("read") or ()),
            fs_write=tuple(fs.get("write") or ()),
            secrets=secrets,
            rbac_rules=rules,
            cluster_scope=bool(kube.get("clusterScope", False)),
            namespaces=tuple(kube.get("namespaces") or ()),
            admission_policies=bool(kube.get("admissionPolicies", False)),
            privileges=privileges,
            resources=resources,
        ),
        document=doc,
        namespace=spec.get("namespace") or None,
        kustomize=(spec.get("kustomize") or {}).get("path"),
        operator=(spec.get("operator") or {}).get("path"),
    )


# NOTE: the fields that say where the plugin's Kubernetes objects come from; exactly one may be set.
FORM_FIELDS = ("manifests", "chart", "kustomize", "operator")


def _check_one_form(doc: YamlDocument, spec: dict[str, Any]) -> None:
    """``InputError`` (exit 2) when plugin.yaml declares its objects in more than one form."""
    declared = [name for name in FORM_FIELDS if name in spec]
    if len(declared) > 1:
        first, second = declared[0], declared[1]
        raise InputError(
            f"spec.{first} and spec.{second} are both set; a plugin's Kubernetes objects come from exactly one form",
            path=doc.path,
            line=doc.line_of(("spec", second)),
            field=f"spec.{second}",
            hint=f"keep one of spec.{first} and spec.{second} (docs/packaging.md shows each form)",
        )


def _check_digest(doc: YamlDocument, number: int, ref: str) -> None:
    """A reference with ``@`` must end in a well-formed digest (``InputError`` naming the line)."""
    if "@" not in ref:
        return
    found = _DIGEST.search(ref)
    if found is None or (found["algorithm"] == "sha256" and pinned_digest(ref) is None):
        raise InputError(
            f"image reference {ref!r} is not pinned by a well-formed digest",
            path=doc.path,
            line=doc.line_of(("spec", "images", number, "ref")),
            field=f"spec.images[{number}].ref",
            hint="write NAME@sha256:<64 lowercase hex digits> (as `docker inspect` or `crane digest` print it), "
            "or NAME:TAG without a digest",
        )


def _quantity(doc: YamlDocument, res: dict[str, Any], key: str, parse: Any) -> int | None:
    if key not in res:
        return None
    try:
        value: int = parse(res[key])
    except ValueError as exc:
        field = f"spec.capabilities.resources.{key}"
        raise InputError(
            str(exc), path=doc.path, line=doc.line_of(("spec", "capabilities", "resources", key)), field=field
        ) from exc
    return value
