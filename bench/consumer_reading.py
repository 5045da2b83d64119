"""What reading a bundle as its consumers do costs a cold gate: this tree against an earlier one, same run.

    python bench/consumer_reading.py [--base 543bdad] [--reps 5] [--objects 1000] [--pause 1.0]

Issue 11 made the gate read every bundle as the cluster will: the manifests a second time with
kubectl's own decoder (tools/k8sdecode), the archive with a reader that refuses what two extractors
could read differently, and every pinned image proven to be its digest before it is scanned. None of
the three can be switched off in the gate, so this bench compares the whole gate of this tree with
the gate of ``--base`` (default: the last commit before that work), each a cold gate in a fresh
process (``--no-cache``) of the same bundle with the same tools and database, in alternating order
after a pause. Two bundles: the example plugin (an OCI image proven and scanned) and a generated one
with ``--objects`` manifest objects (bench/second_reading.py builds it).

The ratio is an upper bound on what the three readings cost: everything else the tree added since
``--base`` (more manifest rules, tool digests checked before each run, the policy's trust) is in it
too. It prints medians, the paired ratio (median of per-repetition ratios) and best of N.
Goal (issue 11): at most 1.05 for both bundles.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from gate_cold_warm import tool_env  # noqa: E402
from second_reading import build_bundle  # noqa: E402

POLICY = """apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: bench}
spec:
  signature: {required: false, trustedSigners: []}
  vulnerabilities:
    onSkippedImage: warn
"""
# NOTE: the later tree refuses the test database unless the policy allows it; the earlier one has no such key.
HEAD_POLICY = POLICY + "    database: {allowTestDatabase: true}\n"


def extract(ref: str, into: Path) -> Path:
    """The tree of ``ref`` (git archive), for its ``plugingate`` package."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "plugingate"], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def gate(tree: Path, bundle: Path, policy: Path, out: Path, env: dict[str, str]) -> float:
    """Wall seconds of one cold gate (a fresh process, no result cache) by the package in ``tree``."""
    started = time.perf_counter()
    argv = [sys.executable, "-m", "plugingate", "gate", str(bundle), "--policy", str(policy), "--out", str(out)]
    done = subprocess.run(
        [*argv, "--no-cache", "-q"],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(tree)},
        cwd=out.parent,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"gate by {tree} failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="543bdad", help="the earlier commit (default: before issue 11's work)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds of rest before each timed run")
    args = parser.parse_args()

    tools = tool_env()
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, **tools}
    scratch = Path(tempfile.mkdtemp(prefix="pg-bench-consumer-"))
    trees = {"base": extract(args.base, scratch / "base"), "head": REPO}
    policies = {"base": scratch / "base.yaml", "head": scratch / "head.yaml"}
    policies["base"].write_text(POLICY)
    policies["head"].write_text(HEAD_POLICY)
    for tree in trees.values():
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "plugingate")], check=True)
    bundles = {
        "example plugin": REPO / "examples" / "acme-exporter.tgz",
        f"{args.objects} manifest objects": build_bundle(args.objects),
    }
    print(f"base {args.base} vs this tree; {args.reps} repetitions, pause {args.pause} s")
    for label, bundle in bundles.items():
        times: dict[str, list[float]] = {"base": [], "head": []}
        for rep in range(args.reps):
            for which in ("head", "base") if rep % 2 == 0 else ("base", "head"):
                time.sleep(args.pause)
                out = scratch / f"{which}-{rep}" / "out"
                out.parent.mkdir(parents=True, exist_ok=True)
                times[which].append(gate(trees[which], bundle, policies[which], out, env))
        medians = {k: statistics.median(v) for k, v in times.items()}
        paired = statistics.median(h / b for h, b in zip(times["head"], times["base"], strict=True))
        best = min(times["head"]) / min(times["base"])
        print(
            f"{label}: this tree {medians['head']:.3f} s, base {medians['base']:.3f} s (medians); "
            f"ratio {medians['head'] / medians['base']:.3f} (medians), {paired:.3f} (paired), {best:.3f} (best of N)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
