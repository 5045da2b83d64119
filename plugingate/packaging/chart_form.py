"""``spec.chart``: copy, verify, scan and render a Helm chart into manifest files (``forms`` dispatches here)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from plugingate.declaration import Declaration
from plugingate.errors import InputError
from plugingate.findings import Finding, Severity
from plugingate.packaging.chart_oci import pull_chart
from plugingate.packaging.chart_scan import scan_chart
from plugingate.packaging.chart_source import bundle_file, copy_chart
from plugingate.packaging.helm import RenderSettings, render, safe_file_name, split_sources
from plugingate.packaging.model import PackagingOptions
from plugingate.packaging.rendering import RenderedFile, Rendering
from plugingate.tools.runner import ToolRunner

DEFAULT_LABEL = "default values"


def settings_of(options: PackagingOptions) -> RenderSettings:
    """The policy's chart settings as Helm's flags and bounds."""
    charts = options.charts
    return RenderSettings(
        kube_version=charts.kube_version,
        api_versions=charts.api_versions,
        timeout_seconds=charts.render_timeout.total_seconds(),
        max_output_bytes=charts.max_rendered_bytes,
    )


def release_of(declaration: Declaration) -> tuple[str, str]:
    """The release name and namespace the templates see."""
    chart = declaration.chart
    assert chart is not None
    return chart.release_name or declaration.name, chart.namespace or declaration.namespace or "default"


def render_chart(root: Path, declaration: Declaration, options: PackagingOptions, work: Path) -> Rendering:
    """Render the chart once with its defaults and once per profile; refusals instead when it is not faithful."""
    from plugingate.packaging.chartsig import verify_chart_signature

    chart = declaration.chart
    assert chart is not None
    pulled = pull_chart(declaration, work / "pulled") if chart.oci is not None else None
    copy = copy_chart(root, declaration, work, pulled)
    profiles: list[tuple[str, Path, str]] = []
    values_dir = work / "values"
    values_dir.mkdir()
    for n, profile in enumerate(chart.profiles):
        source = bundle_file(root, declaration, profile.values, f"spec.chart.profiles[{n}].values", "profiles", n)
        if not source.is_file():
            raise InputError(
                f"{profile.values!r} is not a file",
                path=declaration.path,
                line=profile.line,
                field=f"spec.chart.profiles[{n}].values",
            )
        target = values_dir / f"{n:02d}-{profile.name}.yaml"
        shutil.copyfile(source, target)
        profiles.append((f"profile {profile.name}", target, profile.values))
    findings: list[Finding] = list(verify_chart_signature(root, declaration, options, copy))
    findings += scan_chart(copy.root, copy.shown, tuple((p, shown) for _, p, shown in profiles))
    if any(f.severity is Severity.ERROR for f in findings):
        return Rendering(findings=tuple(findings))
    runner = options.runner or ToolRunner()
    settings = settings_of(options)
    release, namespace = release_of(declaration)
    files: list[RenderedFile] = []
    out = work / "rendered"
    renders = [(DEFAULT_LABEL, None), *((lb, p) for lb, p, _ in profiles)]

    def one(label: str, values: Path | None) -> tuple[str, str]:
        values_files = () if values is None else (values,)
        return render(runner, copy.root, release, namespace, settings, values_files, shown=f"{copy.shown} ({label})")

    # NOTE: the renderings are independent Helm processes: run at once (at most two), so that a chart
    # with profiles costs little more wall time than one without; results are taken in order.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="plugingate-helm") as pool:
        outputs = [pool.submit(one, label, values) for label, values in renders]
        results = [future.result() for future in outputs]
    for index, ((label, _), (output, _version)) in enumerate(zip(renders, results, strict=True)):
        folder = out / f"{index:02d}"
        folder.mkdir(parents=True)
        for number, template in enumerate(split_sources(output)):
            path = folder / safe_file_name(number, template.source)
            path.write_text(template.text, encoding="utf-8")
            # NOTE: no Origin: the shown name already names the template and the rendering it came from.
            files.append(RenderedFile(shown=f"chart {template.source} ({label})", path=path, origin=None))
    return Rendering(files=tuple(files), findings=tuple(findings), tools={"helm": results[0][1]})
