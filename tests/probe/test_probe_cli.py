"""``plugingate probe``'s contract at its edges: bad input exits 2, a sandbox that cannot be made exits 3,
an image that cannot run is a finding (PG-PRB-008), never a silent pass."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

from tests.conftest import REPO, run_cli

from .images import PLUGIN_YAML, write_image


def _bundle(tmp_path: Path, *, archive: bytes | None, binary: Path | None = None) -> Path:
    root = tmp_path / "bundle"
    (root / "image").mkdir(parents=True)
    digest = "sha256:" + "1" * 64
    if binary is not None:
        digest = write_image(binary, root / "image" / "plugin.oci.tar", args=())
    elif archive is not None:
        (root / "image" / "plugin.oci.tar").write_bytes(archive)
    text = PLUGIN_YAML.format(digest=digest)
    if archive is None and binary is None:
        text = text.replace("      archive: image/plugin.oci.tar\n", "")
    (root / "plugin.yaml").write_text(text)
    return root


def test_missing_runsc_fails_closed(tmp_path: Path) -> None:
    root = _bundle(tmp_path, archive=None)
    done = run_cli("probe", root, "--out", tmp_path / "out", env={"PLUGINGATE_RUNSC": str(tmp_path / "no-runsc")})
    assert done.code == 3, done.stderr
    assert "runsc" in done.stderr and "setup-probe-tools" in done.stderr
    assert not (tmp_path / "out" / "probe.json").exists()


def test_a_bad_duration_is_bad_input(tmp_path: Path) -> None:
    root = _bundle(tmp_path, archive=None)
    done = run_cli("probe", root, "--out", tmp_path / "out", "--duration", "0")
    assert done.code == 2 and "--duration" in done.stderr


def test_an_image_without_archive_cannot_pass(tmp_path: Path, probe_tools: dict[str, str]) -> None:
    root = _bundle(tmp_path, archive=None)
    done = run_cli("probe", root, "--out", tmp_path / "out", env=probe_tools)
    assert done.code == 1, done.stderr
    report: dict[str, Any] = json.loads((tmp_path / "out" / "probe.json").read_text())
    assert report["skippedImages"] == ["plugin"] and report["images"] == []
    assert [f["ruleId"] for f in report["findings"]] == ["PG-PRB-008"]


def test_an_archive_that_is_not_an_image(tmp_path: Path, probe_tools: dict[str, str]) -> None:
    """Pinned: it cannot prove the digest (PG-PRB-008, exit 1); unpinned: it is not an image (bad input, exit 2)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    root = _bundle(tmp_path, archive=buf.getvalue())
    done = run_cli("probe", root, "--out", tmp_path / "out", env=probe_tools)
    assert done.code == 1, done.stderr
    report = json.loads((tmp_path / "out" / "probe.json").read_text())
    assert [f["ruleId"] for f in report["findings"]] == ["PG-PRB-008"]
    manifest = root / "plugin.yaml"
    manifest.write_text(manifest.read_text().replace("@sha256:" + "1" * 64, ":1.0.0"))
    done = run_cli("probe", root, "--out", tmp_path / "out2", env=probe_tools)
    assert done.code == 2, done.stderr
    assert "image/plugin.oci.tar" in done.stderr and "not an image archive" in done.stderr


def test_an_image_without_entrypoint_cannot_pass(tmp_path: Path, probe_tools: dict[str, str]) -> None:
    binary = tmp_path / "plugin"
    binary.write_bytes(b"#!/bin/false\n")
    root = tmp_path / "bundle"
    digest = write_image(binary, root / "image" / "plugin.oci.tar", entrypoint=())
    (root / "plugin.yaml").write_text(PLUGIN_YAML.format(digest=digest))
    done = run_cli("probe", root, "--out", tmp_path / "out", env=probe_tools)
    assert done.code == 1, done.stderr
    report = json.loads((tmp_path / "out" / "probe.json").read_text())
    assert [f["ruleId"] for f in report["findings"]] == ["PG-PRB-008"]
    assert "entrypoint" in report["findings"][0]["message"]


def test_an_archive_that_does_not_hold_the_pinned_image_is_not_run(tmp_path: Path, probe_tools: dict[str, str]) -> None:
    """The archive's index names another image than plugin.yaml pins: the probe refuses to run it."""
    binary = tmp_path / "plugin"
    binary.write_bytes(b"#!/bin/false\n")
    root = _bundle(tmp_path, archive=None, binary=binary)
    text = (root / "plugin.yaml").read_text()
    pinned = text.split("@", 1)[1].split()[0]
    (root / "plugin.yaml").write_text(text.replace(pinned, "sha256:" + "2" * 64))
    done = run_cli("probe", root, "--out", tmp_path / "out", env=probe_tools)
    assert done.code == 1, done.stderr
    report = json.loads((tmp_path / "out" / "probe.json").read_text())
    assert [f["ruleId"] for f in report["findings"]] == ["PG-PRB-008"] and report["images"] == []
    assert "2" * 64 in report["findings"][0]["message"]


def test_the_example_plugin_cannot_be_run_and_says_why(tmp_path: Path, probe_tools: dict[str, str]) -> None:
    """Its image archive holds the app, not Python: the probe names the missing entrypoint (not exit 3)."""
    done = run_cli("probe", REPO / "examples" / "acme-exporter", "--out", tmp_path / "out", env=probe_tools)
    assert done.code == 1, done.stderr
    report = json.loads((tmp_path / "out" / "probe.json").read_text())
    assert [f["ruleId"] for f in report["findings"]] == ["PG-PRB-008"]
    assert "'python' is not in the image" in report["findings"][0]["message"]
