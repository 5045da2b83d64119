"""The Go vulnerability database built from the pinned module, and a cold gate of Go binaries against it.

    python bench/go_database.py [--reps 3] [--pause 1.0] [--no-build]

1. Build: `plugingate db build` of the pinned golang.org/x/vulndb into an empty cache (the module
   itself comes from the Go module cache after its first download, as in CI; the OSV records are
   read, converted into a vunnel workspace and built into grype's SQLite database by grypedb-build
   every time). Prints the time, the database's size and its advisory count.
2. Gate: a ~50 MB bundle of real Go binaries (the test programs of testdata/gobinaries, govulncheck
   and act, all built by the setup scripts) gated cold (empty result cache, fresh process) against
   that database, beside raw `syft … && grype …` on the same bundle file (syft unpacks the .tgz
   itself) and on the same tree unpacked beforehand (unpacking not timed), with the same database,
   alternating order each repetition (see bench/gate_cold_warm.py, whose runners this reuses).
   Goal: cold gate at most 1.05x raw on the same bundle file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gate_cold_warm import column, gate, num, raw, setup_env

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("PLUGINGATE_CACHE") or Path.home() / ".cache" / "plugingate")
POLICY = """apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: bench-go}
spec:
  signature: {required: false, trustedSigners: []}
  vulnerabilities:
    failOn: high
    database: {requireProviders: [go-vulndb], minAdvisories: 1000}
