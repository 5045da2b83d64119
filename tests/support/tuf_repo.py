"""A TUF repository on loopback that distributes a private Sigstore's ``trusted_root.json``.

Kyverno (both policy kinds) and Sigstore policy-controller get Sigstore trust material the way a
cluster does: from a TUF repository (``tuf.mirror`` + ``tuf.root`` in an ImageValidatingPolicy, a
``TrustRoot`` with ``spec.remote`` for policy-controller). Platforms that run their own Sigstore run
their own TUF repository beside it (sigstore/scaffolding does); this is the smallest such repository:
one ed25519 key for the four top-level roles, consistent snapshots, and the one target
``trusted_root.json`` (the clients fall back to it for the Rekor, CT log and Fulcio keys).

# NOTE: why not give the tools the trusted root directly: Kyverno 1.19's ImageValidatingPolicy takes
# ``cosign.trustedRoot`` but still initialises a TUF client first (the public mirror when none is
# given: "failed to initialize TUF client (mirror=https://tuf-repo-cdn.sigstore.dev)" offline), and
# policy-controller 0.13.1's ``TrustRoot.spec.sigstoreKeys`` stores each log id as the hex *text*
# of the key hash, so the bundle verifier finds no log ("not enough verified log entries from
# transparency log: 0 < 1"). Through TUF both read the trusted root as it is.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TRUSTED_ROOT_TARGET = "trusted_root.json"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@dataclass
class TufRepository:
    """A signed TUF repository in ``folder``, served on 127.0.0.1 once :meth:`start` ran."""

    folder: Path
    url: str = ""
    root_json: bytes = b""
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)

    def publish(self, trusted_root: bytes, *, lifetime: timedelta = timedelta(days=7)) -> None:
        """Write root, targets, snapshot and timestamp (version 1) with ``trusted_root.json`` as target."""
        from securesystemslib.signer import CryptoSigner
        from tuf.api.metadata import (
            Metadata,
            MetaFile,
            Role,
            Root,
            Snapshot,
            TargetFile,
            Targets,
            Timestamp,
        )
        from tuf.api.serialization.json import JSONSerializer

        signer = CryptoSigner.generate_ed25519()
        key = signer.public_key
        expires = datetime.now(UTC).replace(microsecond=0) + lifetime
        roles = {name: Role([key.keyid], threshold=1) for name in ("root", "targets", "snapshot", "timestamp")}
        root = Metadata(Root(expires=expires, keys={key.keyid: key}, roles=roles, consistent_snapshot=True))
        targets = Metadata(Targets(expires=expires))
        targets.signed.targets[TRUSTED_ROOT_TARGET] = TargetFile.from_data(TRUSTED_ROOT_TARGET, trusted_root)
        serializer = JSONSerializer(compact=False)
        targets.sign(signer)
        targets_bytes = targets.to_bytes(serializer)
        snapshot = Metadata(Snapshot(expires=expires))
        snapshot.signed.meta["targets.json"] = MetaFile(version=1)
        snapshot.sign(signer)
        snapshot_bytes = snapshot.to_bytes(serializer)
        timestamp = Metadata(Timestamp(expires=expires))
        timestamp.signed.snapshot_meta = MetaFile(version=1)
        timestamp.sign(signer)
        root.sign(signer)
        self.root_json = root.to_bytes(serializer)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "1.root.json").write_bytes(self.root_json)
        (self.folder / "root.json").write_bytes(self.root_json)
        (self.folder / "1.targets.json").write_bytes(targets_bytes)
        (self.folder / "1.snapshot.json").write_bytes(snapshot_bytes)
        (self.folder / "timestamp.json").write_bytes(timestamp.to_bytes(serializer))
        stored = self.folder / "targets"
        stored.mkdir(exist_ok=True)
        digest = hashlib.sha256(trusted_root).hexdigest()
        (stored / f"{digest}.{TRUSTED_ROOT_TARGET}").write_bytes(trusted_root)
        (stored / TRUSTED_ROOT_TARGET).write_bytes(trusted_root)

    def start(self) -> TufRepository:
        handler = partial(_QuietHandler, directory=str(self.folder))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
