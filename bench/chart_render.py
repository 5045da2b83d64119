"""Cold gate of a 30-template Helm chart bundle against the same objects shipped as plain manifests.

    python bench/chart_render.py [--reps 5] [--pause 1.0]

Builds once, under a scratch folder, two bundles with the same objects: `chart` declares
`spec.chart` (a chart of 30 templates: a ServiceAccount, a Deployment and 28 ConfigMaps sharing a
`_helpers.tpl`), and `plain` declares `spec.manifests` with what the pinned `helm template` prints for
that chart, split one file per template. Each repetition gates both cold (an empty result cache, a
fresh Python process), the order alternating every repetition and each run after `--pause` seconds
of rest: the machine is shared, so the second of two back-to-back runs is slower.

Printed: the median wall time of `run_gate` and of the whole process, and the CPU time (user +
system of the process and its tools: steadier under load), for both bundles, and the ratios
chart / plain. Goal: rendering adds at most 10% (ratio <= 1.10).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gate_cold_warm import child, num, run_child, setup_env, tool_env

from plugingate.packaging.helm import safe_file_name, split_sources

REPO = Path(__file__).resolve().parents[1]
CASE = REPO / "testdata" / "bundles" / "pass" / "chart-minimal"
TEMPLATES = 30


def build(scratch: Path, helm: str) -> tuple[Path, Path]:
    """The chart bundle and its plain-manifests twin (the chart's own rendering, one file per template)."""
    chart_bundle = scratch / "chart"
    shutil.copytree(CASE, chart_bundle)
    (chart_bundle / "expected.yaml").unlink()
    templates = chart_bundle / "chart" / "templates"
    for n in range(TEMPLATES - 2):
        (templates / f"settings-{n:02d}.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            f"  name: app-settings-{n:02d}\n  labels:\n"
            '    {{- include "app.labels" . | nindent 4 }}\n'
            f'data:\n  replicas: {{{{ .Values.replicas | quote }}}}\n  index: "{n}"\n'
        )
    assert len([p for p in templates.iterdir() if not p.name.startswith("_")]) == TEMPLATES
    plain = scratch / "plain"
    shutil.copytree(chart_bundle, plain)
    shutil.rmtree(plain / "chart")
    deploy = plain / "deploy"
    deploy.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(scratch / "helm-home")}
    for n, (values, label) in enumerate(((None, "default"), (plain / "profiles" / "ha.yaml", "ha"))):
        args = [helm, "template", "chart-minimal", str(chart_bundle / "chart"), "--namespace", "default"]
        args += ["--include-crds", "--kube-version", "1.33.0"] + (["--values", str(values)] if values else [])
        printed = subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
        for i, part in enumerate(split_sources(printed)):
            (deploy / f"{n}-{label}-{safe_file_name(i, part.source)}").write_text(part.text)
    text = (plain / "plugin.yaml").read_text()
    start = text.index("  chart:\n")
    end = text.index("  capabilities:\n")
    (plain / "plugin.yaml").write_text(text[:start] + "  manifests: deploy/\n" + text[end:])
    return chart_bundle, plain


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--child", nargs=3, metavar=("BUNDLE", "OUT", "POLICY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    tools = {**tool_env(), **setup_env("setup-helm")}
    scratch = Path(tempfile.mkdtemp(prefix="pg-bench-chart-"))
    try:
        chart_bundle, plain = build(scratch, tools["PLUGINGATE_HELM"])
        # NOTE: the bundle cases' policy, under which both bundles pass: every check runs to the end.
        policy = REPO / "testdata" / "policies" / "cases.yaml"
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "plugingate")], env=base, check=True)
        runs: dict[str, list[dict[str, object]]] = {"chart": [], "plain": []}
        for rep in range(args.reps):
            order = ("chart", "plain") if rep % 2 == 0 else ("plain", "chart")
            for kind in order:
                env = {**base, **tools, "PLUGINGATE_RESULT_CACHE": str(scratch / f"cache-{kind}-{rep}")}
                time.sleep(args.pause)
                bundle = chart_bundle if kind == "chart" else plain
                runs[kind].append(
                    run_child(__file__, [str(bundle), str(scratch / f"out-{kind}-{rep}"), str(policy)], env)
                )
            c, p = runs["chart"][-1], runs["plain"][-1]
            print(
                f"rep {rep + 1} ({order[0]} first): chart {num(c, 'seconds'):.2f} s (cpu {num(c, 'cpu'):.2f}), "
                f"plain {num(p, 'seconds'):.2f} s (cpu {num(p, 'cpu'):.2f})",
                file=sys.stderr,
            )
        med = statistics.median
        chart_steps = runs["chart"][-1]["steps"]
        print(f"verdicts: chart {runs['chart'][0]['verdict']}, plain {runs['plain'][0]['verdict']}")
        print(f"chart gate steps (last rep): {chart_steps}")
        for key, what in (("seconds", "run_gate wall"), ("wall", "process wall"), ("cpu", "CPU (user+sys)")):
            chart_v = med(num(r, key) for r in runs["chart"])
            plain_v = med(num(r, key) for r in runs["plain"])
            paired = med(num(c, key) / num(p, key) for c, p in zip(runs["chart"], runs["plain"], strict=True))
            print(
                f"{what:15} chart {chart_v:7.3f} s   plain {plain_v:7.3f} s   ratio {chart_v / plain_v:.3f}"
                f"   (median of paired ratios {paired:.3f}; goal <= 1.10)"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
