"""Rendering a chart with the real, pinned Helm (``helm template``), offline and bounded.

Helm runs through the one tool runner (pinned digest, scrubbed environment, a private folder, a
timeout, bounded stdout), with its cache, config and data homes in that folder, no repositories and
no registry configuration, so that it can reach nothing. ``--include-crds`` and the hooks are kept
(a pre-install Job runs in the cluster too); the Kubernetes version and API versions the templates
see come from the policy. Its output is split on Helm's ``# Source:`` comments, one file per
template, so that each finding names the template its object came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from plugingate.errors import InputError, ToolError
from plugingate.tools.locate import Helper
from plugingate.tools.runner import ToolRunner, last_lines

_SOURCE = re.compile(r"^# Source: (?P<source>[^\n]+)$", re.MULTILINE)
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class RenderSettings:
    """What the templates see and how far Helm may go (from the policy's ``charts`` section)."""

    kube_version: str = "1.33.0"
    api_versions: tuple[str, ...] = ()
    timeout_seconds: float = 60.0
    max_output_bytes: int = 32 << 20
    # NOTE: Helm builds a template's whole output in memory before it prints: `repeat 2000000000`
    # would take gigabytes before the output bound could see a byte. Go runs well within 2 GiB.
    max_memory_bytes: int = 2 << 30


@dataclass(frozen=True, slots=True)
class RenderedTemplate:
    """The documents one template rendered to, as Helm printed them."""

    source: str
    text: str


def helm_template_args(
    chart: Path,
    release: str,
    namespace: str,
    settings: RenderSettings,
    values: Sequence[Path] = (),
) -> list[str]:
    """The ``helm template`` arguments the gate uses (also what the differential tests run)."""
    args = [
        "template",
        release,
        str(chart),
        "--namespace",
        namespace,
        "--include-crds",
        "--kube-version",
        settings.kube_version,
    ]
    for api in settings.api_versions:
        args += ["--api-versions", api]
    for file in values:
        args += ["--values", str(file)]
    return args


def helm_env(work: str = "{work}") -> dict[str, str]:
    """Helm's homes inside the private folder, no repositories or registries: nothing to reach."""
    return {
        "HELM_CACHE_HOME": f"{work}/helm/cache",
        "HELM_CONFIG_HOME": f"{work}/helm/config",
        "HELM_DATA_HOME": f"{work}/helm/data",
        "HELM_REPOSITORY_CONFIG": f"{work}/helm/config/repositories.yaml",
        "HELM_REPOSITORY_CACHE": f"{work}/helm/cache/repository",
        "HELM_REGISTRY_CONFIG": f"{work}/helm/config/registry.json",
        "HELM_PLUGINS": f"{work}/helm/plugins",
        "HELM_NO_PLUGINS": "1",
        "HELM_DEBUG": "false",
        # NOTE: any proxy or Kubernetes configuration is absent: the runner builds the environment anew.
        "KUBECONFIG": f"{work}/helm/no-kubeconfig",
    }


def render(
    runner: ToolRunner,
    chart: Path,
    release: str,
    namespace: str,
    settings: RenderSettings,
    values: Sequence[Path] = (),
    *,
    shown: str,
) -> tuple[str, str]:
    """Helm's output for the chart (and the values files); ``(stdout, helm version)``.

    A chart Helm refuses is bad input (exit 2, Helm's message); one that does not finish in time or
    prints more than allowed could not be checked (exit 3).
    """
    try:
        run = runner.run(
            Helper.HELM,
            helm_template_args(chart, release, namespace, settings, values),
            env=helm_env(),
            timeout=settings.timeout_seconds,
            stdout_limit=settings.max_output_bytes,
            memory_limit=settings.max_memory_bytes,
        )
    except ToolError as exc:
        raise ToolError(
            f"rendering the chart {shown} failed: {exc.message}",
            tool=str(Helper.HELM),
            hint="a chart that loops or renders more than charts.maxRenderedBytes is refused; "
            "raise charts.renderTimeout or charts.maxRenderedBytes in the policy only for a chart you trust",
        ) from exc
    if run.returncode != 0:
        raise InputError(
            f"helm {run.version} cannot render the chart: {helm_reason(run.stderr, settings)}",
            path=shown,
            hint="fix the chart so that `helm template` renders it offline with the policy's kubeVersion",
        )
    return run.stdout.decode("utf-8", errors="strict"), run.version


def helm_reason(stderr: str, settings: RenderSettings) -> str:
    """Helm's own one-line reason (``Error: …``), or what ended the Go runtime, rather than a stack trace."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for prefix in ("Error:", "fatal error:", "panic:"):
        found = next((line for line in lines if line.startswith(prefix)), None)
        if found is not None:
            if "out of memory" in found:
                return f"{found} (the chart asked for more than the {settings.max_memory_bytes} bytes Helm may use)"
            return found
    return last_lines(stderr, 5)


def split_sources(output: str) -> list[RenderedTemplate]:
    """Helm's output cut into templates on its ``# Source:`` comments, in order, one entry per template.

    A document without a Source comment belongs to the template before it (Helm prints one per
    document it renders, so only a template's own text can do that); documents of a template that
    appears twice are kept together, in order.
    """
    order: list[str] = []
    parts: dict[str, list[str]] = {}
    current = "(no source)"
    for document in _SEPARATOR.split(output):
        if not document.strip():
            continue
        found = _SOURCE.search(document)
        if found is not None:
            current = found.group("source").strip()
        if current not in parts:
            order.append(current)
            parts[current] = []
        parts[current].append(document)
    return [RenderedTemplate(source, "---\n" + "---\n".join(d.lstrip("\n") for d in parts[source])) for source in order]


def safe_file_name(index: int, source: str) -> str:
    """A file name for a template's output in the work folder (the shown name is kept elsewhere)."""
    return f"{index:04d}-{_SAFE.sub('_', source)[-120:]}.yaml"
