"""What the second reading of the manifests (kubectl's, by tools/k8sdecode) costs a cold gate.

    python bench/second_reading.py [--reps 5] [--objects 1000] [--pause 1.0]

Two bundles: the example plugin (examples/acme-exporter.tgz, its signature beside it, gated with
policies/default.yaml) and a generated one with ``--objects`` Kubernetes objects in 50 manifest files
(ConfigMaps, Deployments, Services; built once under ~/.cache/plugingate/bench/). For each bundle
and repetition, a cold gate (fresh Python process, empty result cache) runs twice: with both readings
(the gate as shipped) and with the Python reading alone (the same steps, but ``load_manifests``
without ``second_reading``; this switch exists only in the bench, never in the gate). The two swap
places every repetition and each starts after ``--pause`` seconds of rest.

It prints, per bundle, the medians of ``run_gate`` and of the manifests step, the median of the
per-repetition ratios (paired) and the best of N, with both readings over the Python one alone, and
the CPU time of the gate process with its tools (steadier than wall time on a shared host).
Goal (issue 11, together with the strict archive reader and the image proofs): at most 1.05.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from gate_cold_warm import num, run_child, tool_env  # noqa: E402

CACHE = Path(os.environ.get("PLUGINGATE_CACHE") or Path.home() / ".cache" / "plugingate")
POLICY = """apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: bench}
spec:
  signature: {required: false, trustedSigners: []}
  vulnerabilities:
    database: {allowTestDatabase: true}
