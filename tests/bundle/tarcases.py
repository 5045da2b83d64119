"""The archives of the tar differential suite: every extended-header combination, and ordinary ones.

Each case is the bytes of an archive (built here, byte by byte, or by GNU tar, bsdtar, Python's
tarfile or ``plugingate pack`` from a small tree) and what the gate must do with it: unpack it
(``expect=None``) or refuse it with a message matching ``expect``. Either way the differential test
then checks that whatever the gate unpacks is exactly what each extractor unpacks.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from plugingate.bundle.pack import pack_directory

from .tarcraft import (
    BLOCK,
    END,
    GNU,
    HARMLESS,
    MANIFEST,
    POD,
    V7,
    extended,
    file,
    gz,
    gz_custom,
    gz_split,
    header,
    long_name,
    octal,
    pax,
    tar,
)

AMBIGUOUS = "PG-BUN-004"
TRAILING = "PG-BUN-002"
LONG = "manifests/" + "n" * 120 + ".yaml"  # too long for a ustar name field
EVIL = "manifests/pod.yaml"


@dataclass(frozen=True)
class TarCase:
    """One archive of the suite: how to make its bytes (given a scratch folder), and the gate's verdict."""

    id: str
    make: Callable[[Path], bytes]
    expect: str | None  # None: the gate unpacks it; else a regex its refusal matches


def _static(id_: str, data: bytes, expect: str | None) -> TarCase:
    return TarCase(id_, lambda _scratch: data, expect)


# -- ordinary archives: the gate unpacks them, exactly as every extractor does -------------------------

_ORDINARY_TREE = (
    header("deploy/", b"5", mode=0o755)
    + file("deploy/a.yaml", HARMLESS)
    + file("bin/run", b"#!/bin/sh\necho hi\n", mode=0o755)
    + header("link.yaml", b"2", linkname="deploy/a.yaml", mode=0o777)
    + header("hard.yaml", b"1", linkname="deploy/a.yaml")
    + file("empty", b"")
)
_BIG = os.urandom(1 << 20) + b"tail"
_POD_BLOCK = POD + bytes(BLOCK - len(POD))
_HARMLESS_BLOCK = HARMLESS + bytes(BLOCK - len(HARMLESS))

