"""Keyless signing against the private Sigstore on loopback: start-up, one signature, one verification.

    python bench/keyless.py [--reps 5] [--starts 3]

Needs the builds of ``scripts/setup-sigstore-tools`` and cosign (``scripts/setup-tools``). Measures,
and prints the median (and min/max) of:

- fixture start-up: the private Sigstore of tests/support/sigstore_local.py (OIDC issuer, Fulcio on
  a file CA, TesseraCT, timestamp authority, MariaDB + Trillian + Rekor v1), ``--starts`` times;
- one keyless signature with ``plugingate sign --keyless`` run in-process: the first in a fresh
  Python process (imports, trust config, Fulcio certificate, TSA, Rekor) and the later ones in the
  same process (a new token and certificate each time, as each CI job has);
- one keyless verification with ``plugingate verify-signature`` in-process, first and later;
- whole commands in fresh processes, against cosign v3.1.3 doing the same work on the same instance:
  ``plugingate sign --keyless`` / ``cosign sign-blob --signing-config --trusted-root --bundle`` and
  ``plugingate verify-signature`` / ``cosign verify-blob --trusted-root --bundle``, and their ratios.

Each child run gets a fresh token minted by the fixture's issuer. Reproducible: the same instance
layout, the same artifact size (1 MiB), the numbers vary only with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gate_cold_warm import setup_env  # noqa: E402


def _artifact(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(os.urandom(1 << 20))
    return path


def child(trust_config: str, trusted_root: str, tokens: str, folder: str, identity: str, issuer: str) -> None:
    """In a fresh process: sign and verify in-process, the first time and the later times."""
    from tests.signature.cliutil import invoke

    work = Path(folder)
    signs: list[float] = []
    verifies: list[float] = []
    for i, token in enumerate(json.loads(Path(tokens).read_text())):
        token_file = work / f"token-{i}.jwt"
        token_file.write_text(token)
        artifact = _artifact(work, f"artifact-{i}.tgz")
        began = time.perf_counter()
        signed = invoke("sign", artifact, "--keyless", "--trust-config", trust_config, "--identity-token", token_file)
        signs.append(time.perf_counter() - began)
        if signed.code:
            raise SystemExit(f"sign failed: {signed.output}")
        began = time.perf_counter()
        checked = invoke(
            "verify-signature", artifact, "--bundle", f"{artifact}.sigstore.json", "--identity", identity,
            "--issuer", issuer, "--trusted-root", trusted_root,
        )  # fmt: skip
        verifies.append(time.perf_counter() - began)
        if checked.code:
            raise SystemExit(f"verify failed: {checked.output}")
    print(json.dumps({"sign": signs, "verify": verifies}))


def _timed(argv: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=300)
    took = time.perf_counter() - began
    if done.returncode:
        raise SystemExit(f"{argv[0]} {argv[1]} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return took


def _row(name: str, values: list[float]) -> str:
    return (
        f"{name:<58} median {statistics.median(values):7.3f} s   "
        f"min {min(values):7.3f}   max {max(values):7.3f}   (n={len(values)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="signatures and verifications per measure")
    parser.add_argument("--starts", type=int, default=3, help="fixture start-ups")
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    os.environ.update(setup_env("setup-sigstore-tools"))
    tools = setup_env("setup-tools", {"PLUGINGATE_DB_SOURCE": "test"})
    cosign = tools.get("PLUGINGATE_COSIGN") or str(Path.home() / ".cache/plugingate/tools/cosign-v3.1.3/cosign")
    from tests.support.oidc_issuer import github_claims, github_identity
    from tests.support.sigstore_local import running_sigstore

    starts: list[float] = []
    with tempfile.TemporaryDirectory(prefix="plugingate-bench-keyless-") as tmp:
        scratch = Path(tmp)
        for n in range(args.starts):
            with running_sigstore(scratch / f"start-{n}") as instance:
                starts.append(instance.started_in)
        with running_sigstore(scratch / "instance") as instance:
            identity, issuer = github_identity(), instance.github_issuer()
            env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(scratch / "home")}
            (scratch / "home").mkdir()

            def token() -> str:
                return instance.issuer.mint("/github", github_claims())

            # in-process, first and later, in fresh children
            first_sign: list[float] = []
            later_sign: list[float] = []
            first_verify: list[float] = []
            later_verify: list[float] = []
            for n in range(args.reps):
                folder = scratch / f"child-{n}"
                folder.mkdir()
                tokens = folder / "tokens.json"
                tokens.write_text(json.dumps([token() for _ in range(3)]))
                done = subprocess.run(
                    [sys.executable, __file__, "--child", str(instance.trust_config), str(instance.trusted_root),
                     str(tokens), str(folder), identity, issuer],
                    capture_output=True, text=True, env=env, check=False, timeout=600,
                )  # fmt: skip
                if done.returncode:
                    raise SystemExit(f"child failed:\n{done.stderr[-3000:]}")
                got = json.loads(done.stdout.strip().splitlines()[-1])
                first_sign.append(got["sign"][0])
                later_sign.extend(got["sign"][1:])
                first_verify.append(got["verify"][0])
                later_verify.extend(got["verify"][1:])

            # whole commands in fresh processes: plugingate against cosign, alternating
            pg_sign: list[float] = []
            pg_verify: list[float] = []
            co_sign: list[float] = []
            co_verify: list[float] = []
            plugingate = [sys.executable, "-m", "plugingate"]
            for n in range(args.reps):
                folder = scratch / f"cmd-{n}"
                folder.mkdir()
                token_file = folder / "token.jwt"
                token_file.write_text(token())
                mine = _artifact(folder, "mine.tgz")
                sign = ["sign", str(mine), "--keyless", "--trust-config", str(instance.trust_config)]
                pg_sign.append(_timed([*plugingate, *sign, "--identity-token", str(token_file)], env))
                check = ["verify-signature", str(mine), "--bundle", f"{mine}.sigstore.json", "--identity", identity]
                check += ["--issuer", issuer, "--trusted-root", str(instance.trusted_root)]
                pg_verify.append(_timed([*plugingate, *check], env))
                theirs = _artifact(folder, "theirs.tgz")
                bundle = folder / "theirs.cosign.json"
                trust = ["--trusted-root", str(instance.trusted_root), "--bundle", str(bundle)]
                config = ["--signing-config", str(instance.signing_config)]
                co_sign.append(_timed([cosign, "sign-blob", "--yes", "--identity-token", token(), *config, *trust,
                                       str(theirs)], env))  # fmt: skip
                who = ["--certificate-identity", identity, "--certificate-oidc-issuer", issuer]
                co_verify.append(_timed([cosign, "verify-blob", *trust, *who, str(theirs)], env))

    print(_row("private Sigstore start-up", starts))
    print(_row("keyless signature, in-process, first in a process", first_sign))
    print(_row("keyless signature, in-process, later ones", later_sign))
    print(_row("keyless verification, in-process, first in a process", first_verify))
    print(_row("keyless verification, in-process, later ones", later_verify))
    print(_row("plugingate sign --keyless (fresh process)", pg_sign))
    print(_row("cosign sign-blob (fresh process)", co_sign))
    print(_row("plugingate verify-signature (fresh process)", pg_verify))
    print(_row("cosign verify-blob (fresh process)", co_verify))
    for what, mine_, theirs_ in (("sign", pg_sign, co_sign), ("verify", pg_verify, co_verify)):
        ratio = statistics.median(mine_) / statistics.median(theirs_)
        print(f"ratio {what:<6} plugingate/cosign (medians, fresh processes): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