"""
IMAGE = "registry.example.com/bench/app@sha256:" + "ab" * 32


def _object(i: int) -> str:
    kind = ("ConfigMap", "ConfigMap", "Deployment", "Service")[i % 4]
    if kind == "ConfigMap":
        return (
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  labels: {{app: bench, idx: '{i}'}}\n"
            f"data:\n  key: value-{i}\n  enabled: 'true'\n  config.ini: |\n    [section]\n    idx = {i}\n"
        )
    if kind == "Service":
        return (
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\nspec:\n  selector: {{app: bench}}\n"
            "  ports:\n  - port: 8080\n    targetPort: 8080\n"
        )
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\nspec:\n  replicas: 1\n"
        f"  selector:\n    matchLabels: {{app: bench}}\n  template:\n    metadata:\n      labels: {{app: bench}}\n"
        f"    spec:\n      automountServiceAccountToken: false\n      securityContext:\n        runAsNonRoot: true\n"
        f"        seccompProfile: {{type: RuntimeDefault}}\n      containers:\n      - name: app\n"
        f"        image: {IMAGE}\n        ports:\n        - containerPort: 8080\n"
        "        resources:\n          limits: {cpu: 100m, memory: 64Mi}\n"
        "        securityContext:\n          allowPrivilegeEscalation: false\n          readOnlyRootFilesystem: true\n"
        "          capabilities: {drop: [ALL]}\n"
    )


def build_bundle(objects: int) -> Path:
    """The bench bundle with ``objects`` manifest objects (.tgz), built once per size and reused."""
    out = CACHE / "bench" / f"manifests{objects}.tgz"
    if out.is_file():
        return out
    tree = Path(tempfile.mkdtemp(prefix="pg-bench-manifests-"))
    root = tree / "bundle"
    (root / "deploy").mkdir(parents=True)
    (root / "plugin.yaml").write_text(
        "apiVersion: plugingate.dev/v1\nkind: Plugin\n"
        f"metadata: {{name: bench-manifests, version: 1.0.0, publisher: acme.example}}\nspec:\n"
        f"  images: [{{name: app, ref: '{IMAGE}'}}]\n  manifests: deploy/\n"
        "  capabilities:\n    network:\n      ingress: [{port: 8080, reason: serve}]\n"
        "    privileges: {runAsNonRoot: true}\n    resources: {cpu: 100m, memory: 64Mi}\n"
    )
    files = 50
    for f in range(files):
        docs = [_object(i) for i in range(f, objects, files)]
        (root / "deploy" / f"part-{f:02d}.yaml").write_text("---\n".join(docs))
    out.parent.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(REPO))
    from plugingate.bundle import pack_directory

    pack_directory(root, out)
    shutil.rmtree(tree, ignore_errors=True)
    return out


def child(mode: str, bundle: str, out: str, policy: str) -> None:
    """One cold gate in this fresh process, with both readings or the Python one alone; prints JSON."""
    from dataclasses import replace

    from plugingate.gate import GateRequest, run_gate
    from plugingate.manifests.step import manifests_step
    from plugingate.pipeline import StepContext
    from plugingate.policy import load_policy
    from plugingate.result import StepResult
    from plugingate.steps import default_steps

    steps = default_steps()
    if mode == "python":

        def python_only(ctx: StepContext) -> StepResult:
            from plugingate.findings import Step
            from plugingate.manifests import check_manifests, load_manifests
            from plugingate.pipeline import count_summary, status_of

            manifests = load_manifests(ctx.bundle.root, ctx.declaration)
            findings = check_manifests(manifests, ctx.declaration, ctx.request.policy.capabilities)
            summary = count_summary(findings, f"{len(manifests.objects)} Kubernetes object(s)")
            return StepResult(Step.MANIFESTS, status_of(findings), summary, tuple(findings))

        steps = replace(steps, manifests=python_only)
    else:
        steps = replace(steps, manifests=manifests_step)
    request = GateRequest(bundle=Path(bundle), policy=load_policy(Path(policy)), out_dir=Path(out))
    started = time.perf_counter()
    result = run_gate(request, steps)
    seconds = time.perf_counter() - started
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    by_step = {str(s.step): s.seconds for s in result.steps}
    manifests = next(s for s in result.steps if str(s.step) == "manifests")
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
                "manifests": by_step.get("manifests", 0.0),
                "sbom": by_step.get("sbom", 0.0),
                "verdict": str(result.verdict),
                "summary": manifests.summary,
            }
        )
    )


def gate(mode: str, bundle: Path, out: Path, policy: Path, env: dict[str, str]) -> dict[str, object]:
    """A cold gate in a fresh Python process; adds the process's whole wall time."""
    return run_child(__file__, [mode, str(bundle), str(out), str(policy)], env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds of rest before each timed run")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "BUNDLE", "OUT", "POLICY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    tools = tool_env()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base["PYTHONPATH"] = str(REPO)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "plugingate")], env=base, check=True)
    scratch = Path(tempfile.mkdtemp(prefix="pg-bench-reading-"))
    try:
        bench_policy = scratch / "policy.yaml"
        bench_policy.write_text(POLICY)
        bundles = {
            "example plugin": (
                REPO / "examples" / "acme-exporter.tgz",
                REPO / "testdata" / "policies" / "default-test-db.yaml",
            ),
            f"{args.objects} manifest objects": (build_bundle(args.objects), bench_policy),
        }
        for label, (bundle, policy) in bundles.items():
            runs: dict[str, list[dict[str, object]]] = {"both": [], "python": []}
            for rep in range(args.reps):
                order = ("both", "python") if rep % 2 == 0 else ("python", "both")
                for mode in order:
                    time.sleep(args.pause)
                    env = {**base, **tools, "PLUGINGATE_RESULT_CACHE": str(scratch / f"cache-{label}-{rep}-{mode}")}
                    runs[mode].append(gate(mode, bundle, scratch / f"out-{rep}-{mode}", policy, env))
                print(
                    f"{label} rep {rep + 1}: both {num(runs['both'][-1], 'seconds'):.3f} s, "
                    f"python alone {num(runs['python'][-1], 'seconds'):.3f} s",
                    file=sys.stderr,
                )
            med = statistics.median
            both = [num(r, "seconds") for r in runs["both"]]
            alone = [num(r, "seconds") for r in runs["python"]]
            paired = med(b / a for b, a in zip(both, alone, strict=True))
            step_both = med(num(r, "manifests") for r in runs["both"])
            step_alone = med(num(r, "manifests") for r in runs["python"])
            print(f"{label}: {bundle.name}, {runs['both'][0]['summary']}; verdict {runs['both'][0]['verdict']}")
            print(f"  cold run_gate, both readings   {med(both):7.3f} s (best {min(both):.3f})")
            print(f"  cold run_gate, Python alone    {med(alone):7.3f} s (best {min(alone):.3f})")
            print(
                f"  ratio: medians {med(both) / med(alone):.3f}, paired {paired:.3f}, best {min(both) / min(alone):.3f}"
                "  (goal <= 1.05 with the other items of issue 11)"
            )
            print(f"  manifests step (beside syft): {step_both:.3f} s with both, {step_alone:.3f} s alone")
            cpu_both = med(num(r, "cpu") for r in runs["both"])
            cpu_alone = med(num(r, "cpu") for r in runs["python"])
            print(
                f"  CPU time (user+system, gate process and its tools; steadier under load): {cpu_both:.2f} s "
                f"with both, {cpu_alone:.2f} s alone, ratio {cpu_both / cpu_alone:.3f}"
            )
        print(f"load average at the end: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
