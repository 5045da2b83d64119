"""``read_bounded``: the one reader for files plugingate is handed, and the readers that use it.

The bound holds at exactly ``limit`` bytes and one over it, for a regular file, a device that never
ends and a pipe a writer keeps filling; a symlink is followed as before; a missing file or a folder is
bad input naming the file. Then the readers of the package are held to it: a source scan finds no
"read limit + 1" written out again, and a few real readers refuse a file one byte over their limit.
"""

from __future__ import annotations

import ast
import os
import threading
from pathlib import Path

import pytest

from plugingate.errors import ExitCode, InputError, UndecidedError
from plugingate.files import FileTooLargeError, UnreadableFileError, read_bounded, read_tail
from tests.conftest import REPO


def test_exactly_at_the_limit_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_bounded(path, 10, "the thing") == b"x" * 10


def test_an_empty_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"")
    assert read_bounded(path, 0, "the thing") == b""


def test_one_byte_over_is_refused_naming_the_file_and_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 11)
    with pytest.raises(FileTooLargeError) as caught:
        read_bounded(path, 10, "the policy")
    assert caught.value.exit_code is ExitCode.USAGE
    assert caught.value.message == f"{path}: the policy is larger than 10 bytes"
    assert caught.value.limit == 10
    assert caught.value.hint is not None and "10 bytes" in caught.value.hint


