"""The result cache: an unchanged re-gate runs neither tool; --no-cache; concurrent gates share it safely."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import stat
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from plugingate.cache import ResultCache, cache_key
from plugingate.cache import _signed_part as _signed
from plugingate.sbom import generate_sbom
from plugingate.tools import Tool, ToolRun, ToolRunner
from plugingate.vulnerabilities import scan_sbom

from .conftest import BUNDLES, TEST_DB_POLICY, policy, run_cli

NOW = datetime(2027, 1, 15, tzinfo=UTC)


class CountingRunner(ToolRunner):
    """The real runner, counting the tool runs (not the one-off `version` runs): syft twice (catalogue, convert).

    ToolRunner is slotted; this subclass has no __slots__, so it gets a __dict__ for ``runs``.
    """

    runs: list[str]

    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__(env=dict(env))
        object.__setattr__(self, "runs", [])

    def run(self, tool: Tool, args: Sequence[str], **kwargs: Any) -> ToolRun:
        self.runs.append(str(tool))
        return super().run(tool, args, **kwargs)


def _gate(runner: ToolRunner, cache: ResultCache, out: Path, *, digest: str = "sha256:" + "1" * 64) -> Any:
    sbom = generate_sbom(
        BUNDLES / "vulnerable",
        name="vuln-demo",
        version="0.3.0",
        out_dir=out,
        runner=runner,
        bundle_digest=digest,
        cache=cache,
    )
    scan = scan_sbom(
        sbom.scan_input,
        policy(),
        runner=runner,
        now=NOW,
        out_dir=out,
        cache=cache,
        policy_digest="policy-sha",
    )
    return sbom, scan


@pytest.mark.integration
def test_an_unchanged_regate_runs_neither_tool(scanners: dict[str, str], tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "cache")
    runner = CountingRunner({**os.environ, **scanners})
    cold_sbom, cold_scan = _gate(runner, cache, tmp_path / "cold")
    assert runner.runs == ["syft", "syft", "grype"]
    assert cold_sbom.scan_input == cold_sbom.syft_path
    assert not cold_sbom.cached and not cold_scan.cached

    runner.runs.clear()
    warm_sbom, warm_scan = _gate(runner, cache, tmp_path / "warm")
    assert runner.runs == []
    assert warm_sbom.cached and warm_scan.cached
    assert warm_sbom.sha256 == cold_sbom.sha256
    assert [f.to_dict() for f in warm_scan.findings] == [f.to_dict() for f in cold_scan.findings]
    for name in ("sbom.cdx.json", "sbom.spdx.json", "sbom.syft.json"):
        assert (tmp_path / "warm" / name).read_bytes() == (tmp_path / "cold" / name).read_bytes()
    assert (
        json.loads((tmp_path / "warm" / "vulns.json").read_text())["matches"]
        == json.loads((tmp_path / "cold" / "vulns.json").read_text())["matches"]
    )

    # Another bundle digest (a changed bundle) runs syft again.
    runner.runs.clear()
    _gate(runner, cache, tmp_path / "changed", digest="sha256:" + "2" * 64)
    assert runner.runs[0] == "syft"


@pytest.mark.integration
def test_a_disabled_cache_runs_both_tools_every_time(scanners: dict[str, str], tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "cache", enabled=False)
    runner = CountingRunner({**os.environ, **scanners})
    _gate(runner, cache, tmp_path / "a")
    _gate(runner, cache, tmp_path / "b")
    assert runner.runs == ["syft", "syft", "grype", "syft", "syft", "grype"]
    assert not (tmp_path / "cache").exists()


@pytest.mark.integration
def test_cli_scan_uses_the_cache_unless_no_cache(
    vulnerable_sbom: Path, scanner_env: dict[str, str], tmp_path: Path
) -> None:
    def scan(*extra: str) -> dict[str, Any]:
        done = run_cli(
            "scan",
            vulnerable_sbom,
            "--policy",
            TEST_DB_POLICY,
            "--out",
            tmp_path / "out",
            "--format",
            "json",
            *extra,
            env=scanner_env,
        )
        assert done.code == 1, done.stderr
        doc: dict[str, Any] = json.loads(done.stdout)
        return doc

    assert scan()["cached"] is False
    assert scan()["cached"] is True
    assert scan("--no-cache")["cached"] is False
    assert scan()["cached"] is True


def test_cache_keys_depend_on_every_part() -> None:
    base = {"bundle": "sha256:1", "syft": "1.57.1", "grype": "0.121.2", "dbBuilt": "t", "policy": "p"}
    keys = {cache_key("scan", base)}
    for name in base:
        keys.add(cache_key("scan", {**base, name: "other"}))
    assert len(keys) == len(base) + 1
    assert cache_key("scan", base) == cache_key("scan", dict(reversed(list(base.items()))))


def test_a_damaged_entry_is_a_miss_and_is_replaced(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "cache")
    source = tmp_path / "grype.json"
    source.write_text('{"matches": []}')
    key = cache_key("scan", {"x": 1})
    cache.put(key, {"grype.json": source})
    entry = cache.get(key)
    assert entry is not None
    entry.files["grype.json"].write_text('{"matches": [{"tampered": true}]}')
    assert cache.get(key) is None
    cache.put(key, {"grype.json": source})
    repaired = cache.get(key)
    assert repaired is not None and repaired.files["grype.json"].read_text() == '{"matches": []}'


def _hammer(root: str, worker: int, rounds: int) -> list[str]:
    cache = ResultCache(Path(root))
    problems: list[str] = []
    work = Path(root).parent / f"w{worker}"
    work.mkdir(exist_ok=True)
    for n in range(rounds):
        key = cache_key("scan", {"n": n % 5})
        payload = json.dumps({"n": n % 5, "blob": "x" * (50_000 + n % 5)})
        src = work / "grype.json"
        src.write_text(payload)
        entry = cache.get(key)
        if entry is None:
            cache.put(key, {"grype.json": src}, {"n": n % 5})
            entry = cache.get(key)
        if entry is None:
            problems.append(f"worker {worker}: round {n}: entry missing right after put")
        elif json.loads(entry.files["grype.json"].read_text())["n"] != n % 5:
            problems.append(f"worker {worker}: round {n}: wrong content")
    return problems


def test_two_gates_sharing_the_cache_do_not_corrupt_it(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        results = pool.starmap(_hammer, [(str(root), w, 60) for w in range(2)])
    assert results == [[], []]
    cache = ResultCache(root)
    for n in range(5):
        entry = cache.get(cache_key("scan", {"n": n}))
        assert entry is not None and json.loads(entry.files["grype.json"].read_text())["n"] == n
    leftovers = [p.name for p in root.iterdir() if p.name.startswith((".staging-", ".trash-"))]
    assert leftovers == []


@pytest.mark.integration
def test_two_real_gates_at_once_share_the_cache(scanners: dict[str, str], tmp_path: Path) -> None:
    root = tmp_path / "cache"
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        outcomes = pool.starmap(_real_gate, [(str(root), str(tmp_path / f"out{n}"), scanners) for n in range(2)])
    assert outcomes[0] == outcomes[1]
    runner = CountingRunner({**os.environ, **scanners})
    _gate(runner, ResultCache(root), tmp_path / "after")
    assert runner.runs == []


def _real_gate(root: str, out: str, scanners: dict[str, str]) -> list[str]:
    _, scan = _gate(ToolRunner(env={**os.environ, **scanners}), ResultCache(Path(root)), Path(out))
    return sorted(m.match.id for m in scan.matches)


def _forge(cache: ResultCache, key: str, content: str) -> None:
    """What an attacker who can write the cache folder does: rewrite a file and its manifest digest."""
    entry = cache._entry_dir(key)
    (entry / "grype.json").write_text(content)
    manifest = json.loads((entry / "manifest.json").read_text())
    manifest["files"]["grype.json"] = hashlib.sha256(content.encode()).hexdigest()
    (entry / "manifest.json").write_text(json.dumps(manifest))


def test_a_forged_entry_with_matching_digests_is_a_miss(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "cache", key_file=tmp_path / "config" / "cache.key")
    source = tmp_path / "grype.json"
    source.write_text('{"matches": [{"vulnerability": {"id": "CVE-1"}}]}')
    key = cache_key("scan", {"x": 1})
    cache.put(key, {"grype.json": source})
    assert cache.get(key) is not None
    _forge(cache, key, '{"matches": []}')
    assert cache.get(key) is None
    # NOTE: another reader's view: a fresh cache object with the same key file, and one whose MAC was
    # recomputed under a key the attacker chose, are both refused.
    assert ResultCache(tmp_path / "cache", key_file=tmp_path / "config" / "cache.key").get(key) is None
    other = ResultCache(tmp_path / "cache", key_file=tmp_path / "attacker.key")
    entry = cache._entry_dir(key)
    manifest = json.loads((entry / "manifest.json").read_text())
    secret = other._secret()
    assert secret is not None
    manifest["mac"] = secret.mac(_signed(key, manifest["files"], manifest["meta"]))
    (entry / "manifest.json").write_text(json.dumps(manifest))
    assert cache.get(key) is None
    del manifest["mac"]
    (entry / "manifest.json").write_text(json.dumps(manifest))
    assert cache.get(key) is None


def test_the_key_is_created_0600_outside_the_cache(tmp_path: Path) -> None:
    key_file = tmp_path / "config" / "cache.key"
    cache = ResultCache(tmp_path / "cache", key_file=key_file)
    source = tmp_path / "grype.json"
    source.write_text("{}")
    cache.put(cache_key("scan", {"x": 2}), {"grype.json": source})
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert cache.get(cache_key("scan", {"x": 2})) is not None


@pytest.mark.parametrize("where", ["inside", "loose", "symlink"])
def test_an_unsafe_key_turns_the_cache_off(tmp_path: Path, where: str) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    key_file = root / "cache.key" if where == "inside" else tmp_path / "cache.key"
    if where == "loose":
        key_file.write_text("00" * 32)
        key_file.chmod(0o644)
    if where == "symlink":
        real = tmp_path / "real.key"
        real.write_text("00" * 32)
        real.chmod(0o600)
        key_file.symlink_to(real)
    cache = ResultCache(root, key_file=key_file)
    source = tmp_path / "grype.json"
    source.write_text("{}")
    key = cache_key("scan", {"x": 3})
    cache.put(key, {"grype.json": source})
    assert cache.get(key) is None
    assert cache.problem is not None and str(key_file) in cache.problem
    assert not (root / key[:2]).exists()
