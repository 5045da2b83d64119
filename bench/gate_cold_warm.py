"""Cold and warm gate of a bundle with about 1,000 dependencies, against raw `syft … && grype …`.

    python bench/gate_cold_warm.py [--reps 3] [--deps 1000] [--pause 1.0]

Builds once a deterministic bundle (.tgz) under ~/.cache/plugingate/bench/: plugin.yaml, a
requirements.txt, a package-lock.json and a go.mod that together list about 1,000 pinned packages
(a few of them vulnerable in the project's database). Then, for each repetition (raw and cold swap
places every repetition; each timed run starts after `--pause` seconds of rest):

- raw: `syft scan dir:TREE -o cyclonedx-json=… && grype sbom:… -o json`, on the unpacked tree, with
  an explicit configuration, HOME and working folder outside the bundle (as plugingate runs them:
  the bundle must not be able to change their configuration either);
- raw, all formats: the same, with syft writing the three SBOMs the gate writes (syft JSON,
  CycloneDX, SPDX) in its one run: for reference, the plain tools doing all of the gate's tool work;
- cold: a whole `gate` (digest + unpack, signature/provenance/capability/manifest checks beside
  syft, grype beside the conversion into CycloneDX and SPDX, decision, reports) with an empty result
  cache, in a fresh Python process;
- warm: the same gate again, with the cache the cold run filled: neither tool runs.

Gate times are measured two ways: `run_gate` inside the child process (what the pipeline costs) and
the child's whole wall time (adding the interpreter's start-up and imports). Peak memory: the
gate process's own peak RSS plus the most its tools held at once (syft's catalogue alone, or the
conversion and grype together), against syft's own peak in the raw run.
Goals: cold at most 1.05x raw; warm at most 0.05x cold; memory at most syft's peak + 100 MiB.
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
import tarfile
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("PLUGINGATE_CACHE") or Path.home() / ".cache" / "plugingate")
POLICY = """apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: bench}
spec:
  signature: {required: false, trustedSigners: []}
  vulnerabilities:
    database: {allowTestDatabase: true}