def test_shown_as_names_the_file_as_the_person_knows_it(tmp_path: Path) -> None:
    path = tmp_path / "private-unpack" / "plugin.yaml"
    path.parent.mkdir()
    path.write_bytes(b"x" * 5)
    with pytest.raises(FileTooLargeError) as caught:
        read_bounded(path, 4, "plugin.yaml", shown_as="plugin.yaml")
    assert caught.value.path == "plugin.yaml"
    assert "private-unpack" not in caught.value.message


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_a_file_that_cannot_be_read_is_bad_input(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "x"
    if kind == "folder":
        path.mkdir()
    with pytest.raises(UnreadableFileError) as caught:
        read_bounded(path, 10, "the key")
    assert caught.value.exit_code is ExitCode.USAGE
    assert caught.value.message.startswith(f"{path}: cannot read the key: ")
    expected = FileNotFoundError if kind == "missing" else IsADirectoryError
    assert isinstance(caught.value.reason, expected)


def test_a_symlink_is_followed_as_before(tmp_path: Path) -> None:
    target = tmp_path / "real"
    target.write_bytes(b"data")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert read_bounded(link, 4, "the thing") == b"data"
    target.write_bytes(b"data+")
    with pytest.raises(FileTooLargeError):
        read_bounded(link, 4, "the thing")


def test_a_device_without_end_is_refused_by_the_bound() -> None:
    # NOTE: /dev/zero has size 0 to stat and never ends: only a bounded read refuses it.
    with pytest.raises(FileTooLargeError):
        read_bounded(Path("/dev/zero"), 1 << 16, "the signature")


def test_a_pipe_is_read_and_bounded(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def write(data: bytes, forever: bool) -> None:
        try:
            with fifo.open("wb") as out:
                out.write(data)
                while forever:
                    out.write(b"y" * 4096)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write, args=(b"-----BEGIN PUBLIC KEY-----", False), daemon=True)
    writer.start()
    assert read_bounded(fifo, 100, "the public key") == b"-----BEGIN PUBLIC KEY-----"
    writer.join(5)
    endless = threading.Thread(target=write, args=(b"", True), daemon=True)
    endless.start()
    with pytest.raises(FileTooLargeError):
        read_bounded(fifo, 1 << 16, "the public key")
    endless.join(5)
    assert not endless.is_alive()


def _bounded_reads_written_out(path: Path) -> list[int]:
    """Lines of ``X.read(N + 1)`` calls: a bound written out again instead of ``read_bounded``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "read"
            and node.args
            and isinstance(node.args[0], ast.BinOp)
            and isinstance(node.args[0].op, ast.Add)
        ):
            lines.append(node.lineno)
    return lines


# NOTE: the registry client bounds an HTTP response and the image proof a member of an image archive:
# streams, not files.
_NOT_FILES = {"plugingate/files.py", "plugingate/oci/client.py", "plugingate/sbom/proof.py"}


def test_no_reader_writes_the_bound_out_again() -> None:
    found = {
        str(p.relative_to(REPO)): lines
        for p in sorted((REPO / "plugingate").rglob("*.py"))
        if str(p.relative_to(REPO)) not in _NOT_FILES and (lines := _bounded_reads_written_out(p))
    }
    assert found == {}, f"use plugingate.files.read_bounded instead of read(limit + 1): {found}"


def test_the_scan_finds_a_bound_written_out(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("def f(p, n):\n    with p.open('rb') as fh:\n        return fh.read(n + 1)\n")
    assert _bounded_reads_written_out(path) == [3]


def _over(tmp_path: Path, limit: int, name: str = "f") -> Path:
    path = tmp_path / name
    path.write_bytes(b"x" * (limit + 1))
    return path


def test_the_policy_reader_refuses_one_byte_over(tmp_path: Path) -> None:
    from plugingate.policy import load_policy
    from plugingate.policy.loader import _LIMITS

    with pytest.raises(FileTooLargeError, match="the policy is larger than"):
        load_policy(_over(tmp_path, _LIMITS.max_bytes, "policy.yaml"))


@pytest.mark.parametrize("reader", ["public key", "private key", "signature"])
def test_the_key_and_signature_readers_refuse_one_byte_over(tmp_path: Path, reader: str) -> None:
    from plugingate import keys

    if reader == "signature":
        path = _over(tmp_path, keys.MAX_SIGNATURE_FILE_BYTES)
        with pytest.raises(FileTooLargeError, match="the signature is larger"):
            keys.load_signature_file(path)
        return
    path = _over(tmp_path, keys.MAX_KEY_FILE_BYTES)
    load = keys.load_public_key if reader == "public key" else keys.load_private_key
    with pytest.raises(FileTooLargeError, match=f"the {reader} is larger"):
        load(path)


def test_the_attestation_reader_refuses_one_byte_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from plugingate.attestation import verify

    monkeypatch.setattr(verify, "MAX_ATTESTATION_FILE_BYTES", 1000)
    with pytest.raises(FileTooLargeError, match="the attestation file is larger than 1000 bytes"):
        verify.load_entries(_over(tmp_path, 1000))


def test_the_vex_reader_refuses_one_byte_over_in_its_own_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from plugingate.vulnerabilities import vex

    monkeypatch.setattr(vex, "MAX_VEX_BYTES", 100)
    with pytest.raises(InputError, match="larger than 100 bytes"):
        vex.load_vex([_over(tmp_path, 100)])


def test_an_oversized_trusted_root_is_undecided_not_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from plugingate.signature import trust

    monkeypatch.setattr(trust, "MAX_TRUSTED_ROOT_BYTES", 100)
    with pytest.raises(UndecidedError, match="larger than 100 bytes"):
        trust.load_trusted_root(trust.TrustSettings(trusted_root=_over(tmp_path, 100)))


def test_a_manifest_over_its_limit_is_named_by_its_path_in_the_bundle(tmp_path: Path) -> None:
    from plugingate.declaration import load_declaration
    from plugingate.manifests.loader import ManifestLimits, load_manifests
    from tests.manifests.conftest import good_objects, write_bundle

    root = write_bundle(tmp_path / "bundle", good_objects())
    size = (root / "deploy" / "all.yaml").stat().st_size
    limits = ManifestLimits(max_file_bytes=size - 1)
    # NOTE: refused before either reading starts (the sizes are looked at first), and read bounded after.
    with pytest.raises(InputError) as caught:
        load_manifests(root, load_declaration(root), limits=limits)
    assert caught.value.path == "deploy/all.yaml"
    assert load_manifests(root, load_declaration(root), limits=ManifestLimits(max_file_bytes=size)).objects


def test_read_tail_reads_only_the_end_of_a_large_log(tmp_path: Path) -> None:
    # NOTE: a plugin in the probe, or a tool, decides how much it writes; a message quotes only the end.
    log = tmp_path / "output.log"
    log.write_bytes(b"x" * (8 << 20) + b"\xff the last words")
    assert read_tail(log, 16) == "\ufffd the last words"
    assert read_tail(log, 1 << 30).endswith("the last words")
    assert read_tail(tmp_path / "never-written.log", 100) == ""
