"""``spec.operator``: an OLM bundle read as the objects OLM would create from it.

An operator bundle's real workload and permissions are not in plain objects: they live in the
ClusterServiceVersion, and OLM creates them at install. This module makes those objects as OLM does
(``spec.install.spec.deployments`` as Deployments in the install namespace, ``permissions`` as a Role
and RoleBinding for the named ServiceAccount, ``clusterPermissions`` as a ClusterRole and
ClusterRoleBinding, ``webhookdefinitions`` as webhook configurations with their Service), so the
manifests checks judge them like any manifest. When the CSV supports the ``AllNamespaces`` install
mode, OLM grants ``permissions`` in every namespace: they become a ClusterRole and binding, and the
finding says so. The other files of ``manifests/`` are plain objects and are read as they are.

Checked here, as operator-framework/api's bundle and CSV validators also do: one CSV, a registry+v1
``metadata/annotations.yaml`` naming ``manifests/``, every owned CRD shipped in ``manifests/``
(PG-OLM-003); and, beyond them, every ``relatedImages`` entry pinned by digest (PG-OLM-001) and
declared in plugin.yaml (PG-OLM-002). Each made object keeps the CSV field it came from, and a
finding on it names that field (``manifests/acme.clusterserviceversion.yaml: spec.install.spec.
clusterPermissions[0].rules[0]``) at the CSV's own line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from plugingate.declaration.model import pinned_digest
from plugingate.errors import InputError
from plugingate.files import read_bounded
from plugingate.findings import Finding, Location
from plugingate.packaging.origin import Source, field_name
from plugingate.packaging.rendering import RenderedFile, Rendering
from plugingate.packaging.rules import (
    OLM_OWNED_CRD_MISSING,
    OLM_RELATED_IMAGE_UNDECLARED,
    OLM_RELATED_IMAGE_UNPINNED,
    OLM_VALIDATION,
)
from plugingate.safeyaml import JsonPath, YamlDocument, YamlLimits, load_yaml

if TYPE_CHECKING:
    from plugingate.declaration import Declaration
    from plugingate.tools.runner import ToolRunner

EXTENSIONS = (".yaml", ".yml", ".json")
MEDIA_TYPE = "operators.operatorframework.io.bundle.mediatype.v1"
MANIFESTS_KEY = "operators.operatorframework.io.bundle.manifests.v1"
_LIMITS = YamlLimits(max_bytes=4 << 20)
MAX_FILES = 1000
INSTALL = ("spec", "install", "spec")


@dataclass(frozen=True, slots=True)
class CsvOrigin:
    """A made object's fields mapped to the CSV fields they came from (longest matching prefix wins)."""

    document: YamlDocument
    pairs: tuple[tuple[JsonPath, JsonPath], ...]
    note: str = ""

    def source_of(self, path: JsonPath) -> Source:
        """The CSV field behind ``path`` of the made object, at its line in the CSV."""
        best: tuple[JsonPath, JsonPath] = ((), self.pairs[0][1])
        for made, csv in self.pairs:
            if path[: len(made)] == made and len(made) >= len(best[0]):
                best = (made, csv)
        csv_path = (*best[1], *path[len(best[0]) :])
        line = self.document.line_of(csv_path) or 1
        # NOTE: the field named is the deepest one the CSV really has (a Deployment's defaults are not in it).
        while csv_path and csv_path not in self.document.lines:
            csv_path = csv_path[:-1]
        label = f"{self.document.path}: {field_name('', csv_path).lstrip('.')}"
        return Source(Location(self.document.path, line), f"{label}{self.note}")