"""
SYFT_CONFIG = 'check-for-app-update: false\nselect-catalogers: ["+javascript-package-cataloger"]\n'


def build_bundle(deps: int) -> Path:
    """The bench bundle (.tgz), built once per size and reused."""
    out = CACHE / "bench" / f"deps{deps}.tgz"
    if out.is_file():
        return out
    tree = Path(tempfile.mkdtemp(prefix="pg-bench-tree-"))
    root = tree / "bundle"
    (root / "app" / "py").mkdir(parents=True)
    (root / "app" / "js").mkdir(parents=True)
    (root / "app" / "go").mkdir(parents=True)
    n_py, n_go = deps * 35 // 100, deps * 25 // 100
    n_js = deps - n_py - n_go
    (root / "plugin.yaml").write_text(
        "apiVersion: plugingate.dev/v1\nkind: Plugin\n"
        "metadata: {name: bench-1000, version: 1.0.0, publisher: acme.example}\nspec:\n  capabilities: {}\n"
    )
    py = ["requests==2.25.0", "pyyaml==5.3.1"] + [f"pgbench-py-{i:04d}==1.{i % 7}.{i % 11}" for i in range(n_py - 2)]
    (root / "app" / "py" / "requirements.txt").write_text("\n".join(py) + "\n")
    packages: dict[str, object] = {"": {"name": "bench-ui", "version": "1.0.0"}}
    for name, version in [("lodash", "4.17.20"), ("minimist", "1.2.5")] + [
        (f"pgbench-js-{i:04d}", f"2.{i % 5}.{i % 13}") for i in range(n_js - 2)
    ]:
        packages[f"node_modules/{name}"] = {
            "version": version,
            "resolved": f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz",
            "integrity": "sha512-AAAA",
        }
    lock = {"name": "bench-ui", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": packages}
    (root / "app" / "js" / "package-lock.json").write_text(json.dumps(lock, indent=1))
    go = ["golang.org/x/text v0.3.7"] + [f"example.com/pgbench/mod{i:04d} v0.{i % 9}.{i % 17}" for i in range(n_go - 1)]
    (root / "app" / "go" / "go.mod").write_text(
        "module example.com/acme/bench\n\ngo 1.22\n\nrequire (\n" + "".join(f"\t{line}\n" for line in go) + ")\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    from plugingate.bundle import pack_directory

    pack_directory(root, out)
    shutil.rmtree(tree)
    return out


def raw(tree: Path, work: Path, env: dict[str, str], *, all_formats: bool = False) -> dict[str, float]:
    """`syft … && grype …` with explicit configs, HOME and working folder outside the bundle.

    ``tree`` is a folder (scanned as ``dir:``) or an archive, which syft unpacks itself.
    """
    work.mkdir(parents=True, exist_ok=True)
    (work / "home").mkdir(exist_ok=True)
    (work / "syft.yaml").write_text(SYFT_CONFIG)
    (work / "grype.yaml").write_text(
        f"check-for-app-update: false\ndb:\n  cache-dir: {json.dumps(env['GRYPE_DB_CACHE_DIR'])}\n"
        "  auto-update: false\n  validate-age: false\n  require-update-check: false\n"
    )
    tool_env = {"PATH": "/usr/bin:/bin", "HOME": str(work / "home"), "TMPDIR": str(work)}
    sbom, vulns = work / "sbom.cdx.json", work / "grype.json"
    more = ["-o", f"syft-json={work / 'sbom.syft.json'}", "-o", f"spdx-json={work / 'sbom.spdx.json'}"]
    started = time.perf_counter()
    syft, syft_cpu = _wait(
        [
            env["PLUGINGATE_SYFT"],
            "scan",
            f"dir:{tree}" if tree.is_dir() else str(tree),
            "-c",
            str(work / "syft.yaml"),
            "-q",
            "-o",
            f"cyclonedx-json={sbom}",
            *(more if all_formats else []),
        ],
        work,
        tool_env,
    )
    grype, grype_cpu = _wait(
        [
            env["PLUGINGATE_GRYPE"],
            f"sbom:{sbom}",
            "-c",
            str(work / "grype.yaml"),
            "-q",
            "-o",
            "json",
            "--file",
            str(vulns),
        ],
        work,
        tool_env,
    )
    seconds = time.perf_counter() - started
    matches = len(json.loads(vulns.read_text())["matches"])
    components = len(json.loads(sbom.read_text()).get("components", []))
    return {
        "seconds": seconds,
        "cpu": syft_cpu + grype_cpu,
        "syft_rss_mib": syft / 1024,
        "grype_rss_mib": grype / 1024,
        "matches": matches,
        "components": components,
    }


def _wait(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, float]:
    """Run one tool; its peak RSS (KiB) and CPU seconds (user + system)."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{argv[0]} failed: exit {proc.returncode}")
    return int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime


def child(bundle: str, out: str, policy: str) -> None:
    """One gate in this (fresh) process; prints its timings and peak memory as JSON."""
    from dataclasses import replace

    from plugingate.gate import GateRequest, run_gate
    from plugingate.policy import load_policy
    from plugingate.steps import default_steps

    request = GateRequest(bundle=Path(bundle), policy=load_policy(Path(policy)), out_dir=Path(out))
    steps = default_steps()
    note = ""
    started = time.perf_counter()
    try:
        result = run_gate(request, steps)
    except Exception as exc:  # NOTE: another step's bug must not hide this bench's numbers
        note = f"full gate failed ({type(exc).__name__}: {exc}); measured without attestations and reports"
        from plugingate.findings import Step
        from plugingate.result import StepResult, StepStatus

        skipped = StepResult(Step.ATTESTATION, StepStatus.SKIPPED, "bench fallback: not signed")
        steps = replace(steps, attest=lambda ctx, res: (skipped, {}), outputs=lambda ctx, res: {})
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        result = run_gate(request, steps)
    seconds = time.perf_counter() - started
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    by_step = {str(s.step): round(s.seconds, 3) for s in result.steps}
    cached = {str(s.step): s.details.get("cached") for s in result.steps if "cached" in s.details}
    rss = {str(s.step): s.details for s in result.steps}

    def kib(step: str, key: str = "maxRssKib") -> int:
        return int(str(rss.get(step, {}).get(key, 0)))

    # NOTE: syft's catalogue runs alone; its conversion runs beside grype, so those two add up.
    tool_rss = max(kib("sbom"), kib("sbom", "convertMaxRssKib") + kib("vulnerabilities"))
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "verdict": str(result.verdict),
                "steps": by_step,
                "cached": cached,
                "self_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "tools_rss_mib": tool_rss / 1024,
                "note": note,
            }
        )
    )


