"""A small OCI distribution client: manifests and blobs, with token auth and bounded responses.

Only what ``attach`` needs (and what its tests need to push an image): get/put manifests, check and
upload blobs, read blobs, list referrers. Plain HTTP is used only for a loopback registry or when the
caller says ``insecure``; credentials never travel in clear text to any other host. Every response
body is read with a limit, because the registry is not trusted.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from plugingate import __version__
from plugingate.errors import UndecidedError
from plugingate.oci.auth import Credentials
from plugingate.oci.reference import is_loopback

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_BLOB_BYTES = 64 * 1024 * 1024
_MAX_SMALL_BYTES = 1024 * 1024
_MAX_REDIRECTS = 5

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST)


class RegistryError(UndecidedError):
    """The registry could not be reached, refused us, or answered something we cannot use (exit 3)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Manifest:
    """A manifest as stored: its exact bytes, media type and digest."""

    body: bytes
    media_type: str
    digest: str

    def json(self) -> dict[str, Any]:
        doc = json.loads(self.body)
        if not isinstance(doc, dict):
            raise RegistryError(f"manifest {self.digest} is not a JSON object")
        return doc


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class RegistryClient:
    """A client for one registry (``host[:port]``)."""

    registry: str
    credentials: Credentials | None = None
    insecure: bool = False
    timeout: float = 30.0
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)
    _basic: bool = field(default=False, repr=False)

    @property
    def scheme(self) -> str:
        return "http" if self.insecure or is_loopback(self.registry) else "https"

    # -- manifests --------------------------------------------------------------------------------

    def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        """The manifest at a tag or digest, or None when the registry has none (404)."""
        resp = self._request(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            repository=repository,
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
            limit=MAX_MANIFEST_BYTES,
            ok=(200, 404),
        )
        if resp.status == 404:
            return None
        digest = sha256_digest(resp.body)
        if reference.startswith("sha256:") and digest != reference:
            raise RegistryError(f"{self.registry}/{repository}: manifest {reference} has digest {digest}")
        media = resp.headers.get("content-type", "").split(";", 1)[0].strip()
        if media not in MANIFEST_TYPES:
            with contextlib.suppress(json.JSONDecodeError, AttributeError):
                media = str(json.loads(resp.body).get("mediaType", media))
        return Manifest(body=resp.body, media_type=media, digest=digest)

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        """Store a manifest under a tag or its digest; returns its digest."""
        self._request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            repository=repository,
            push=True,
            headers={"Content-Type": media_type},
            body=body,
            ok=(200, 201),
        )
        return sha256_digest(body)

    def referrers(self, repository: str, digest: str) -> dict[str, Any] | None:
        """The referrers index of a manifest, or None when the registry has no referrers API (404)."""
        resp = self._request(
            "GET",
            f"/v2/{repository}/referrers/{digest}",
            repository=repository,
            headers={"Accept": OCI_INDEX},
            limit=MAX_MANIFEST_BYTES,
            ok=(200, 404),
        )
        if resp.status == 404 or not resp.headers.get("content-type", "").startswith(OCI_INDEX):
            return None
        doc = json.loads(resp.body)
        return doc if isinstance(doc, dict) else None

    # -- blobs ------------------------------------------------------------------------------------

    def has_blob(self, repository: str, digest: str) -> bool:
        resp = self._request("HEAD", f"/v2/{repository}/blobs/{digest}", repository=repository, ok=(200, 404))
        return resp.status == 200

    def get_blob(self, repository: str, digest: str, *, limit: int = MAX_BLOB_BYTES) -> bytes:
        """A blob's bytes, checked against its digest."""
        resp = self._request("GET", f"/v2/{repository}/blobs/{digest}", repository=repository, limit=limit)
        if sha256_digest(resp.body) != digest:
            raise RegistryError(f"{self.registry}/{repository}: blob {digest} does not match its digest")
        return resp.body

    def put_blob(self, repository: str, data: bytes) -> str:
        """Upload a blob (monolithic: POST then PUT) unless the registry has it; returns its digest."""
        digest = sha256_digest(data)
        if self.has_blob(repository, digest):
            return digest
        start = self._request("POST", f"/v2/{repository}/blobs/uploads/", repository=repository, push=True, ok=(202,))
        location = start.headers.get("location")
        if not location:
            raise RegistryError(f"{self.registry}: blob upload started without a Location header")
        sep = "&" if "?" in location else "?"
        self._request(
            "PUT",
            f"{location}{sep}digest={urllib.parse.quote(digest)}",
            repository=repository,
            push=True,
            headers={"Content-Type": "application/octet-stream"},
            body=data,
            ok=(201, 204),
        )
        return digest

    # -- transport --------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        target: str,
        *,
        repository: str,
        push: bool = False,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        limit: int = _MAX_SMALL_BYTES,
        ok: tuple[int, ...] = (200,),
    ) -> Response:
        scope = f"repository:{repository}:{'pull,push' if push else 'pull'}"
        url = target if "://" in target else f"{self.scheme}://{self.registry}{target}"
        resp = self._send(method, url, headers or {}, body, limit, scope)
        if resp.status == 401:
            self._authenticate(resp.headers.get("www-authenticate", ""), scope)
            resp = self._send(method, url, headers or {}, body, limit, scope)
        if resp.status not in ok:
            raise RegistryError(
                f"{method} {_redact(url)}: the registry answered {resp.status}: {_excerpt(resp.body)}",
                hint=_hint(resp.status),
            )
        return resp

    def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, limit: int, scope: str
    ) -> Response:
        for _ in range(_MAX_REDIRECTS + 1):
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https"):
                raise RegistryError(f"refusing a {parts.scheme!r} URL from the registry: {_redact(url)}")
            own_host = parts.netloc == self.registry
            if parts.scheme == "http" and not (self.insecure or is_loopback(parts.netloc)):
                raise RegistryError(
                    f"refusing plain HTTP to {parts.netloc}",
                    hint="plain HTTP is used only for localhost/127.0.0.1; pass --insecure to allow it",
                )
            send_headers = {"User-Agent": f"plugingate/{__version__}", **headers}
            if own_host:
                auth = self._auth_header(scope)
                if auth:
                    send_headers["Authorization"] = auth
            if body is not None:
                send_headers["Content-Length"] = str(len(body))
            resp = self._roundtrip(parts, method, send_headers, body, limit)
            if resp.status in (301, 302, 303, 307, 308) and method in ("GET", "HEAD"):
                location = resp.headers.get("location")
                if not location:
                    return resp
                url = urllib.parse.urljoin(url, location)
                continue
            return resp
        raise RegistryError(f"too many redirects for {_redact(url)}")

    def _roundtrip(
        self, parts: urllib.parse.SplitResult, method: str, headers: dict[str, str], body: bytes | None, limit: int
    ) -> Response:
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.netloc, timeout=self.timeout)
        else:
            conn = http.client.HTTPConnection(parts.netloc, timeout=self.timeout)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            data = b"" if method == "HEAD" else raw.read(limit + 1)
            if len(data) > limit:
                raise RegistryError(f"{method} {parts.netloc}{parts.path}: response larger than {limit} bytes")
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data)
        except (OSError, http.client.HTTPException) as exc:
            raise RegistryError(
                f"cannot reach the registry at {parts.scheme}://{parts.netloc}: {exc}",
                hint="check the registry address, the network, and TLS (--insecure only for a test registry)",
            ) from exc
        finally:
            conn.close()

    def _auth_header(self, scope: str) -> str | None:
        token = self._tokens.get(scope)
        if token is not None:
            return f"Bearer {token}"
        if self._basic and self.credentials is not None:
            creds = f"{self.credentials.username or ''}:{self.credentials.password or ''}"
            return "Basic " + base64.b64encode(creds.encode()).decode()
        return None

    def _authenticate(self, challenge: str, scope: str) -> None:
        scheme, _, rest = challenge.partition(" ")
        params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if scheme.lower() == "basic":
            if self.credentials is None or self.credentials.password is None:
                raise RegistryError(
                    f"{self.registry} requires a login and the Docker config holds none for it",
                    hint="docker login (or add an 'auths' entry to $DOCKER_CONFIG/config.json)",
                )
            self._basic = True
            return
        if scheme.lower() != "bearer" or "realm" not in params:
            raise RegistryError(f"{self.registry}: unsupported authentication challenge {challenge[:200]!r}")
        self._tokens[scope] = self._fetch_token(params, scope)

    def _fetch_token(self, params: dict[str, str], scope: str) -> str:
        realm = urllib.parse.urlsplit(params["realm"])
        if realm.scheme != "https" and not (realm.scheme == "http" and (self.insecure or is_loopback(realm.netloc))):
            raise RegistryError(f"refusing to send credentials to the token realm {params['realm']!r} (not HTTPS)")
        query = {"scope": scope}
        if "service" in params:
            query["service"] = params["service"]
        headers = {"User-Agent": f"plugingate/{__version__}"}
        creds = self.credentials
        method, body = "GET", None
        if creds is not None and creds.identity_token:
            method = "POST"
            form = {"grant_type": "refresh_token", "refresh_token": creds.identity_token, "client_id": "plugingate"}
            form.update(query)
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif creds is not None and creds.password is not None:
            pair = f"{creds.username or ''}:{creds.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        path = realm.path or "/"
        if method == "GET":
            path += (
                ("&" if realm.query else "?")
                + (realm.query + "&" if realm.query else "")
                + urllib.parse.urlencode(query)
            )
        if body is not None:
            headers["Content-Length"] = str(len(body))
        resp = self._roundtrip(realm._replace(path=path, query=""), method, headers, body, _MAX_SMALL_BYTES)
        if resp.status != 200:
            raise RegistryError(
                f"the token service {realm.netloc} refused us ({resp.status}) for {scope}",
                hint="check the credentials in the Docker config (docker login) and the repository's permissions",
            )
        try:
            doc = json.loads(resp.body)
            token = doc.get("token") or doc.get("access_token")
        except (json.JSONDecodeError, AttributeError) as exc:
            raise RegistryError(f"the token service {realm.netloc} answered no JSON") from exc
        if not isinstance(token, str) or not token:
            raise RegistryError(f"the token service {realm.netloc} answered no token")
        return token


def _redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(query="…" if parts.query else ""))


def _excerpt(body: bytes) -> str:
    text = body[:300].decode("utf-8", errors="replace").strip()
    return text or "(empty body)"


def _hint(status: int) -> str | None:
    return {
        401: "log in (docker login) so that the Docker config holds credentials for this registry",
        403: "the credentials lack push (or pull) permission on this repository",
        404: "check the image reference and that the image was pushed",
    }.get(status)