def render_operator(root: Path, declaration: Declaration, work: Path, runner: ToolRunner | None = None) -> Rendering:
    """The objects OLM would create from ``spec.operator.path``, as files under ``work``."""
    assert declaration.operator is not None
    bundle = Path(os.path.realpath(root))
    folder = _folder(bundle, declaration)
    _check_annotations(bundle, folder)
    docs = _read_manifests(bundle, folder)
    csvs = [d for d in docs if isinstance(d.data, dict) and d.data.get("kind") == "ClusterServiceVersion"]
    if len(csvs) != 1:
        raise InputError(
            f"{folder}/manifests holds {len(csvs)} ClusterServiceVersions; an OLM bundle holds exactly one",
            path=str(folder / "manifests"),
            hint="one operator version per bundle: its CSV, its CRDs and its other objects",
        )
    csv = csvs[0]
    if sum(1 for d in docs if d.path == csv.path) > 1:
        # NOTE: OLM's registry reads one object per manifest file; a second document beside the CSV
        # would be read by the gate and not by OLM, or the other way round.
        raise InputError(
            "the ClusterServiceVersion's file holds other documents too; expected the CSV alone in its file",
            path=csv.path,
        )
    maker = _Maker(csv, declaration)
    maker.make()
    validated, tools = _validated(bundle, folder, csv, runner)
    findings = [*maker.related_images(), *_owned_crds(csv, docs), *validated]
    out = work / "rendered"
    out.mkdir()
    files: list[RenderedFile] = []
    # NOTE: the plain objects first, as they are (findings point at their own lines), then the made ones.
    for doc in docs:
        if doc is csv or doc.data is None:
            continue
        if not any(f.shown == doc.path for f in files):
            files.append(RenderedFile(shown=doc.path, path=bundle / doc.path, origin=None))
    for n, (obj, origin) in enumerate(maker.objects):
        file = out / f"{n:04d}.yaml"
        file.write_text(yaml.safe_dump(obj, sort_keys=False, default_flow_style=False), encoding="utf-8")
        shown = f"olm:{folder}/{n:04d}-{obj['kind']}-{obj['metadata']['name']}.yaml"
        files.append(RenderedFile(shown=shown, path=file, origin=origin))
    return Rendering(
        files=tuple(files), findings=tuple(findings), tools=tools, sources=((csv.path, bundle / csv.path),)
    )


def _folder(bundle: Path, declaration: Declaration) -> PurePosixPath:
    entry = str(declaration.operator)
    line = declaration.line("spec", "operator", "path")
    pure = PurePosixPath(entry)
    real = Path(os.path.realpath(bundle.joinpath(*pure.parts)))
    if pure.is_absolute() or ".." in pure.parts or (real != bundle and bundle not in real.parents):
        raise InputError(f"{entry!r} leaves the bundle; expected a folder inside it", path=declaration.path, line=line)
    if not (real / "manifests").is_dir():
        raise InputError(
            f"{entry!r} has no manifests/ folder; an OLM bundle holds manifests/ and metadata/annotations.yaml",
            path=declaration.path,
            line=line,
            field="spec.operator.path",
        )
    return PurePosixPath(*pure.parts) if pure.parts else PurePosixPath(".")


def _check_annotations(bundle: Path, folder: PurePosixPath) -> None:
    """``metadata/annotations.yaml`` says registry+v1 and manifests/ (what OLM reads the bundle by)."""
    shown = str(folder / "metadata" / "annotations.yaml")
    file = bundle / shown
    if file.is_symlink() or not file.is_file():
        raise InputError("not found; an OLM bundle's metadata/annotations.yaml names its media type", path=shown)
    doc = load_yaml(read_bounded(file, 1 << 20, "the bundle annotations", shown_as=shown), path=shown, limits=_LIMITS)
    data = doc[0].data if doc else None
    annotations = data.get("annotations") if isinstance(data, dict) else None
    if not isinstance(annotations, dict):
        raise InputError("expected a map 'annotations'", path=shown, line=1)
    if annotations.get(MEDIA_TYPE) != "registry+v1":
        raise InputError(
            f"{MEDIA_TYPE} is {annotations.get(MEDIA_TYPE)!r}; the gate reads registry+v1 bundles",
            path=shown,
            line=doc[0].line_of(("annotations",)),
        )
    if str(annotations.get(MANIFESTS_KEY, "")).rstrip("/") != "manifests":
        raise InputError(f"{MANIFESTS_KEY} must be manifests/", path=shown, line=doc[0].line_of(("annotations",)))