def setup_env(script: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The ``export NAME=VALUE`` lines a setup script prints, as a mapping."""
    done = subprocess.run(
        [str(REPO / "scripts" / script), "--print-env", "--quiet"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    pairs = (line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {name: value.strip("'\"") for name, value in pairs}


def tool_env() -> dict[str, str]:
    """The pinned tools and a vulnerability database, as ``scripts/setup-tools`` provides them.

    # NOTE: the project's test database unless the caller chose a source: timing needs no real data.
    """
    return setup_env("setup-tools", {"PLUGINGATE_DB_SOURCE": os.environ.get("PLUGINGATE_DB_SOURCE", "test")})


def run_child(script: str, args: list[str], env: dict[str, str]) -> dict[str, object]:
    """``script --child ARGS`` in a fresh Python process: its last JSON line, with the whole wall time added."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, script, "--child", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"gate child failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    doc: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    doc["wall"] = wall
    return doc


def gate(bundle: Path, out: Path, policy: Path, env: dict[str, str]) -> dict[str, object]:
    """A gate in a fresh Python process; adds the process's whole wall time."""
    return run_child(__file__, [str(bundle), str(out), str(policy)], env)


def num(run: Mapping[str, object], key: str) -> float:
    """One measure of one run (the child's JSON holds numbers; ``str`` keeps the typing honest)."""
    return float(str(run[key]))


def column(runs: Sequence[Mapping[str, object]], key: str, pick: Callable[[list[float]], float]) -> float:
    """One measure over all repetitions (``statistics.median``, ``min`` or ``max`` of ``key``)."""
    return pick([num(run, key) for run in runs])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--deps", type=int, default=1000)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds of rest before each timed run")
    parser.add_argument("--child", nargs=3, metavar=("BUNDLE", "OUT", "POLICY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    tools = tool_env()
    bundle = build_bundle(args.deps)
    scratch = Path(tempfile.mkdtemp(prefix="pg-bench-"))
    try:
        policy = scratch / "policy.yaml"
        policy.write_text(POLICY)
        tree = scratch / "tree"
        with tarfile.open(bundle) as tar:
            tar.extractall(tree, filter="data")
        raws, raws_all, colds, warms = [], [], [], []
        # NOTE: an installed plugingate runs from compiled bytecode; a shell that sets
        # PYTHONDONTWRITEBYTECODE (some sandboxes do) would make every gate recompile its modules.
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "plugingate")], env=base, check=True)
        for rep in range(args.reps):
            env = {**base, **tools, "PLUGINGATE_RESULT_CACHE": str(scratch / f"cache{rep}")}
            # NOTE: raw and cold swap places every repetition, and each timed run starts after a pause:
            # on a shared 2-core host the second of two back-to-back runs is measurably slower.
            first_raw = rep % 2 == 0
            for kind in ("raw", "cold") if first_raw else ("cold", "raw"):
                time.sleep(args.pause)
                if kind == "raw":
                    raws.append(raw(tree, scratch / f"raw{rep}", tools))
                else:
                    colds.append(gate(bundle, scratch / f"cold{rep}", policy, env))
            time.sleep(args.pause)
            warms.append(gate(bundle, scratch / f"warm{rep}", policy, env))
            time.sleep(args.pause)
            raws_all.append(raw(tree, scratch / f"rawall{rep}", tools, all_formats=True))
            print(
                f"rep {rep + 1}: raw {raws[-1]['seconds']:.2f} s, cold {colds[-1]['seconds']:.2f} s "
                f"(wall {colds[-1]['wall']:.2f} s), warm {warms[-1]['seconds']:.3f} s (wall {warms[-1]['wall']:.2f} s)",
                file=sys.stderr,
            )
        med = statistics.median
        raw_s = column(raws, "seconds", med)
        cold_s, cold_wall = column(colds, "seconds", med), column(colds, "wall", med)
        warm_s, warm_wall = column(warms, "seconds", med), column(warms, "wall", med)
        syft_peak = column(raws, "syft_rss_mib", max)
        gate_peak = max(num(c, "self_rss_mib") + num(c, "tools_rss_mib") for c in colds)
        print(
            f"bundle: {bundle} ({bundle.stat().st_size} bytes), {raws[0]['components']} SBOM components, "
            f"{raws[0]['matches']} grype matches; verdict {colds[0]['verdict']}"
        )
        if colds[0]["note"]:
            print(f"NOTE: {colds[0]['note']}")
        raw_cpu, cold_cpu, warm_cpu = column(raws, "cpu", med), column(colds, "cpu", med), column(warms, "cpu", med)
        print(
            f"CPU time (user+system; steadier under load): raw {raw_cpu:.2f} s, cold gate process {cold_cpu:.2f} s "
            f"(ratio {cold_cpu / raw_cpu:.3f}), warm gate process {warm_cpu:.2f} s"
        )
        print(f"cold gate steps (last rep): {colds[-1]['steps']}")
        print(f"warm gate cached: {warms[-1]['cached']}")
        raw_all_s = column(raws_all, "seconds", med)
        print(f"raw syft && grype      {raw_s:7.3f} s   (median of {args.reps})")
        print(f"  (syft writing all three SBOM formats: {raw_all_s:.3f} s; cold gate to it {cold_s / raw_all_s:.3f})")
        print(f"cold gate (run_gate)   {cold_s:7.3f} s   ratio {cold_s / raw_s:.3f}  (goal <= 1.05)")
        # NOTE: each repetition runs raw and cold back to back, so the median of their per-repetition
        # ratios cancels most of a shared host's drift; best of N is the least disturbed run of each.
        paired = med(num(c, "seconds") / num(r, "seconds") for r, c in zip(raws, colds, strict=True))
        paired_wall = med(num(c, "wall") / num(r, "seconds") for r, c in zip(raws, colds, strict=True))
        print(f"  paired (median of per-repetition ratios): run_gate {paired:.3f}, process {paired_wall:.3f}")
        best_raw, best_cold = column(raws, "seconds", min), column(colds, "seconds", min)
        best_wall = column(colds, "wall", min)
        print(
            f"  best of {args.reps}: raw {best_raw:.3f} s, cold {best_cold:.3f} s (ratio {best_cold / best_raw:.3f}), "
            f"process {best_wall:.3f} s (ratio {best_wall / best_raw:.3f})"
        )
        print(f"cold gate (process)    {cold_wall:7.3f} s   ratio {cold_wall / raw_s:.3f}")
        print(f"warm gate (run_gate)   {warm_s:7.3f} s   ratio to cold {warm_s / cold_s:.3f}  (goal <= 0.05)")
        print(f"warm gate (process)    {warm_wall:7.3f} s   ratio to cold {warm_wall / cold_wall:.3f}")
        self_peak, tool_peak = column(colds, "self_rss_mib", max), column(colds, "tools_rss_mib", max)
        print(
            f"peak memory: syft alone {syft_peak:.0f} MiB; gate process {self_peak:.0f} MiB "
            f"+ tools at once {tool_peak:.0f} MiB = {gate_peak:.0f} MiB (goal <= {syft_peak + 100:.0f} MiB)"
        )
        print(f"load average at the end: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
