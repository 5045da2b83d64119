"""Benchmark: the probe's cost. A probe of the example plugin against the same program run unsandboxed.

    python bench/probe.py [--reps 3] [--duration 5]      (as root, after scripts/setup-probe-tools)

The example plugin (examples/acme-exporter) ships a Python app without an interpreter in its image
archive, which nothing can run; so the bundle here is the example's own folder (its plugin.yaml and
manifests) with that archive replaced by a FROM-scratch image of testdata/probe/declared, a static Go
program that does what the example declares (resolves and calls api-acme.example:443, lists pods with
its service-account token, writes under /tmp, reads its acme-token secret) and then idles.

For each repetition it times, wall clock:
- `plugingate probe BUNDLE --duration D` through the real CLI (unpacking the image, the namespaces,
  dnsmasq, the sink, runsc create/start, D seconds of the plugin, kill, delete, the comparison);
- the same binary started directly on the host, left to run for D seconds, then killed.
and prints the best and median of each, their ratio (the probe's overhead), the sandbox's memory peak
(its cgroup's, gVisor's kernel included) and the unsandboxed process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# NOTE: the test plugins' builder (static Go build, OCI layout tar) is the one the tests use.
from tests.probe.images import go_build, write_image  # noqa: E402


def example_bundle(work: Path) -> tuple[Path, Path]:
    """The example plugin's folder with a runnable image archive; (bundle, the image's binary)."""
    bundle = work / "acme-exporter"
    shutil.copytree(REPO / "examples" / "acme-exporter", bundle, ignore=shutil.ignore_patterns("app"))
    binary = go_build("declared", work / "declared")
    digest = write_image(binary, bundle / "image" / "exporter.oci.tar")
    manifest = bundle / "plugin.yaml"
    manifest.write_text(re.sub(r"@sha256:[0-9a-f]{64}", f"@{digest}", manifest.read_text()))
    return bundle, binary


def probe_once(bundle: Path, out: Path, duration: float) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "plugingate", "probe", str(bundle), "--out", str(out), "--duration", str(duration)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"probe failed (exit {done.returncode}): {done.stderr[-1000:]}")
    return seconds, json.loads((out / "probe.json").read_text())


def plain_once(binary: Path, duration: float) -> tuple[float, int]:
    """Wall time and peak RSS (bytes) of the binary run directly for ``duration`` seconds, then killed."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(binary)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"}
    )
    time.sleep(duration)
    proc.kill()
    # NOTE: wait4 gives this child's own rusage (RUSAGE_CHILDREN would mix in the probe's CLI processes).
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = -9
    return time.perf_counter() - start, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="plugingate-bench-probe-"))
    try:
        bundle, binary = example_bundle(work)
        probes, plains, peaks, cpus, hwm, rss = [], [], [], [], [], 0
        for rep in range(args.reps):
            seconds, report = probe_once(bundle, work / f"out-{rep}", args.duration)
            image = report["images"][0]  # type: ignore[index]
            probes.append(seconds)
            peaks.append(int(image["usage"]["memoryPeakBytes"]))
            cpus.append(float(image["usage"]["cpuSeconds"]))
            hwm.append(int(image["usage"]["sandboxRssPeakBytes"]))
            found = sorted({f["ruleId"] for f in report["findings"]})  # type: ignore[attr-defined]
            verdict = "passed" if report["passed"] else f"denied {found}"
            plain_seconds, rss = plain_once(binary, args.duration)
            plains.append(plain_seconds)
            print(f"rep {rep + 1}: probe {seconds:.2f} s ({verdict}), unsandboxed {plain_seconds:.2f} s", flush=True)
        print(f"duration {args.duration:g} s, {args.reps} repetitions")
        print(f"probe (CLI, whole run)   best {min(probes):6.2f} s  median {statistics.median(probes):6.2f} s")
        print(f"unsandboxed, same time   best {min(plains):6.2f} s  median {statistics.median(plains):6.2f} s")
        print(
            f"overhead ratio           best {min(probes) / min(plains):6.2f}x  "
            f"median {statistics.median(probes) / statistics.median(plains):6.2f}x  "
            f"(+{statistics.median(probes) - statistics.median(plains):.2f} s fixed cost per image)"
        )
        print(
            f"sandbox memory peak      max {max(peaks) / 2**20:6.1f} MiB  "
            f"median {statistics.median(peaks) / 2**20:6.1f} MiB (its cgroup: gVisor's kernel and gofer included)"
        )
        print(f"sandbox process peak RSS max {max(hwm) / 2**20:6.1f} MiB (the runsc-sandbox process's VmHWM)")
        print(f"unsandboxed peak RSS     {rss / 2**20:6.1f} MiB")
        print(f"sandbox CPU time         median {statistics.median(cpus):.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