ORDINARY = [
    _static("ustar-tree", tar(_ORDINARY_TREE), None),
    _static("ustar-tree-gz", gz(tar(_ORDINARY_TREE)), None),
    _static("ustar-tree-two-gzip-members", gz_split(tar(_ORDINARY_TREE), 1000), None),
    _static("ustar-tree-gzip-split-in-a-header", gz_split(tar(_ORDINARY_TREE), 3 * BLOCK + 100), None),
    _static("pax-long-path", gz(tar(pax(("path", LONG)) + file("placeholder", POD))), None),
    _static(
        "pax-long-linkpath",
        tar(pax(("linkpath", "deploy/" + "l" * 120)) + header("ln", b"2", linkname="x", mode=0o777)),
        None,
    ),
    _static(
        "pax-metadata-keys",
        tar(
            pax(
                ("mtime", "1700000000.123456789"),
                ("atime", "1700000000"),
                ("uid", "1000"),
                ("gid", "1000"),
                ("uname", "dev"),
                ("gname", "dev"),
                ("comment", "built by hand"),
            )
            + file("deploy/a.yaml", HARMLESS)
        ),
        None,
    ),
    _static("pax-size-equal-to-header", tar(pax(("size", str(len(HARMLESS)))) + file("a.yaml", HARMLESS)), None),
    _static("gnu-long-name", tar(long_name(b"L", LONG) + file(LONG[:99], POD, magic=GNU)), None),
    _static(
        "gnu-long-link",
        tar(long_name(b"K", "deploy/" + "k" * 120) + header("ln", b"2", linkname="x", mode=0o777, magic=GNU)),
        None,
    ),
    _static(
        "gnu-long-name-and-long-link",
        tar(
            long_name(b"L", "deploy/" + "m" * 120)
            + long_name(b"K", "deploy/" + "k" * 120)
            + header("ln", b"2", linkname="x", mode=0o777, magic=GNU)
        ),
        None,
    ),
    _static("ustar-prefix", tar(file("a.yaml", HARMLESS, prefix=b"deploy/" + b"p" * 100)), None),
    _static(
        "ustar-prefix-with-pax-path",
        tar(pax(("path", "ok.yaml")) + file("pod.yaml", POD, prefix=b"manifests")),
        None,
    ),
    _static("v7-header", tar(file("deploy/a.yaml", HARMLESS, magic=V7)), None),
    _static("gnu-magic", tar(file("deploy/a.yaml", HARMLESS, magic=GNU)), None),
    _static("contiguous-file-type-7", tar(file("a.yaml", HARMLESS, flag=b"7")), None),
    _static("old-regular-type-nul", tar(file("a.yaml", HARMLESS, flag=b"\0")), None),
    _static("dot-slash-names", tar(header("./deploy/", b"5", mode=0o755) + file("./deploy/a.yaml", HARMLESS)), None),
    _static(
        "leading-spaces-in-numbers", tar(file("a.yaml", HARMLESS, mode=0o644, uid=b"     0\0", gid=b"  0 \0")), None
    ),
    _static("numbers-without-terminator", tar(file("a.yaml", HARMLESS, mtime=b"00000000001")), None),
    _static("nul-filled-uid-and-devmajor", tar(file("a.yaml", HARMLESS, uid=bytes(8), devmajor=bytes(8))), None),
    _static("base256-uid", tar(file("a.yaml", HARMLESS, uid=b"\x80" + (70000).to_bytes(7, "big"))), None),
    _static("owner-exec-only", tar(file("run", b"#!/bin/sh\n", mode=0o700)), None),
    _static("group-exec-only", tar(file("run", b"#!/bin/sh\n", mode=0o654)), None),
    _static("zero-padding-after-end", gz(tar(file("a.yaml", HARMLESS)) + bytes(20 * BLOCK)), None),
    _static("no-end-marker", tar(file("a.yaml", HARMLESS), end=b""), None),
    _static("one-zero-block-then-eof", tar(file("a.yaml", HARMLESS), end=bytes(BLOCK)), None),
    _static("one-mebibyte-file", gz(tar(file("blob.bin", _BIG))), None),
    _static("pax-xattr-user", tar(pax(("SCHILY.xattr.user.note", b"\x00\x01bin")) + file("a.yaml", HARMLESS)), None),
    _static(
        "pax-size-overrides-header",
        tar(pax(("size", str(len(HARMLESS)))) + header("a.yaml", size=0) + _HARMLESS_BLOCK),
        None,
    ),
    _static(
        "hardlink-unnormalised-target",
        tar(file("deploy/a.yaml", HARMLESS) + header("h.yaml", b"1", linkname="./deploy//a.yaml")),
        None,
    ),
    _static(
        "symlink-with-dotdot-inside",
        tar(file("deploy/a.yaml", HARMLESS) + header("deploy/b", b"2", linkname="../deploy/./a.yaml", mode=0o777)),
        None,
    ),
    _static("empty-directories", tar(header("a/", b"5", mode=0o755) + header("a/b/c/", b"5", mode=0o700)), None),
    _static(
        "hardlink-chain",
        tar(
            file("a.yaml", HARMLESS)
            + header("b.yaml", b"1", linkname="a.yaml")
            + header("c.yaml", b"1", linkname="b.yaml")
        ),
        None,
    ),
    _static(
        "pax-linkpath-on-a-hardlink",
        tar(
            pax(("path", "deploy/" + "a" * 110))
            + file("x", HARMLESS)
            + pax(("linkpath", "deploy/" + "a" * 110))
            + header("h", b"1", linkname="x")
        ),
        None,
    ),
    _static(
        "directory-twice",
        tar(header("d/", b"5", mode=0o755) + file("d/a", b"a") + header("d/", b"5", mode=0o700)),
        None,
    ),
    _static(
        "gzip-with-extra-name-comment-and-header-crc",
        gz_custom(tar(file("a.yaml", HARMLESS)), flags=0x1E, extra=b"AB\x02\x00hi", fname=b"x.tar", comment=b"c"),
        None,
    ),
    _static("symlink-name-with-trailing-slash", tar(header("ln/", b"2", linkname="plugin.yaml", mode=0o777)), None),
    _static(
        "hardlink-name-with-trailing-slash",
        tar(file("a.yaml", HARMLESS) + header("h/", b"1", linkname="a.yaml")),
        None,
    ),
    _static(
        "directory-named-by-pax-without-slash", tar(pax(("path", "deploy")) + header("x/", b"5", mode=0o755)), None
    ),
    _static("utf8-name", tar(pax(("path", "deploy/ümlaut.yaml")) + file("x", HARMLESS)), None),
]


