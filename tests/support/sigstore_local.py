"""A private Sigstore instance on loopback, for keyless signing and verification that really happen.

What runs (every service on 127.0.0.1, built pinned by ``scripts/setup-sigstore-tools``):

- :class:`~tests.support.oidc_issuer.OIDCIssuer` (Python, in this process): two issuers,
  ``/github`` (Fulcio type ``github-workflow``) and ``/gitlab`` (``gitlab-pipeline``);
- Fulcio with a file CA whose key this fixture made (and keeps: ``mint_certificate`` issues a leaf
  under the same root, e.g. an expired one), trusting those issuers, logging every certificate to
- TesseraCT (static-CT API on local files): Fulcio embeds its SCT, which every Sigstore verifier
  checks (sigstore-python fails a certificate without one);
- a timestamp authority with an in-memory signer;
- Rekor v1 on Trillian (log server + log signer) on a private MariaDB.

# NOTE: why Rekor v1 and not rekor-tiles (Rekor v2): the rekor-tiles version the Go module proxy serves
# (v0.1.11) keeps its log only in GCS + Spanner; it has no local storage. sigstore-python 4.x will not
# sign without a transparency log in the signing config ("No valid Rekor transparency log found"), so
# going without a tlog was not an option; Rekor v1 with Trillian and MariaDB runs here in seconds.
# NOTE: why a file CA rather than Fulcio's ephemeral one: Fulcio issues 10-minute certificates dated
# now and cannot be asked for another validity, so a signature made with an expired certificate can
# only be had from a CA whose key the test holds. The leaf is then a real Fulcio-profile certificate
# under the real root, with an SCT from the real CT log, timestamped by the real TSA and logged in
# the real Rekor (neither checks the certificate's dates); only its dates are chosen. Shifting the
# verifier's clock instead would not do: the verifier takes the signing time from the TSA and Rekor.
# NOTE: the timestamp server and Rekor both open their Prometheus listener on the fixed port 2112
# (not configurable in these versions: ``Addr: ":2112"`` in timestamp-authority's pkg/server/prometheus.go
# and rekor's cmd/rekor-server/app/serve.go, no flag); the TSA exits when it cannot, Rekor ignores it.
# So two instances cannot run at once on one machine: each takes an exclusive lock
# (``~/.cache/plugingate/locks/sigstore-2112.lock``) for its life and a second one waits for it
# (``PLUGINGATE_SIGSTORE_LOCK_WAIT`` seconds, default 1800); a 2112 held by anything else is reported.

The instance is described by ``trusted_root.json``, ``signing_config.json`` and
``trust_config.json`` (a sigstore-python ``ClientTrustConfig``) in its work folder.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.oidc_issuer import OIDCIssuer

TOOL_VARIABLES = {
    "fulcio": "PLUGINGATE_FULCIO",
    "tsa": "PLUGINGATE_TSA",
    "tesseract": "PLUGINGATE_TESSERACT",
    "rekor": "PLUGINGATE_REKOR",
    "log_server": "PLUGINGATE_TRILLIAN_LOG_SERVER",
    "log_signer": "PLUGINGATE_TRILLIAN_LOG_SIGNER",
    "schema": "PLUGINGATE_TRILLIAN_SCHEMA",
    "mariadbd": "PLUGINGATE_MARIADBD",
}
OPERATOR = "plugingate-tests"
PROMETHEUS_PORT = 2112
CT_ORIGIN = "ct.plugingate.test"  # NOTE: TesseraCT wants a host[/path] origin, and a port is not one


class SigstoreUnavailableError(RuntimeError):
    """A tool of the instance is missing (the caller skips, or under CI fails)."""


def find_tools(env: dict[str, str] | None = None) -> dict[str, Path]:
    """The instance's programs from ``scripts/setup-sigstore-tools --print-env`` variables."""
    env = dict(os.environ if env is None else env)
    found: dict[str, Path] = {}
    missing: list[str] = []
    for name, variable in TOOL_VARIABLES.items():
        value = env.get(variable)
        if value and Path(value).exists():
            found[name] = Path(value)
        else:
            missing.append(variable)
    if missing:
        raise SigstoreUnavailableError(
            f'the private Sigstore needs {", ".join(missing)}: run eval "$(scripts/setup-sigstore-tools --print-env)"'
        )
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _der_public_key(pem: bytes) -> bytes:
    key = serialization.load_pem_public_key(pem)
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _pem_chain(pem: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem)


def _http_get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return bytes(response.read())


