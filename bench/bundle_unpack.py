"""Benchmark: digest + safe unpack of a ~1 GiB bundle in one pass, against `tar -xzf` alone.

    python bench/bundle_unpack.py [--reps 3] [--size-mib 1024]

The bundle is built once and cached under ~/.cache/plugingate/bench/ (deterministic content: many
files, a mix of incompressible binaries, compressible text and small files, like a plugin that ships
image archives, charts and manifests). Each repetition runs `tar -xzf` into an empty folder and
`open_bundle` (sha256 of the archive + unpack), alternately, on the same file from the page cache;
the folder removal is not timed for either. Prints both times and the ratio (goal: at most 1.1x).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from plugingate.bundle import BundleLimits, open_bundle

CACHE = Path.home() / ".cache" / "plugingate" / "bench"
WORDS = [
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "labels",
    "spec",
    "containers",
    "image",
    "ports",
    "resources",
    "limits",
    "requests",
    "cpu",
    "memory",
    "env",
    "value",
    "secretKeyRef",
    "configMap",
    "volumeMounts",
    "mountPath",
    "readOnly",
    "true",
    "false",
    "func",
    "return",
    "if",
    "else",
    "for",
    "range",
    "struct",
    "interface",
    "package",
    "import",
    "error",
    "nil",
    "string",
    "int64",
    "bytes",
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "with",
    "as",
    "was",
    "on",
    "by",
    "be",
    "this",
    "are",
    "from",
    "or",
    "have",
    "an",
    "they",
    "which",
]


def _text(rng: random.Random, size: int) -> bytes:
    """Compressible text (roughly like source code and YAML: about 3-5x with gzip)."""
    out: list[str] = []
    n = 0
    while n < size:
        line = " ".join(rng.choices(WORDS, k=rng.randint(3, 12))) + f" {rng.randint(0, 1 << 20)}\n"
        out.append(line)
        n += len(line)
    return "".join(out).encode()[:size]


def build(path: Path, target_mib: int) -> None:
    """Write the benchmark bundle: deterministic, so every machine benchmarks the same bytes."""
    rng = random.Random(20261129)
    corpus = _text(rng, 16 << 20)
    tmp = path.with_suffix(".tmp")
    budget = target_mib << 20
    with tarfile.open(tmp, "w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:

        def add(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))

        add("plugin.yaml", b"apiVersion: plugingate.dev/v1\nkind: Plugin\nmetadata: {name: bench}\n")
        i = 0
        raw = tar.fileobj.fileobj  # type: ignore[attr-defined]  # NOTE: the compressed file, not the tar stream
        while raw.tell() < budget:
            kind = i % 10
            if kind < 3:  # incompressible: image layers, binaries, wheels
                add(f"images/layer-{i:05d}.bin", rng.randbytes(rng.randint(1 << 20, 6 << 20)), 0o755)
            elif kind < 7:  # text: sources, charts, vendored code
                start = rng.randrange(0, len(corpus) - (1 << 20))
                add(f"src/pkg{i % 97:02d}/file-{i:05d}.go", corpus[start : start + rng.randint(4 << 10, 1 << 20)])
            else:  # many small files: manifests, docs
                for j in range(20):
                    start = rng.randrange(0, len(corpus) - 4096)
                    add(f"deploy/d{i:05d}/m{j:02d}.yaml", corpus[start : start + rng.randint(200, 4096)])
            i += 1
    tmp.replace(path)


def time_tar(archive: Path, work: Path) -> float:
    dest = Path(tempfile.mkdtemp(dir=work))
    start = time.perf_counter()
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(dest)], check=True)
    elapsed = time.perf_counter() - start
    shutil.rmtree(dest)
    return elapsed


def time_open(archive: Path, work: Path, limits: BundleLimits) -> tuple[float, str, int, int]:
    start = time.perf_counter()
    with open_bundle(archive, limits, tmp_parent=work) as bundle:
        elapsed = time.perf_counter() - start
        return elapsed, bundle.sha256, bundle.files, bundle.unpacked_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=1024, help="compressed size of the bundle")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"bundle-{args.size_mib}m-v2.tgz"
    if not archive.exists():
        print(f"building {archive} (once) ...", flush=True)
        started = time.perf_counter()
        build(archive, args.size_mib)
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    size = archive.stat().st_size
    limits = BundleLimits(max_archive_bytes=8 << 30, max_unpacked_bytes=16 << 30, max_files=1_000_000)
    work = Path(tempfile.mkdtemp(prefix="plugingate-bench-"))
    try:
        with archive.open("rb") as f:  # NOTE: warm the page cache so both read from memory
            while f.read(8 << 20):
                pass
        tar_times: list[float] = []
        open_times: list[float] = []
        for _ in range(args.reps):
            tar_times.append(time_tar(archive, work))
            elapsed, digest, files, unpacked = time_open(archive, work, limits)
            open_times.append(elapsed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    best_tar, best_open = min(tar_times), min(open_times)
    med_tar, med_open = statistics.median(tar_times), statistics.median(open_times)
    print(f"bundle: {archive} ({size / 2**20:.0f} MiB, {files} entries, {unpacked / 2**20:.0f} MiB unpacked)")
    print(f"sha256: {digest}")
    print(f"cpus: {os.cpu_count()}, repetitions: {args.reps}")
    print(f"tar -xzf alone:           best {best_tar:6.2f} s   median {med_tar:6.2f} s")
    print(f"open_bundle (sha+unpack): best {best_open:6.2f} s   median {med_open:6.2f} s")
    print(
        f"ratio open_bundle / tar:  best {best_open / best_tar:5.2f}x  "
        f"median {med_open / med_tar:5.2f}x (goal <= 1.10x)"
    )


if __name__ == "__main__":
    main()
