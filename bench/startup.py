"""Benchmark: start-up time of `plugingate --help` against a bare `python -c pass`.

    python bench/startup.py [--runs 20]

Best of N wall-clock times of each command in a subprocess (best, because start-up noise only ever
adds time). The goal is `plugingate --help` in at most 0.15 s: heavy libraries (sigstore,
cryptography, rich, jsonschema, docker) must be imported lazily, inside the commands that use them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time

GOAL_SECONDS = 0.15


def best_of(cmd: list[str], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    script = shutil.which("plugingate")
    cli = [script, "--help"] if script else [sys.executable, "-m", "plugingate", "--help"]
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        (" ".join(["plugingate" if script else "python -m plugingate", "--help"]), cli),
        ("plugingate pack --help", [*cli[:-1], "pack", "--help"]),
    ]
    times = {label: best_of(cmd, args.runs) for label, cmd in rows}
    base = times["python -c pass"]
    for label, seconds in times.items():
        extra = "" if label == "python -c pass" else f"   (+{seconds - base:.3f} s over bare python)"
        print(f"{label:28s} best of {args.runs}: {seconds:.3f} s{extra}")
    help_seconds = times[rows[1][0]]
    verdict = "ok" if help_seconds <= GOAL_SECONDS else "OVER"
    print(f"goal: --help <= {GOAL_SECONDS:.2f} s: {verdict}")


if __name__ == "__main__":
    main()