def _tree(scratch: Path) -> Path:
    src = scratch / "src"
    if src.exists():
        return src
    (src / "deploy").mkdir(parents=True)
    (src / "plugin.yaml").write_bytes(MANIFEST)
    (src / "deploy" / "a.yaml").write_bytes(HARMLESS)
    (src / "deploy" / ("d" * 120 + ".yaml")).write_bytes(POD)
    (src / "run.sh").write_bytes(b"#!/bin/sh\n")
    (src / "run.sh").chmod(0o755)
    (src / "ln").symlink_to("deploy/a.yaml")
    return src


def _by_tool(args: list[str]) -> Callable[[Path], bytes]:
    def make(scratch: Path) -> bytes:
        src = _tree(scratch)
        out = scratch / "tool.out"
        subprocess.run([*args, str(out), "-C", str(src), "."], check=True, capture_output=True)
        data = out.read_bytes()
        out.unlink()
        return data

    return make


def _by_tarfile(fmt: int) -> Callable[[Path], bytes]:
    def make(scratch: Path) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as archive:
            archive.add(_tree(scratch), arcname=".")
        return buf.getvalue()

    return make


def _by_pack(scratch: Path) -> bytes:
    out = scratch / "pack.tgz"
    pack_directory(_tree(scratch), out)
    data = out.read_bytes()
    out.unlink()
    return data


BY_TOOLS = [
    TarCase("gnu-tar-format-gnu", _by_tool(["tar", "--format=gnu", "-cf"]), None),
    TarCase("gnu-tar-format-posix", _by_tool(["tar", "--format=posix", "-cf"]), None),
    TarCase("gnu-tar-format-oldgnu-gz", _by_tool(["tar", "--format=oldgnu", "-czf"]), None),
    TarCase("bsdtar-format-pax", _by_tool(["bsdtar", "--format=pax", "-cf"]), None),
    TarCase("bsdtar-format-gnutar-gz", _by_tool(["bsdtar", "--format=gnutar", "-czf"]), None),
    TarCase("tarfile-pax", _by_tarfile(tarfile.PAX_FORMAT), None),
    TarCase("tarfile-gnu", _by_tarfile(tarfile.GNU_FORMAT), None),
    TarCase("plugingate-pack", _by_pack, None),
]


# -- archives two extractors could read differently: the gate refuses them --------------------------


def _raw_size(raw: bytes, data: bytes) -> bytes:
    """The pod entry with ``raw`` as its size field, then ``data`` padded to whole blocks."""
    return header(EVIL, b"0", fields={"size": raw}) + data + bytes(-len(data) % BLOCK)


def _gnu_sparse(fmt: str) -> Callable[[Path], bytes]:
    def make(scratch: Path) -> bytes:
        src = scratch / f"sparse-{fmt}"
        src.mkdir(exist_ok=True)
        (src / "plugin.yaml").write_bytes(MANIFEST)
        with (src / "sparse.bin").open("wb") as f:
            f.truncate(1 << 20)
            f.seek(1 << 19)
            f.write(POD)
        out = scratch / f"sparse-{fmt}.tar"
        subprocess.run(["tar", "--sparse", f"--format={fmt}", "-cf", str(out), "-C", str(src), "."], check=True)
        return out.read_bytes()

    return make


def _signed_checksum() -> bytes:
    name = "deploy/\xe9t\xe9.yaml".encode()  # bytes >= 0x80: signed and unsigned sums differ
    return tar(header(name, size=len(HARMLESS), checksum="signed") + HARMLESS + bytes(BLOCK - len(HARMLESS)))


def _bad_checksum_then_pod() -> bytes:
    # NOTE: Python's tarfile stops silently at a header whose checksum is wrong; GNU tar skips it and
    # extracts what follows (with an error status).
    bad = bytearray(header("junk", size=0))
    bad[148:154] = b"000001"
    return tar(bytes(bad) + file(EVIL, POD))