@dataclass
class LocalSigstore:
    """A running private Sigstore: its URLs, the issuer that mints tokens, and its trust files."""

    work: Path
    tools: dict[str, Path]
    issuer: OIDCIssuer = field(default_factory=OIDCIssuer)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    fulcio_url: str = ""
    ct_url: str = ""
    tsa_url: str = ""
    rekor_url: str = ""
    started_in: float = 0.0
    _ca_chain: list[x509.Certificate] = field(default_factory=list)
    _ca_key: ec.EllipticCurvePrivateKey | None = None
    _lock_handle: Any = None
    _tsa_chain: list[x509.Certificate] = field(default_factory=list)
    _ct_key_der: bytes = b""
    _rekor_key_der: bytes = b""

    # -- paths -------------------------------------------------------------------------------
    @property
    def trusted_root(self) -> Path:
        return self.work / "trusted_root.json"

    @property
    def signing_config(self) -> Path:
        return self.work / "signing_config.json"

    @property
    def trust_config(self) -> Path:
        return self.work / "trust_config.json"

    @property
    def ca_key(self) -> ec.EllipticCurvePrivateKey:
        """The file CA's key (the test may issue certificates under the root with it)."""
        assert self._ca_key is not None, "the instance is not started"
        return self._ca_key

    @property
    def ca_root(self) -> x509.Certificate:
        return self._ca_chain[-1]

    def github_issuer(self) -> str:
        return self.issuer.url("/github")

    def gitlab_issuer(self) -> str:
        return self.issuer.url("/gitlab")

    # -- processes ---------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.work / f"{name}.log").open("wb")
        # NOTE: TesseraCT's OpenTelemetry exporter would post metrics to localhost:4318 otherwise.
        env = {
            **os.environ,
            "OTEL_SDK_DISABLED": "true",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_TRACES_EXPORTER": "none",
        }
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=env
        )
        self.processes.append((name, process))
        return process

    def _wait(self, name: str, check: Any, timeout: float = 60.0) -> Any:
        """Poll ``check()`` until it returns something true; fail with the service's log otherwise."""
        deadline = time.monotonic() + timeout
        process = dict(self.processes).get(name)
        last: Exception | None = None
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                break
            try:
                result = check()
                if result:
                    return result
            except (OSError, urllib.error.URLError, subprocess.CalledProcessError, ValueError) as exc:
                last = exc
            time.sleep(0.1)
        tail = ""
        log = self.work / f"{name}.log"
        if log.exists():
            tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{name} did not come up ({last}); its log ends:\n{tail}")

    def _lock(self) -> None:
        """Wait for the machine-wide lock on the fixed metrics port (see the module's NOTE)."""
        import fcntl

        folder = Path.home() / ".cache" / "plugingate" / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / "sigstore-2112.lock").open("w")
        deadline = time.monotonic() + float(os.environ.get("PLUGINGATE_SIGSTORE_LOCK_WAIT", "1800"))
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    handle.close()
                    raise RuntimeError(
                        "another private Sigstore has held the metrics port 2112 lock too long "
                        f"({folder / 'sigstore-2112.lock'})"
                    ) from None
                time.sleep(1.0)
        self._lock_handle = handle

    def stop(self) -> None:
        try:
            self._stop_processes()
        finally:
            if self._lock_handle is not None:
                self._lock_handle.close()  # NOTE: closing releases the flock
                self._lock_handle = None

    def _stop_processes(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for _name, process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self.issuer.stop()

    # -- start -------------------------------------------------------------------------------
    def start(self) -> LocalSigstore:
        self.work.mkdir(parents=True, exist_ok=True)
        self._lock()
        began = time.monotonic()  # NOTE: after the lock: waiting for another instance is not start-up
        self.issuer.start()
        self._start_tsa()
        self._start_fulcio()
        self._start_ct_log()
        self._start_rekor()
        self._write_trust_files()
        self.started_in = time.monotonic() - began
        return self

    def _start_tsa(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("", PROMETHEUS_PORT))
            except OSError as exc:
                raise RuntimeError(
                    f"port {PROMETHEUS_PORT} is busy ({exc}): the timestamp server opens its metrics "
                    "listener there and exits when it cannot (is another private Sigstore running?)"
                ) from exc
        port = free_port()
        self._spawn(
            "tsa",
            [str(self.tools["tsa"]), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--timestamp-signer", "memory", "--disable-ntp-monitoring"],
        )  # fmt: skip
        self.tsa_url = f"http://127.0.0.1:{port}"
        chain = self._wait("tsa", lambda: _http_get(f"{self.tsa_url}/api/v1/timestamp/certchain"))
        self._tsa_chain = _pem_chain(chain)

    def _start_fulcio(self) -> None:
        port, grpc_port, metrics_port, ct_port = free_port(), free_port(), free_port(), free_port()
        self.ct_url = f"http://127.0.0.1:{ct_port}"
        config = {
            "OIDCIssuers": {
                self.github_issuer(): {
                    "IssuerURL": self.github_issuer(),
                    "ClientID": "sigstore",
                    "Type": "github-workflow",
                },
                self.gitlab_issuer(): {
                    "IssuerURL": self.gitlab_issuer(),
                    "ClientID": "sigstore",
                    "Type": "gitlab-pipeline",
                },
            }
        }
        config_path = self.work / "fulcio-config.json"
        config_path.write_text(json.dumps(config, indent=2))
        ca_cert, ca_key = self._write_file_ca()
        self._spawn(
            "fulcio",
            [str(self.tools["fulcio"]), "serve", "--ca", "fileca", "--fileca-cert", str(ca_cert),
             "--fileca-key", str(ca_key), "--fileca-key-passwd", "", "--fileca-watch=false",
             "--config-path", str(config_path),
             "--host", "127.0.0.1", "--port", str(port), "--grpc-host", "127.0.0.1",
             "--grpc-port", str(grpc_port), "--metrics-port", str(metrics_port),
             "--legacy-unix-domain-socket", str(self.work / "fulcio-legacy.sock"),
             "--ct-log-url", self.ct_url, "--log_type", "dev"],
        )  # fmt: skip
        self.fulcio_url = f"http://127.0.0.1:{port}"
        bundle = self._wait("fulcio", lambda: json.loads(_http_get(f"{self.fulcio_url}/api/v2/trustBundle")))
        certs = bundle["chains"][0]["certificates"]
        self._ca_chain = [x509.load_pem_x509_certificate(c.encode()) for c in certs]

    def _write_file_ca(self) -> tuple[Path, Path]:
        """A self-signed root for Fulcio's file CA (P-256); its key stays with the fixture."""
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(x509.oid.NameOID.ORGANIZATION_NAME, OPERATOR),
                x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "fulcio-root"),
            ]
        )
        now = datetime.now(UTC)
        usage = x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
        )  # fmt: skip
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        cert_path, key_path = self.work / "fulcio-ca.pem", self.work / "fulcio-ca-key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pkcs8 = serialization.PrivateFormat.PKCS8
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()))
        self._ca_key = key
        return cert_path, key_path

    def _start_ct_log(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        key_path = self.work / "ct-key.pem"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
            )
        )
        self._ct_key_der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        roots = self.work / "ct-roots.pem"
        roots.write_bytes(self._ca_chain[-1].public_bytes(serialization.Encoding.PEM))
        storage = self.work / "ct-storage"
        storage.mkdir(exist_ok=True)
        host_port = self.ct_url.removeprefix("http://")
        self._spawn(
            "ctlog",
            [str(self.tools["tesseract"]), "--http_endpoint", host_port, "--origin", CT_ORIGIN,
             "--storage_dir", str(storage), "--roots_pem_file", str(roots), "--private_key", str(key_path),
             "--checkpoint_interval", "200ms", "--batch_max_age", "50ms"],
        )  # fmt: skip
        self._wait("ctlog", lambda: _http_get(f"{self.ct_url}/ct/v1/get-roots"))

    def _mariadb(self) -> str:
        """Start a private MariaDB on a socket; returns Trillian's DSN."""
        data = self.work / "mariadb"
        socket_path = self.work / "mariadb.sock"
        install_db = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
        client = shutil.which("mariadb") or "/usr/bin/mariadb"
        subprocess.run(
            [install_db, "--no-defaults", f"--datadir={data}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self._spawn(
            "mariadb",
            [str(self.tools["mariadbd"]), "--no-defaults", f"--datadir={data}", f"--socket={socket_path}",
             "--skip-networking", "--user=root", f"--pid-file={self.work / 'mariadb.pid'}",
             "--innodb-buffer-pool-size=32M", "--skip-log-bin"],
        )  # fmt: skip

        def ready() -> bool:
            subprocess.run(
                [client, "--no-defaults", "-S", str(socket_path), "-u", "root", "-e", "SELECT 1"],
                check=True, capture_output=True, timeout=10,
            )  # fmt: skip
            return True

        self._wait("mariadb", ready)
        schema = self.tools["schema"].read_bytes()
        subprocess.run(
            [client, "--no-defaults", "-S", str(socket_path), "-u", "root", "-e", "CREATE DATABASE trillian"],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        subprocess.run(
            [client, "--no-defaults", "-S", str(socket_path), "-u", "root", "trillian"],
            input=schema, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        return f"root@unix({socket_path})/trillian"

    def _start_rekor(self) -> None:
        dsn = self._mariadb()
        rpc, http, signer_rpc, signer_http, port = free_port(), free_port(), free_port(), free_port(), free_port()
        common = ["--storage_system=mysql", f"--mysql_uri={dsn}", "--quota_system=noop"]
        self._spawn(
            "trillian-log-server",
            [str(self.tools["log_server"]), *common, f"--rpc_endpoint=127.0.0.1:{rpc}",
             f"--http_endpoint=127.0.0.1:{http}"],
        )  # fmt: skip
        self._spawn(
            "trillian-log-signer",
            [str(self.tools["log_signer"]), *common, "--force_master", f"--rpc_endpoint=127.0.0.1:{signer_rpc}",
             f"--http_endpoint=127.0.0.1:{signer_http}", "--sequencer_interval=50ms", "--batch_size=100"],
        )  # fmt: skip
        self._wait("trillian-log-server", lambda: _http_get(f"http://127.0.0.1:{http}/healthz"))
        self._spawn(
            "rekor",
            [str(self.tools["rekor"]), "serve", "--trillian_log_server.address=127.0.0.1",
             f"--trillian_log_server.port={rpc}", "--rekor_server.address=127.0.0.1", f"--port={port}",
             "--rekor_server.signer=memory", "--enable_retrieve_api=false", "--log_type=dev",
             "--rekor_server.hostname=rekor.plugingate.test"],
        )  # fmt: skip
        self.rekor_url = f"http://127.0.0.1:{port}"
        pem = self._wait("rekor", lambda: _http_get(f"{self.rekor_url}/api/v1/log/publicKey"))
        self._rekor_key_der = _der_public_key(pem)

    # -- trust files -------------------------------------------------------------------------
    def _write_trust_files(self) -> None:
        start = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def chain(certs: list[x509.Certificate]) -> dict[str, Any]:
            return {"certificates": [{"rawBytes": _b64(c.public_bytes(serialization.Encoding.DER))} for c in certs]}

        def log(url: str, der: bytes) -> dict[str, Any]:
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": _b64(der),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": start},
                },
                "logId": {"keyId": _b64(hashlib.sha256(der).digest())},
            }

        trusted_root = {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(self.rekor_url, self._rekor_key_der)],
            "certificateAuthorities": [
                {
                    "subject": {"organization": OPERATOR, "commonName": "fulcio"},
                    "uri": self.fulcio_url,
                    "certChain": chain(self._ca_chain),
                    "validFor": {"start": start},
                }
            ],
            "ctlogs": [log(self.ct_url, self._ct_key_der)],
            "timestampAuthorities": [
                {
                    "subject": {"organization": OPERATOR, "commonName": "tsa"},
                    "uri": f"{self.tsa_url}/api/v1/timestamp",
                    "certChain": chain(self._tsa_chain),
                    "validFor": {"start": start},
                }
            ],
        }

        def service(url: str) -> dict[str, Any]:
            return {"url": url, "majorApiVersion": 1, "validFor": {"start": start}, "operator": OPERATOR}

        signing_config = {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(self.fulcio_url)],
            "oidcUrls": [service(self.github_issuer())],
            "rekorTlogUrls": [service(self.rekor_url)],
            "tsaUrls": [service(f"{self.tsa_url}/api/v1/timestamp")],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        }
        self.trusted_root.write_text(json.dumps(trusted_root, indent=2))
        self.signing_config.write_text(json.dumps(signing_config, indent=2))
        self.trust_config.write_text(
            json.dumps(
                {
                    "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
                    "trustedRoot": trusted_root,
                    "signingConfig": signing_config,
                },
                indent=2,
            )
        )


@contextlib.contextmanager
def running_sigstore(work: Path, tools: dict[str, Path] | None = None) -> Iterator[LocalSigstore]:
    """Start a private Sigstore under ``work``; stop every process on the way out."""
    instance = LocalSigstore(work=work, tools=tools or find_tools())
    try:
        yield instance.start()
    finally:
        instance.stop()
