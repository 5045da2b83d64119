"""The real Kubernetes reading (tools/k8sdecode), and the gate failing closed when it cannot be had."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from support.toolpins import pin_fake

from plugingate.manifests.kubedecode import HelperReader
from tests.conftest import run_cli
from tests.manifests.kube import require_helper
from tests.manifests.test_two_readings_cli import HARMLESS, POLICY, _bundle

pytestmark = pytest.mark.integration


def _read(tmp_path: Path, files: dict[str, bytes]) -> dict[str, list[tuple[int, list[dict[str, object]], str | None]]]:
    require_helper()
    pairs = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        pairs.append((name, tmp_path / name))
    reading = HelperReader().start(pairs).result(timeout=120)
    return {
        name: [(d.index, list(d.objects), d.error) for d in f.documents] + ([(-1, [], f.error)] if f.error else [])
        for name, f in reading.files.items()
    }


def test_the_helper_decodes_as_kubectl(tmp_path: Path) -> None:
    got = _read(
        tmp_path,
        {
            "bools.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: y, b: off, c: '1'}\n",
            "docs.yaml": b"---\n---\n# only a comment\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
            "list.yaml": b"apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: p}\n",
            "stream.json": b'{"apiVersion": "v1", "kind": "A", "metadata": {}}\n{"apiVersion": "v1", "kind": "B"}\n',
            "bom.yaml": b"\xef\xbb\xbfapiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
            "bad.yaml": b"apiVersion: v1\nkind: ConfigMap\n--- !!map\na: 1\n",
        },
    )
    assert got["bools.yaml"] == [
        (
            0,
            [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "c"},
                    "data": {"a": True, "b": False, "c": "1"},
                }
            ],
            None,
        )
    ]
    # NOTE: kubectl counts "---" then "---" as a document of its own (empty, skipped).
    assert got["docs.yaml"] == [(2, [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}], None)]
    assert got["list.yaml"] == [(0, [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}], None)]
    assert [objs[0]["kind"] for _, objs, _ in got["stream.json"]] == ["A", "B"]
    assert got["bom.yaml"][0][1][0]["apiVersion"] == "v1"
    assert got["bad.yaml"][-1][2] is not None and "invalid Yaml document separator" in str(got["bad.yaml"][-1][2])


def _fake_helper(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "k8sdecode"
    script.write_text('#!/bin/sh\nif [ "$1" = version ]; then echo \'{"version": "9.9.9"}\'; exit 0; fi\n' + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    # NOTE: the gate runs no unpinned binary; the stand-in is pinned for this session only.
    return pin_fake(script)


@pytest.mark.parametrize(
    ("helper", "expect"),
    [
        ("missing", "PLUGINGATE_K8SDECODE="),
        ("crashes", "k8sdecode 9.9.9 failed (exit 7)"),
        ("garbage", "not its JSON answer"),
        ("other-files", "answered for 0 file(s), 6 were asked"),
    ],
)
def test_without_a_working_helper_the_gate_cannot_decide(tmp_path: Path, helper: str, expect: str) -> None:
    require_helper()
    path = {
        "missing": lambda: tmp_path / "no-such-k8sdecode",
        "crashes": lambda: _fake_helper(tmp_path, "echo boom >&2\nexit 7\n"),
        "garbage": lambda: _fake_helper(tmp_path, "echo not json\n"),
        "other-files": lambda: _fake_helper(tmp_path, "echo '{\"files\": []}'\n"),
    }[helper]()
    bundle = _bundle(tmp_path, HARMLESS.encode())
    done = run_cli(
        "gate",
        bundle,
        "--policy",
        POLICY,
        "--out",
        tmp_path / "out",
        env={"PLUGINGATE_K8SDECODE": str(path), "PLUGINGATE_CACHE": str(tmp_path / "cache")},
        timeout=120,
    )
    assert done.code == 3, done.stderr + done.stdout
    assert expect in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_the_kubernetes_reading_starts_beside_syft_and_runs_once(tmp_path: Path) -> None:
    """The gate starts the helper right after syft; the manifests step uses that run, not a second one."""
    from dataclasses import replace

    from plugingate.gate import GateRequest, run_gate
    from plugingate.manifests.kubedecode import StartedReader
    from plugingate.manifests.step import manifests_step
    from plugingate.pipeline import StepContext
    from plugingate.policy import load_policy
    from plugingate.result import StepResult
    from plugingate.steps import default_steps

    require_helper()
    seen: list[StartedReader] = []

    def spy(ctx: StepContext) -> StepResult:
        assert ctx.kube_reading.done(), "the Kubernetes reading was not started before the manifests step"
        reader = ctx.kube_reading.result()
        assert isinstance(reader, StartedReader)
        assert [shown for shown, _ in reader.files] == sorted(shown for shown, _ in reader.files)
        assert reader.start(reader.files) is reader.future
        seen.append(reader)
        return manifests_step(ctx)

    bundle = _bundle(tmp_path, HARMLESS.encode())
    request = GateRequest(bundle=bundle, policy=load_policy(POLICY), out_dir=tmp_path / "out")
    result = run_gate(request, replace(default_steps(), manifests=spy))
    assert len(seen) == 1 and "deploy/configmap.yaml" in [shown for shown, _ in seen[0].files]
    manifests = next(s for s in result.steps if str(s.step) == "manifests")
    assert manifests.details["objects"] == 7


CASES = sorted(p.parent for p in (Path(__file__).resolve().parents[2] / "testdata" / "bundles").glob("*/*/plugin.yaml"))


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_bundle_case_reads_the_same_both_ways(case: Path) -> None:
    """The pass and deny cases are not ambiguous: kubectl applies exactly the objects the gate checks."""
    from plugingate.declaration import load_declaration
    from plugingate.manifests import load_manifests

    require_helper()
    declaration = load_declaration(case)
    alone = load_manifests(case, declaration)
    both = load_manifests(case, declaration, second_reading=HelperReader())
    assert [o.data for o in both.objects] == [o.data for o in alone.objects]


def test_the_helper_survives_hostile_yaml_it_is_handed_before_the_gate_refuses_it(tmp_path: Path) -> None:
    """It starts beside syft, before the Python reading has refused anything: bombs must not hurt it."""
    import itertools
    import time

    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in itertools.pairwise("abcdefghijklmn"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n"
    started = time.monotonic()
    got = _read(
        tmp_path,
        {
            "bomb.yaml": (head + "\n".join("  " + line for line in lines) + "\n").encode(),
            "deep.yaml": (head.replace("data:\n", "data: ") + "[" * 100_000 + "]" * 100_000 + "\n").encode(),
        },
    )
    assert time.monotonic() - started < 30
    assert "excessive aliasing" in str(got["bomb.yaml"][-1][2])
    assert "max depth" in str(got["deep.yaml"][-1][2])