def _lone_zero_block_then_pod() -> bytes:
    # NOTE: every extractor stops at the zero block by default; `tar -i`, and readers that skip zero
    # blocks, go on to the pod.
    return tar(file("a.yaml", HARMLESS) + bytes(BLOCK) + file(EVIL, POD))


def _checksum_leading_nul() -> bytes:
    block = bytearray(header("a.yaml", size=len(HARMLESS)))
    block[148:156] = b" " * 8
    block[148:156] = b"\0%06o" % sum(block) + b" "
    return bytes(block) + HARMLESS + bytes(BLOCK - len(HARMLESS))


def _star_prefix() -> bytes:
    prefix = b"deploy".ljust(131, b"\0") + b"00000000000 00000000000 "
    return tar(file("a.yaml", HARMLESS, prefix=prefix[:155]))


AMBIGUOUS_CASES = [
    # several extended headers for one entry
    _static("two-pax-paths", tar(pax(("path", EVIL)) + pax(("path", "manifests/ok.yaml")) + file("x", POD)), AMBIGUOUS),
    _static(
        "two-pax-sizes",
        tar(pax(("size", str(len(HARMLESS)))) + pax(("size", "0")) + file("a.yaml", HARMLESS)),
        AMBIGUOUS,
    ),
    _static(
        "pax-path-then-gnu-long-name", tar(pax(("path", EVIL)) + long_name(b"L", "ok.yaml") + file("x", POD)), AMBIGUOUS
    ),
    _static(
        "gnu-long-name-then-pax-path", tar(long_name(b"L", "ok.yaml") + pax(("path", EVIL)) + file("x", POD)), AMBIGUOUS
    ),
    _static(
        "gnu-long-link-and-pax-linkpath",
        tar(
            file("t", HARMLESS)
            + long_name(b"K", "t")
            + pax(("linkpath", "plugin.yaml"))
            + header("h", b"1", linkname="t")
        ),
        AMBIGUOUS,
    ),
    _static("two-gnu-long-names", tar(long_name(b"L", EVIL) + long_name(b"L", "ok.yaml") + file("x", POD)), AMBIGUOUS),
    _static(
        "two-gnu-long-links",
        tar(long_name(b"K", "plugin.yaml") + long_name(b"K", "x") + header("ln", b"2", linkname="y", mode=0o777)),
        AMBIGUOUS,
    ),
    _static(
        "gnu-long-name-with-bytes-after-nul",
        tar(extended(b"L", b"ok.yaml\0" + EVIL.encode()) + file("x", POD)),
        AMBIGUOUS,
    ),
    _static("gnu-long-name-empty", tar(extended(b"L", b"\0") + file("x", POD)), AMBIGUOUS),
    _static("extended-header-then-end", tar(pax(("path", EVIL))), AMBIGUOUS),
    _static("extended-header-then-eof", tar(pax(("path", EVIL)), end=b""), AMBIGUOUS),
    # global and vendor headers
    _static("pax-global-path", tar(pax(("path", EVIL), flag=b"g") + file("x", POD)), AMBIGUOUS),
    _static("pax-global-comment", tar(pax(("comment", "0123abcd"), flag=b"g") + file("a.yaml", HARMLESS)), AMBIGUOUS),
    _static("solaris-x-header", tar(pax(("path", EVIL), flag=b"X") + file("x", POD)), AMBIGUOUS + "|unsupported"),
    _static("pax-hdrcharset", tar(pax(("hdrcharset", "BINARY"), ("path", EVIL)) + file("x", POD)), AMBIGUOUS),
    _static("pax-unknown-key", tar(pax(("SCHILY.realsize", "4096")) + file("a.yaml", HARMLESS)), AMBIGUOUS),
    _static(
        "pax-xattr-security-capability",
        tar(pax(("SCHILY.xattr.security.capability", b"\x01\x00\x00\x02")) + file("run", b"x", mode=0o755)),
        AMBIGUOUS,
    ),
    _static("pax-empty-path", tar(pax(("path", "")) + file(EVIL, POD)), AMBIGUOUS),
    _static("pax-size-with-underscore", tar(pax(("size", "1_0")) + file("a.yaml", b"0123456789")), AMBIGUOUS),
    _static("pax-size-with-plus", tar(pax(("size", "+10")) + file("a.yaml", b"0123456789")), AMBIGUOUS),
    _static("pax-path-with-nul", tar(pax(("path", EVIL + "\0.txt")) + file("x", POD)), AMBIGUOUS),
    _static(
        "pax-duplicate-key",
        tar(extended(b"x", b"22 path=manifests/a.y\n22 path=manifests/b.y\n") + file("x", POD)),
        AMBIGUOUS,
    ),
    _static(
        "pax-record-length-too-long", tar(extended(b"x", b"31 path=manifests/pod.yaml\n") + file("x", POD)), AMBIGUOUS
    ),
    _static(
        "pax-record-length-leading-zero",
        tar(extended(b"x", b"029 path=manifests/pod.yaml\n") + file("x", POD)),
        AMBIGUOUS,
    ),
    _static(
        "pax-record-without-newline", tar(extended(b"x", b"28 path=manifests/pod.yaml ") + file("x", POD)), AMBIGUOUS
    ),
    _static(
        "pax-record-nul-padded", tar(extended(b"x", b"28 path=manifests/pod.yaml\n\0\0\0") + file("x", POD)), AMBIGUOUS
    ),
    _static(
        "pax-gnu-sparse-key", tar(pax(("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0")) + file("x", POD)), AMBIGUOUS
    ),
    TarCase("gnu-tar-sparse-gnu", _gnu_sparse("gnu"), AMBIGUOUS),
    TarCase("gnu-tar-sparse-posix", _gnu_sparse("posix"), AMBIGUOUS),
    # numbers and checksums in forms only some readers accept
    _static("size-leading-nul", tar(_raw_size(b"\0" + octal(len(POD), 11), POD)), AMBIGUOUS),
    _static("size-leading-tab", tar(_raw_size(b"\t" + octal(len(POD), 11), POD)), AMBIGUOUS),
    _static("size-text-after-terminator", tar(_raw_size(b"%o 1234567" % len(POD), POD)), AMBIGUOUS),
    _static("size-base256", tar(_raw_size(b"\x80" + len(POD).to_bytes(11, "big"), POD)), AMBIGUOUS),
    _static("size-blank", tar(_raw_size(b" " * 11 + b"\0", b"")), AMBIGUOUS),
    _static(
        "mode-base256",
        tar(
            header("a.yaml", size=len(HARMLESS), fields={"mode": b"\x80" + (0o755).to_bytes(7, "big")})
            + _HARMLESS_BLOCK
        ),
        AMBIGUOUS,
    ),
    _static("mtime-not-octal", tar(file("a.yaml", HARMLESS, mtime=b"tomorrow\0")), AMBIGUOUS),
    _static("devmajor-garbage", tar(file("a.yaml", HARMLESS, devmajor=b"8\x019\0")), AMBIGUOUS),
    _static("v7-devmajor-garbage", tar(file("a.yaml", HARMLESS, magic=V7, devmajor=b"zz\0")), AMBIGUOUS),
    _static("checksum-signed", _signed_checksum(), AMBIGUOUS),
    _static("checksum-wrong-then-pod", _bad_checksum_then_pod(), AMBIGUOUS),
    _static("checksum-leading-nul", tar(_checksum_leading_nul()), AMBIGUOUS),
    # magic and prefix
    _static(
        "magic-ustar-odd-version", tar(file("a.yaml", HARMLESS, prefix=b"manifests", magic=b"ustar\0  ")), AMBIGUOUS
    ),
    _static(
        "ustar-prefix-with-gnu-long-name",
        tar(long_name(b"L", "ok.yaml") + file("pod.yaml", POD, prefix=b"manifests")),
        AMBIGUOUS,
    ),
    _static("star-shaped-prefix", _star_prefix(), AMBIGUOUS),
    # entry types and shapes
    _static("regular-file-with-trailing-slash", tar(file("manifests/", POD)), AMBIGUOUS),
    _static("old-regular-with-trailing-slash-and-data", tar(file("manifests/", POD, flag=b"\0")), AMBIGUOUS),
    _static("directory-with-data", tar(header("deploy/", b"5", len(_POD_BLOCK)) + _POD_BLOCK), AMBIGUOUS),
    _static(
        "symlink-with-data", tar(header("ln", b"2", len(_POD_BLOCK), linkname="plugin.yaml") + _POD_BLOCK), AMBIGUOUS
    ),
    _static(
        "hardlink-with-data", tar(header("h", b"1", len(_POD_BLOCK), linkname="plugin.yaml") + _POD_BLOCK), AMBIGUOUS
    ),
    _static("pax-size-on-a-directory", tar(pax(("size", "512")) + header("deploy/", b"5") + _POD_BLOCK), AMBIGUOUS),
    _static("unknown-type-8", tar(file(EVIL, POD, flag=b"8")), "unsupported entry"),
    _static("gnu-dumpdir-type-d", tar(file("deploy", b"Ya.yaml\0\0", flag=b"D")), "unsupported entry"),
    _static("gnu-volume-label", tar(header("vol", b"V")), "unsupported entry"),
    _static("fifo", tar(header("pipe", b"6")), "FIFO"),
    _static("name-not-utf8", tar(file(b"deploy/caf\xe9.yaml", POD)), AMBIGUOUS),
    _static("gnu-long-name-not-utf8", tar(extended(b"L", b"deploy/\xff.yaml\0") + file("x", POD)), AMBIGUOUS),
    _static("link-target-not-utf8", tar(header("ln", b"2", linkname=b"caf\xe9", mode=0o777)), AMBIGUOUS),
    # links and duplicates
    _static(
        "hardlink-to-a-later-entry",
        tar(header("h.yaml", b"1", linkname="later.yaml") + file("later.yaml", POD)),
        "earlier in the archive",
    ),
    _static(
        "hardlink-to-a-missing-entry", tar(header("h.yaml", b"1", linkname="missing.yaml")), "earlier in the archive"
    ),
    _static(
        "hardlink-with-another-mode",
        tar(file("deploy/a.yaml", HARMLESS) + header("run", b"1", linkname="deploy/a.yaml", mode=0o755)),
        AMBIGUOUS,
    ),
    _static("duplicate-path", tar(file(EVIL, HARMLESS) + file(EVIL, POD)), "same path"),
    _static(
        "duplicate-after-normalisation", tar(file(EVIL, HARMLESS) + file("./manifests//pod.yaml", POD)), "same path"
    ),
    _static("implicit-folder-then-file", tar(file("deploy/a.yaml", HARMLESS) + file("deploy", POD)), "same path"),
    _static("file-then-directory", tar(file("deploy", HARMLESS) + header("deploy/", b"5")), "same path"),
    # the gzip layer
    _static("gzip-wrong-data-crc", gz_custom(tar(file(EVIL, POD)), crc=0), "gzip data is corrupt"),
    _static("gzip-wrong-header-crc", gz_custom(tar(file(EVIL, POD)), flags=0x02, hcrc=0), "gzip data is corrupt"),
    _static("gzip-reserved-flag", gz_custom(tar(file(EVIL, POD)), flags=0x20), "gzip data is corrupt"),
    _static("gzip-member-cut-after-magic", gz(tar(file("a.yaml", HARMLESS))) + b"\x1f\x8b", "truncated|corrupt"),
    # data after the end
    _static("lone-zero-block-then-pod", _lone_zero_block_then_pod(), TRAILING),
    _static("pod-after-end-marker", tar(file("a.yaml", HARMLESS)) + file(EVIL, POD) + END, TRAILING),
    _static(
        "pod-after-end-in-second-gzip-member", gz(tar(file("a.yaml", HARMLESS))) + gz(file(EVIL, POD) + END), TRAILING
    ),
    _static("bytes-after-gzip-stream", gz(tar(file("a.yaml", HARMLESS))) + b"trailing garbage", TRAILING),
    _static("zeros-after-gzip-stream", gz(tar(file("a.yaml", HARMLESS))) + bytes(512), None),
    _static(
        "gzip-member-after-zero-padding",
        gz(tar(file("a.yaml", HARMLESS))) + bytes(512) + gz(file(EVIL, POD) + END),
        TRAILING,
    ),
]


CASES: list[TarCase] = [*ORDINARY, *BY_TOOLS, *AMBIGUOUS_CASES]
