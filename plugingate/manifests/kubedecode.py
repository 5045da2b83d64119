"""The second reading of the manifests: the objects as kubectl decodes them, from the pinned Go helper.

The gate's own (Python) reading can differ from Kubernetes' in ways an attacker chooses: YAML 1.1
scalars (``y`` is a boolean for kubectl, a string for PyYAML), document separators, merge keys,
objects with an ``items`` list. ``tools/k8sdecode`` decodes every manifest file with kubectl's own
libraries (apimachinery's YAML-or-JSON decoder, sigs.k8s.io/yaml, the unstructured scheme and
kubectl's list expansion) and prints the objects kubectl would send; ``agreement`` then holds the two
readings against each other.

The helper runs once per gate for all files, in a thread, while the Python reading parses the same
files: it is started before the Python reading and collected after it.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugingate.errors import ToolError
from plugingate.tools.locate import Helper
from plugingate.tools.runner import ToolRunner, last_lines

HELPER_TIMEOUT = 120.0
# NOTE: the helper's answer is the objects as JSON; the Python reading bounds the files to 32 MiB
# together, so a larger answer means something is wrong with the helper, not with the bundle.
HELPER_STDOUT_LIMIT = 256 << 20


@dataclass(frozen=True, slots=True)
class KubeDocument:
    """One document as kubectl splits it: ``index`` in kubectl's count, its objects, or its error."""

    index: int
    objects: tuple[dict[str, Any], ...]
    error: str | None = None
    type: tuple[str, str] | None = None  # the document's own apiVersion and kind (a list's, before expansion)


@dataclass(frozen=True, slots=True)
class KubeFile:
    """One file as kubectl reads it; ``error`` is a stream error (kubectl stops reading the file there)."""

    path: str
    documents: tuple[KubeDocument, ...]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class KubeReading:
    """Every manifest file as kubectl reads it, by the path shown in messages; ``tool`` names the decoder."""

    files: Mapping[str, KubeFile]
    tool: str = "k8sdecode"


class KubernetesReader(ABC):
    """Reads manifest files as Kubernetes does; ``start`` returns at once, the answer comes later."""

    @abstractmethod
    def start(self, files: Sequence[tuple[str, Path]]) -> Future[KubeReading]:
        """Begin decoding ``files`` (shown path, real path); the future fails with ``ToolError`` (exit 3)."""


@dataclass(frozen=True, slots=True)
class HelperReader(KubernetesReader):
    """``tools/k8sdecode`` through the tool runner (scrubbed environment, timeout, stopped with the gate)."""

    runner: ToolRunner = field(default_factory=ToolRunner)
    timeout: float = HELPER_TIMEOUT

    def start(self, files: Sequence[tuple[str, Path]]) -> Future[KubeReading]:
        future: Future[KubeReading] = Future()
        request = {"files": [{"path": shown, "real": str(real)} for shown, real in files]}

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(self._decode(request))
            except BaseException as exc:  # NOTE: handed to the caller, who re-raises it
                future.set_exception(exc)

        threading.Thread(target=work, name="plugingate-k8sdecode", daemon=True).start()
        return future

    def _decode(self, request: dict[str, Any]) -> KubeReading:
        info = self.runner.info(Helper.K8SDECODE)
        run = self.runner.run(
            Helper.K8SDECODE,
            ["-request", "{work}/request.json"],
            files={"request.json": json.dumps(request)},
            timeout=self.timeout,
            stdout_limit=HELPER_STDOUT_LIMIT,
        )
        if run.returncode != 0:
            raise ToolError(
                f"k8sdecode {info.version} failed (exit {run.returncode}): {last_lines(run.stderr)}",
                tool=str(Helper.K8SDECODE),
                stderr=run.stderr,
                hint="the manifests cannot be read as Kubernetes reads them; run scripts/setup-tools to rebuild it",
            )
        reading = parse_answer(run.stdout, [f["path"] for f in request["files"]])
        return KubeReading(files=reading, tool=f"k8sdecode {info.version}")


@dataclass(frozen=True, slots=True)
class StartedReader(KubernetesReader):
    """A reading started ahead of time for ``files`` (beside syft); other files are read anew by ``fallback``."""

    files: tuple[tuple[str, Path], ...]
    future: Future[KubeReading]
    fallback: KubernetesReader

    def start(self, files: Sequence[tuple[str, Path]]) -> Future[KubeReading]:
        if tuple(files) == self.files:
            return self.future
        return self.fallback.start(files)


def parse_answer(stdout: bytes, expected: Sequence[str]) -> dict[str, KubeFile]:
    """The helper's JSON answer, checked strictly: an answer of another shape is a broken helper (exit 3)."""
    try:
        doc = json.loads(stdout)
        files = doc["files"]
        out: dict[str, KubeFile] = {}
        for entry in files:
            documents = tuple(
                KubeDocument(
                    index=_int(d["index"]),
                    objects=tuple(_objects(d["objects"])),
                    error=_text(d["error"]),
                    type=_type(d.get("type")),
                )
                for d in entry["documents"]
            )
            out[_str(entry["path"])] = KubeFile(path=entry["path"], documents=documents, error=_text(entry["error"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolError(
            f"k8sdecode answered something that is not its JSON answer: {exc}",
            tool=str(Helper.K8SDECODE),
            hint="run scripts/setup-tools to rebuild tools/k8sdecode",
        ) from exc
    if list(out) != list(expected):
        raise ToolError(
            f"k8sdecode answered for {len(out)} file(s), {len(expected)} were asked",
            tool=str(Helper.K8SDECODE),
        )
    return out


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, found {value!r}")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {value!r}")
    return value


def _text(value: object) -> str | None:
    return None if value is None else _str(value)


def _type(value: object) -> tuple[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(f"expected a type, found {value!r}")
    return _str(value["apiVersion"]), _str(value["kind"])


def _objects(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(o, dict) for o in value):
        raise TypeError("expected a list of objects")
    return value
