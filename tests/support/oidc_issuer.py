"""A small OpenID Connect issuer on loopback that mints CI-like identity tokens for a private Fulcio.

Fulcio trusts an issuer by fetching its discovery document
(``/.well-known/openid-configuration``) and its JWKS, then checking a token's signature, ``iss``,
``aud`` and expiry, and the claims of the issuer's type (``github-workflow`` needs
``job_workflow_ref``, ``sha``, ``repository_id`` and a dozen more; ``gitlab-pipeline`` needs
``ci_config_ref_uri``, ``project_path``, ``runner_id`` …). This issuer serves both documents and signs
tokens with the claims GitHub Actions and GitLab CI put in theirs, so the tests can sign as a
workflow of any repository they choose, or with a token for another repository, or an expired one.

# NOTE: one issuer URL is one Fulcio issuer type; the fixture runs one issuer per CI flavour
# (``/github`` and ``/gitlab`` paths on the same server) so both types can be tested at once.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

AUDIENCE = "sigstore"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwk(key_id: str, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> dict[str, str]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"kty": "RSA", "kid": key_id, "use": "sig", "alg": "RS256",
                "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}  # fmt: skip
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise TypeError(f"unsupported key {type(public).__name__}")
    point = public.public_numbers()
    size = 32
    return {
        "kty": "EC",
        "kid": key_id,
        "use": "sig",
        "alg": "ES256",
        "crv": "P-256",
        "x": base64.urlsafe_b64encode(point.x.to_bytes(size, "big")).rstrip(b"=").decode(),
        "y": base64.urlsafe_b64encode(point.y.to_bytes(size, "big")).rstrip(b"=").decode(),
    }


def github_claims(
    repository: str = "acme/exporter",
    *,
    workflow_path: str = ".github/workflows/release.yml",
    ref: str = "refs/heads/main",
    sha: str = "a" * 40,
) -> dict[str, Any]:
    """The claims of a GitHub Actions ID token for a workflow of ``repository`` at ``ref``."""
    owner = repository.split("/", 1)[0]
    workflow_ref = f"{repository}/{workflow_path}@{ref}"
    return {
        "sub": f"repo:{repository}:ref:{ref}",
        "ref": ref,
        "ref_type": "branch",
        "sha": sha,
        "repository": repository,
        "repository_id": "123456",
        "repository_owner": owner,
        "repository_owner_id": "654321",
        "repository_visibility": "public",
        "run_id": "1000",
        "run_number": "7",
        "run_attempt": "1",
        "actor": "octocat",
        "actor_id": "1",
        "workflow": "release",
        "workflow_ref": workflow_ref,
        "workflow_sha": sha,
        "job_workflow_ref": workflow_ref,
        "job_workflow_sha": sha,
        "event_name": "push",
        "runner_environment": "github-hosted",
    }


def github_identity(repository: str = "acme/exporter", *, workflow_path: str = ".github/workflows/release.yml",
                    ref: str = "refs/heads/main") -> str:  # fmt: skip
    """The certificate identity (SAN) Fulcio writes for :func:`github_claims` with the same arguments."""
    return f"https://github.com/{repository}/{workflow_path}@{ref}"


def gitlab_claims(project: str = "acme/exporter", *, ref: str = "main", sha: str = "b" * 40) -> dict[str, Any]:
    """The claims of a GitLab CI ``id_tokens`` token for a pipeline of ``project`` on ``ref``."""
    namespace = project.split("/", 1)[0]
    return {
        "sub": f"project_path:{project}:ref_type:branch:ref:{ref}",
        "namespace_id": "42",
        "namespace_path": namespace,
        "project_id": "4242",
        "project_path": project,
        "project_visibility": "public",
        "user_id": "1",
        "user_login": "alice",
        "pipeline_id": "9000",
        "pipeline_source": "push",
        "job_id": "9001",
        "ref": ref,
        "ref_type": "branch",
        "ref_protected": "true",
        "sha": sha,
        "ci_config_ref_uri": f"gitlab.com/{project}//.gitlab-ci.yml@refs/heads/{ref}",
        "ci_config_sha": sha,
        "runner_id": 77,
        "runner_environment": "gitlab-hosted",
    }


def gitlab_identity(project: str = "acme/exporter", *, ref: str = "main") -> str:
    """The certificate identity (SAN) Fulcio writes for :func:`gitlab_claims`."""
    return f"https://gitlab.com/{project}//.gitlab-ci.yml@refs/heads/{ref}"


@dataclass
class OIDCIssuer:
    """An OIDC issuer serving discovery + JWKS for several issuer paths, and minting their tokens."""

    host: str = "127.0.0.1"
    paths: tuple[str, ...] = ("/github", "/gitlab")
    rsa_key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    ec_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    # NOTE: GitHub's ambient credential: a runner asks ACTIONS_ID_TOKEN_REQUEST_URL with the bearer
    # ACTIONS_ID_TOKEN_REQUEST_TOKEN and gets {"value": <token>}. These claims answer such requests.
    request_token: str = field(default_factory=lambda: uuid.uuid4().hex)
    request_claims: dict[str, Any] = field(default_factory=lambda: github_claims())
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the issuer is not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        """The issuer URL (``iss``) of one of :attr:`paths`."""
        return self.base_url + path

    def jwks(self) -> dict[str, Any]:
        return {"keys": [_jwk("rsa-1", self.rsa_key), _jwk("ec-1", self.ec_key)]}

    def discovery(self, path: str) -> dict[str, Any]:
        issuer = self.url(path)
        return {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks",
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf"],
        }

    def mint(
        self,
        path: str,
        claims: dict[str, Any],
        *,
        algorithm: str = "RS256",
        lifetime: int = 600,
        issued_at: int | None = None,
        audience: str = AUDIENCE,
    ) -> str:
        """A signed ID token from issuer ``path`` with ``claims`` (``iss``/``aud``/times added)."""
        now = int(time.time()) if issued_at is None else issued_at
        body = {
            "iss": self.url(path),
            "aud": audience,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "nbf": now - 5,
            "exp": now + lifetime,
            **claims,
        }
        if algorithm == "RS256":
            return jwt.encode(body, self.rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
        if algorithm == "ES256":
            return jwt.encode(body, self.ec_key, algorithm="ES256", headers={"kid": "ec-1"})
        raise ValueError(f"unsupported algorithm {algorithm}")

    def token_request_url(self) -> str:
        """Where a runner requests its token, as ``ACTIONS_ID_TOKEN_REQUEST_URL`` (GitHub issuer)."""
        return self.url("/github") + "/token-request?api-version=2.0"

    def start(self) -> OIDCIssuer:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/github/token-request?"):
                    if self.headers.get("Authorization", "").lower() != f"bearer {issuer.request_token}":
                        self.send_error(401)
                        return None
                    audience = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("audience", [""])
                    token = issuer.mint("/github", issuer.request_claims, audience=audience[0] or AUDIENCE)
                    return self._json({"value": token})
                for path in issuer.paths:
                    if self.path == f"{path}/.well-known/openid-configuration":
                        return self._json(issuer.discovery(path))
                    if self.path == f"{path}/.well-known/jwks":
                        return self._json(issuer.jwks())
                self.send_error(404)
                return None

            def _json(self, document: dict[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-issuer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