def _read_manifests(bundle: Path, folder: PurePosixPath) -> list[YamlDocument]:
    base = bundle.joinpath(*folder.parts) / "manifests"
    docs: list[YamlDocument] = []
    entries = sorted(os.scandir(base), key=lambda e: e.name)
    if len(entries) > MAX_FILES:
        raise InputError(f"more than {MAX_FILES} files in manifests/", path=str(folder / "manifests"))
    for entry in entries:
        shown = str(folder / "manifests" / entry.name)
        if entry.is_symlink():
            raise InputError("a symlink in an OLM bundle's manifests/; expected plain files", path=shown)
        if entry.is_file() and entry.name.lower().endswith(EXTENSIONS):
            raw = read_bounded(Path(entry.path), _LIMITS.max_bytes, "an OLM manifest", shown_as=shown)
            docs.extend(load_yaml(raw, path=shown, limits=_LIMITS))
    return docs


def _owned_crds(csv: YamlDocument, docs: list[YamlDocument]) -> list[Finding]:
    shipped = {
        str((d.data.get("metadata") or {}).get("name"))
        for d in docs
        if isinstance(d.data, dict) and d.data.get("kind") == "CustomResourceDefinition"
    }
    owned = _get(csv.data, ("spec", "customresourcedefinitions", "owned"))
    out: list[Finding] = []
    for i, crd in enumerate(owned if isinstance(owned, list) else []):
        name = crd.get("name") if isinstance(crd, dict) else None
        if name not in shipped:
            where = ("spec", "customresourcedefinitions", "owned", i)
            out.append(
                OLM_OWNED_CRD_MISSING.finding(
                    f"{csv.path}: {field_name('', where).lstrip('.')}: owned CRD {name!r} is not defined in "
                    "manifests/; expected its CustomResourceDefinition there",
                    location=Location(csv.path, csv.line_of(where) or 1),
                )
            )
    return out


VALIDATE_TIMEOUT = 120.0


def _validated(
    bundle: Path, folder: PurePosixPath, csv: YamlDocument, runner: ToolRunner | None
) -> tuple[list[Finding], dict[str, str]]:
    """operator-framework/api's default bundle validators (tools/olmvalidate): each error a PG-OLM-004 finding.

    Their warnings (a CSV without annotations, say) are about catalogue presentation, not what the
    operator may do, and are not reported.
    """
    import json

    from plugingate.tools import Helper, ToolRunner
    from plugingate.tools.runner import last_lines

    tool_runner = runner or ToolRunner()
    manifests = bundle.joinpath(*folder.parts) / "manifests"
    run = tool_runner.run(Helper.OLMVALIDATE, [str(manifests)], timeout=VALIDATE_TIMEOUT, stdout_limit=4 << 20)
    where = Location(csv.path, 1)
    tools = {"olmvalidate": run.version}
    if run.returncode == 2:
        detail = last_lines(run.stderr).replace(str(bundle) + "/", "")
        message = f"{csv.path}: operator-framework cannot load the bundle: {detail}"
        return [OLM_VALIDATION.finding(message, location=where)], tools
    run.check("validating the OLM bundle")
    out: list[Finding] = []
    for line in run.stdout.decode("utf-8", "replace").splitlines():
        result = json.loads(line)
        if not isinstance(result, dict) or result.get("level") != "Error":
            continue
        field = str(result.get("field") or "")
        parts: JsonPath = tuple(p for p in field.split(".") if p)
        located = Location(csv.path, csv.line_of(parts) or 1) if parts else where
        out.append(
            OLM_VALIDATION.finding(
                f"{csv.path}: {result.get('validator')}: {result.get('type')}: {result.get('detail')}"
                + (f" (field {field})" if field else ""),
                location=located,
            )
        )
    return out, tools


def _get(data: Any, path: JsonPath) -> Any:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