"""


def build_database(tools: dict[str, str], scratch: Path) -> tuple[Path, float]:
    """``plugingate db build`` into an empty cache: the database folder and the seconds it took."""
    env = {**os.environ, **tools, "PLUGINGATE_CACHE": str(scratch / "db-cache")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "plugingate", "db", "build", "--no-make-current", "--print-env"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"plugingate db build failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    line = next(x for x in done.stdout.splitlines() if "GRYPE_DB_CACHE_DIR=" in x)
    return Path(line.split("=", 1)[1].strip("'\"")), seconds


def build_bundle(binaries: list[Path], out: Path) -> Path:
    """The bundle (.tgz) of ``binaries`` under bin/, packed as a publisher would."""
    from plugingate.bundle import pack_directory

    root = out.parent / "go-bundle"
    (root / "bin").mkdir(parents=True)
    (root / "plugin.yaml").write_text(
        "apiVersion: plugingate.dev/v1\nkind: Plugin\n"
        "metadata: {name: bench-go, version: 1.0.0, publisher: acme.example}\nspec:\n  capabilities: {}\n"
    )
    for binary in binaries:
        shutil.copy2(binary, root / "bin" / binary.name)
    pack_directory(root, out)
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds of rest before each timed run")
    parser.add_argument("--no-build", action="store_true", help="use PLUGINGATE_TEST_BUILT_DB, do not time a build")
    args = parser.parse_args()

    tools = setup_env("setup-tools", {"PLUGINGATE_DB_SOURCE": "test"})
    tests = setup_env("setup-test-binaries")
    act = os.environ.get("PLUGINGATE_ACT") or setup_env("setup-ci-tools").get("PLUGINGATE_ACT", "")
    scratch = Path(tempfile.mkdtemp(prefix="pg-bench-go-"))
    try:
        if args.no_build:
            db = Path(os.environ["PLUGINGATE_TEST_BUILT_DB"])
        else:
            db, build_s = build_database(tools, scratch)
            size = sum(p.stat().st_size for p in db.rglob("*") if p.is_file())
            print(f"database build: {build_s:.1f} s, {size / 2**20:.1f} MiB ({db})")
        status = subprocess.run(
            [sys.executable, "-m", "plugingate", "db", "status", "--format", "json"],
            capture_output=True,
            text=True,
            env={**os.environ, **tools, "GRYPE_DB_CACHE_DIR": str(db)},
            check=True,
        )
        info = json.loads(status.stdout)
        advisories = {p["name"]: p["advisories"] for p in info["providers"]}
        print(f"database: {info['source']}; advisories {advisories}")

        programs = Path(tests["PLUGINGATE_TEST_GO_BINARIES"])
        binaries = sorted(p for p in programs.iterdir() if p.is_file() and not p.name.startswith("."))
        binaries.append(Path(tests["PLUGINGATE_GOVULNCHECK"]))
        if act:
            binaries.append(Path(act))
        bundle = scratch / "bench-go.tgz"
        tree = build_bundle(binaries, bundle)
        with tarfile.open(bundle) as tar:
            tar.extractall(scratch / "tree", filter="data")
        size = sum(b.stat().st_size for b in binaries)
        print(
            f"bundle: {len(binaries)} Go binaries ({', '.join(b.name for b in binaries)}), {size / 2**20:.1f} MiB, "
            f".tgz {bundle.stat().st_size / 2**20:.1f} MiB"
        )
        shutil.rmtree(tree)
        policy = scratch / "policy.yaml"
        policy.write_text(POLICY)
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "plugingate")], env=base, check=True)
        scan_tools = {**tools, "GRYPE_DB_CACHE_DIR": str(db)}
        raws, raws_all, raws_tgz, colds = [], [], [], []
        untars: list[float] = []
        for rep in range(args.reps):
            env = {**base, **scan_tools, "PLUGINGATE_RESULT_CACHE": str(scratch / f"cache{rep}")}
            for kind in ("raw", "tgz", "cold") if rep % 2 == 0 else ("cold", "tgz", "raw"):
                time.sleep(args.pause)
                if kind == "tgz":
                    # NOTE: the same bundle file the gate reads: syft unpacks the .tgz itself.
                    raws_tgz.append(raw(bundle, scratch / f"rawtgz{rep}", scan_tools))
                elif kind == "raw":
                    # NOTE: the gate starts from the .tgz; raw from an unpacked tree. For 48 MiB of
                    # binaries unpacking is not free, so `tar -xzf` is timed too (a fresh folder each time).
                    untar = scratch / f"untar{rep}"
                    untar.mkdir()
                    started = time.perf_counter()
                    subprocess.run(["tar", "-xzf", str(bundle), "-C", str(untar)], check=True)
                    untars.append(time.perf_counter() - started)
                    raws.append(raw(untar, scratch / f"raw{rep}", scan_tools))
                else:
                    colds.append(gate(bundle, scratch / f"cold{rep}", policy, env))
            # NOTE: for reference, syft writing the three SBOMs the gate writes (the gate converts them
            # beside grype, which on a loaded two-core host still competes for a core).
            time.sleep(args.pause)
            raws_all.append(raw(scratch / "tree", scratch / f"rawall{rep}", scan_tools, all_formats=True))
            print(
                f"rep {rep + 1}: raw {raws[-1]['seconds']:.2f} s, raw on .tgz {raws_tgz[-1]['seconds']:.2f} s, "
                f"cold {colds[-1]['seconds']:.2f} s",
                file=sys.stderr,
            )
        med = statistics.median
        raw_s, cold_s, cold_wall = (
            column(raws, "seconds", med),
            column(colds, "seconds", med),
            column(colds, "wall", med),
        )
        # NOTE: grype lists one match per package found (stdlib once per binary); vulns.json merges a
        # package's locations into one match. Compared as (advisory, module, version), they must agree.
        gate_keys = {
            (m["id"], m["package"]["name"], m["package"]["version"])
            for m in json.loads((scratch / "cold0" / "vulns.json").read_text())["matches"]
        }
        raw_keys = {
            (m["vulnerability"]["id"], m["artifact"]["name"], m["artifact"]["version"])
            for m in json.loads((scratch / "raw0" / "grype.json").read_text())["matches"]
        }
        print(
            f"grype matches: raw {raws[0]['matches']} (on the .tgz {raws_tgz[0]['matches']}) "
            f"({len(raw_keys)} distinct advisory/module/version), "
            f"gate {len(gate_keys)} distinct; the same: {raw_keys == gate_keys}; verdict {colds[0]['verdict']}"
        )
        print(f"cold gate steps (last rep): {colds[-1]['steps']}")
        paired = med(num(c, "seconds") / num(r, "seconds") for r, c in zip(raws_tgz, colds, strict=True))
        print(f"raw syft && grype      {raw_s:7.3f} s   (median of {args.reps})")
        raw_all_s = column(raws_all, "seconds", med)
        print(f"  (syft writing all three SBOM formats: {raw_all_s:.3f} s; cold gate to it {cold_s / raw_all_s:.3f})")
        raw_tgz_s = column(raws_tgz, "seconds", med)
        print(f"raw syft && grype on the .tgz itself (syft unpacks it): {raw_tgz_s:.3f} s")
        print(
            f"cold gate (run_gate)   {cold_s:7.3f} s   ratio {cold_s / raw_tgz_s:.3f} to raw on the same bundle file "
            "(goal <= 1.05)"
        )
        print(f"  ratio {cold_s / raw_s:.3f} to raw on a tree unpacked beforehand (unpacking not timed)")
        with_tar = med(u + num(r, "seconds") for u, r in zip(untars, raws, strict=True))
        print(
            f"  raw with `tar -xzf` first: {with_tar:.3f} s (tar alone {med(untars):.3f} s); "
            f"cold gate to it {cold_s / with_tar:.3f}"
        )
        print(f"  paired (median of per-repetition ratios): {paired:.3f}")
        best_raw, best_cold = column(raws, "seconds", min), column(colds, "seconds", min)
        print(f"  best of {args.reps}: raw {best_raw:.3f} s, cold {best_cold:.3f} s (ratio {best_cold / best_raw:.3f})")
        print(
            f"cold gate (process)    {cold_wall:7.3f} s   ratio {cold_wall / raw_tgz_s:.3f} to raw on the same bundle "
            f"file, {cold_wall / raw_s:.3f} to raw on the unpacked tree (Python's start, imports and exit included)"
        )
        raw_cpu, cold_cpu = column(raws, "cpu", med), column(colds, "cpu", med)
        raw_all_cpu = column(raws_all, "cpu", med)
        print(
            f"CPU time (user+system; steadier under load): raw {raw_cpu:.2f} s (all formats {raw_all_cpu:.2f} s), "
            f"cold gate process {cold_cpu:.2f} s (ratio {cold_cpu / raw_cpu:.3f})"
        )
        print(f"load average at the end: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