class _Maker:
    """The objects OLM creates from one CSV, each with its ``CsvOrigin``."""

    def __init__(self, csv: YamlDocument, declaration: Declaration) -> None:
        self.csv = csv
        self.declaration = declaration
        self.namespace = declaration.namespace
        self.name = str(_get(csv.data, ("metadata", "name")) or "operator")
        modes = _get(csv.data, ("spec", "installModes"))
        self.all_namespaces = any(
            isinstance(m, dict) and m.get("type") == "AllNamespaces" and m.get("supported") is True
            for m in (modes if isinstance(modes, list) else [])
        )
        self.objects: list[tuple[dict[str, Any], CsvOrigin]] = []
        self.accounts: dict[str, JsonPath] = {}

    def _meta(self, name: str, namespaced: bool) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name}
        if namespaced and self.namespace:
            meta["namespace"] = self.namespace
        return meta

    def _add(self, obj: dict[str, Any], pairs: list[tuple[JsonPath, JsonPath]], note: str = "") -> None:
        self.objects.append((obj, CsvOrigin(self.csv, tuple(pairs), note)))

    def make(self) -> None:
        strategy = _get(self.csv.data, ("spec", "install", "strategy"))
        if strategy != "deployment":
            raise InputError(
                f"spec.install.strategy is {strategy!r}; OLM (and the gate) know only 'deployment'",
                path=self.csv.path,
                line=self.csv.line_of(("spec", "install")),
            )
        for i, dep in enumerate(self._list(("deployments",))):
            self._deployment(i, dep)
        for i, perm in enumerate(self._list(("permissions",))):
            self._permission(i, perm, cluster=False)
        for i, perm in enumerate(self._list(("clusterPermissions",))):
            self._permission(i, perm, cluster=True)
        for i, hook in enumerate(_list(_get(self.csv.data, ("spec", "webhookdefinitions")))):
            self._webhook(i, hook)
        for account, where in self.accounts.items():
            self._add(
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": self._meta(account, True)},
                [((), where)],
            )

    def _list(self, key: JsonPath) -> list[Any]:
        value = _get(self.csv.data, (*INSTALL, *key))
        if value is not None and not isinstance(value, list):
            raise InputError("expected a list", path=self.csv.path, line=self.csv.line_of((*INSTALL, *key)))
        return value or []

    def _deployment(self, i: int, dep: Any) -> None:
        base: JsonPath = (*INSTALL, "deployments", i)
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str) or not isinstance(dep.get("spec"), dict):
            raise InputError(
                "a CSV deployment needs a name and a spec",
                path=self.csv.path,
                line=self.csv.line_of(base),
                field=field_name("", base).lstrip("."),
            )
        meta = self._meta(dep["name"], True)
        if isinstance(dep.get("label"), dict):
            meta["labels"] = dep["label"]
        obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": dep["spec"]}
        self._add(obj, [((), base), (("metadata", "name"), (*base, "name")), (("spec",), (*base, "spec"))])
        pod = _get(dep, ("spec", "template", "spec"))
        account = pod.get("serviceAccountName") if isinstance(pod, dict) else None
        if isinstance(account, str):
            self.accounts.setdefault(account, (*base, "spec", "template", "spec", "serviceAccountName"))

    def _permission(self, i: int, perm: Any, *, cluster: bool) -> None:
        key = "clusterPermissions" if cluster else "permissions"
        base: JsonPath = (*INSTALL, key, i)
        if not isinstance(perm, dict) or not isinstance(perm.get("serviceAccountName"), str):
            raise InputError(
                "a CSV permission needs a serviceAccountName and rules",
                path=self.csv.path,
                line=self.csv.line_of(base),
                field=field_name("", base).lstrip("."),
            )
        account = perm["serviceAccountName"]
        self.accounts.setdefault(account, (*base, "serviceAccountName"))
        wide = cluster or self.all_namespaces
        note = (
            " (installModes supports AllNamespaces: OLM grants these permissions in every namespace)"
            if wide and not cluster
            else ""
        )
        role_kind = "ClusterRole" if wide else "Role"
        name = f"{self.name}-{key.lower()}-{i}"
        role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": role_kind,
            "metadata": self._meta(name, not wide),
            "rules": perm.get("rules") or [],
        }
        self._add(role, [((), base), (("rules",), (*base, "rules"))], note)
        subject: dict[str, Any] = {"kind": "ServiceAccount", "name": account}
        if self.namespace:
            subject["namespace"] = self.namespace
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": f"{role_kind}Binding",
            "metadata": self._meta(name, not wide),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            "subjects": [subject],
        }
        self._add(binding, [((), base), (("subjects",), (*base, "serviceAccountName"))], note)

    def _webhook(self, i: int, hook: Any) -> None:
        base: JsonPath = ("spec", "webhookdefinitions", i)
        if not isinstance(hook, dict):
            raise InputError("expected a map", path=self.csv.path, line=self.csv.line_of(base))
        kind = {
            "ValidatingAdmissionWebhook": "ValidatingWebhookConfiguration",
            "MutatingAdmissionWebhook": "MutatingWebhookConfiguration",
        }.get(str(hook.get("type")))
        if kind is None:
            # NOTE: a ConversionWebhook changes the owned CRDs' conversion; OLM adds no webhook configuration.
            return
        service = f"{hook.get('deploymentName')}-service"
        client: dict[str, Any] = {"name": service, "path": hook.get("webhookPath", "/"), "port": 443}
        if self.namespace:
            client["namespace"] = self.namespace
        webhook: dict[str, Any] = {
            "name": hook.get("generateName"),
            "clientConfig": {"service": client},
            "rules": hook.get("rules") or [],
            "admissionReviewVersions": hook.get("admissionReviewVersions") or ["v1"],
            "sideEffects": hook.get("sideEffects", "None"),
        }
        for opt in ("failurePolicy", "objectSelector", "matchPolicy", "timeoutSeconds", "reinvocationPolicy"):
            if opt in hook:
                webhook[opt] = hook[opt]
        obj = {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": kind,
            "metadata": {"name": str(hook.get("generateName"))},
            "webhooks": [webhook],
        }
        self._add(obj, [((), base), (("webhooks", 0, "rules"), (*base, "rules"))])
        selector = None
        for dep, _ in self.objects:
            if dep["kind"] == "Deployment" and dep["metadata"]["name"] == hook.get("deploymentName"):
                selector = _get(dep, ("spec", "selector", "matchLabels"))
        port = hook.get("containerPort", 443)
        svc = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self._meta(service, True),
            "spec": {
                "selector": selector or {},
                "ports": [{"name": "webhook", "port": 443, "targetPort": hook.get("targetPort", port)}],
            },
        }
        self._add(svc, [((), base), (("spec", "ports"), (*base, "containerPort"))])

    def related_images(self) -> list[Finding]:
        """Each ``spec.relatedImages`` entry pinned by digest and declared in plugin.yaml."""
        declared = {image.ref for image in self.declaration.images}
        declared_digests = {image.digest for image in self.declaration.images if image.digest}
        out: list[Finding] = []
        for i, entry in enumerate(_list(_get(self.csv.data, ("spec", "relatedImages")))):
            image = entry.get("image") if isinstance(entry, dict) else None
            where = ("spec", "relatedImages", i, "image")
            location = Location(self.csv.path, self.csv.line_of(where) or 1)
            shown = f"{self.csv.path}: spec.relatedImages[{i}].image"
            if not isinstance(image, str):
                raise InputError("expected an image reference", path=self.csv.path, line=location.line)
            digest = pinned_digest(image)
            if digest is None:
                out.append(
                    OLM_RELATED_IMAGE_UNPINNED.finding(
                        f"{shown}: {image!r} is not pinned by digest; expected NAME@sha256:<digest>",
                        location=location,
                        image=image,
                    )
                )
            elif image not in declared and digest not in declared_digests:
                out.append(
                    OLM_RELATED_IMAGE_UNDECLARED.finding(
                        f"{shown}: {image!r} is not in plugin.yaml's spec.images; expected every image OLM may "
                        "pull to be declared",
                        location=location,
                        image=image,
                    )
                )
        return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
