"""Signing keys as cosign reads and writes them: PEM public keys, encrypted private keys, raw signatures.

cosign is what plugin authors and the cluster side already use, so plugingate speaks its formats
exactly: a key pair from ``plugingate keygen`` works with ``cosign sign-blob``, a key from
``cosign generate-key-pair`` works with ``plugingate sign``, and the signatures are interchangeable.

- Public keys: PEM ``PUBLIC KEY`` (PKIX). ECDSA P-256 (SHA-256), Ed25519 (pure), RSA (PKCS#1 v1.5,
  SHA-256).
- Private keys: cosign's ``ENCRYPTED SIGSTORE PRIVATE KEY`` (also the older ``ENCRYPTED COSIGN PRIVATE
  KEY``): a JSON document holding scrypt parameters, a NaCl secretbox nonce and the ciphertext of
  the PKCS#8 DER key. Plain ``PRIVATE KEY`` / ``EC PRIVATE KEY`` PEM files are read as well.
- Signatures: DER for ECDSA (over the SHA-256 of the message), raw for Ed25519, as bytes; the files
  cosign writes hold them base64-encoded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugingate.errors import InputError, VerificationError
from plugingate.files import read_bounded

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey, EllipticCurvePublicKey
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

    PublicKey = EllipticCurvePublicKey | Ed25519PublicKey | RSAPublicKey
    PrivateKey = EllipticCurvePrivateKey | Ed25519PrivateKey | RSAPrivateKey

# NOTE: a key file is a few hundred bytes; anything far larger is not a key and is not parsed.
MAX_KEY_FILE_BYTES = 64 * 1024
# NOTE: a signature file holds one base64 signature (an RSA-4096 one is ~700 characters).
MAX_SIGNATURE_FILE_BYTES = 16 * 1024

ENCRYPTED_PEM_TYPES = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
_WRITE_PEM_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY"
# NOTE: cosign's defaults (scrypt N=2^16, r=8, p=1; 32-byte salt), kept so that cosign reads our keys
# in the time it expects and we read its keys without a surprise.
_SCRYPT_N = 65536
_SCRYPT_R = 8
_SCRYPT_P = 1
# NOTE: scrypt parameters are read from an untrusted file; refuse ones that would eat the machine.
_SCRYPT_MAX_N = 1 << 20

PASSWORD_ENV_VARS = ("PLUGINGATE_PASSWORD", "COSIGN_PASSWORD")


@dataclass(frozen=True, slots=True)
class LoadedPublicKey:
    """A public key, with where it came from and its cosign-style fingerprint (for messages)."""

    key: PublicKey
    source: str
    # NOTE: the file the key was read from, as the policy names it (None for an inline PEM): the
    # policy's trust covers that file's bytes too.
    path: str | None = None

    @property
    def hint(self) -> str:
        """``base64(sha256(DER SubjectPublicKeyInfo))``: the key hint a Sigstore bundle carries."""
        return key_hint(self.key)

    @property
    def algorithm(self) -> str:
        """A short name of the key's algorithm (``ecdsa-p256``, ``ed25519``, ``rsa-2048``)."""
        return key_algorithm(self.key)

    def describe(self) -> str:
        """What a message says about this key: its source, algorithm and fingerprint."""
        return f"key {self.source} ({self.algorithm}, sha256:{fingerprint(self.key)[:16]})"


def _public_der(key: PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_hint(key: PublicKey) -> str:
    """The Sigstore bundle ``publicKey.hint`` for ``key``: base64 of the SHA-256 of its SPKI DER."""
    return base64.b64encode(hashlib.sha256(_public_der(key)).digest()).decode()


def fingerprint(key: PublicKey) -> str:
    """The hex SHA-256 of the key's SPKI DER, shown to people to tell keys apart."""
    return hashlib.sha256(_public_der(key)).hexdigest()


def same_key(a: PublicKey, b: PublicKey) -> bool:
    """Whether two public keys are the same key (compared by their SPKI DER)."""
    return _public_der(a) == _public_der(b)


def key_algorithm(key: PublicKey | PrivateKey) -> str:
    """``ecdsa-p256``, ``ecdsa-p384``, ``ed25519`` or ``rsa-<bits>``."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return {"secp256r1": "ecdsa-p256", "secp384r1": "ecdsa-p384", "secp521r1": "ecdsa-p521"}.get(
            key.curve.name, f"ecdsa-{key.curve.name}"
        )
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return f"rsa-{key.key_size}"
    return type(key).__name__


def public_key_from_pem(data: bytes, *, source: str = "<inline>") -> LoadedPublicKey:
    """Parse a PEM ``PUBLIC KEY`` (or a certificate, whose key is taken) into a supported key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if len(data) > MAX_KEY_FILE_BYTES:
        raise InputError(f"public key is larger than {MAX_KEY_FILE_BYTES} bytes", path=source)
    key: Any
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            # NOTE: cryptography.x509 doubles the import time of a key-signed gate; plain keys don't need it.
            from cryptography import x509

            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"not a PEM public key: {exc}",
            path=source,
            hint="expected a '-----BEGIN PUBLIC KEY-----' file as cosign writes it (cosign.pub)",
        ) from exc
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ("secp256r1", "secp384r1", "secp521r1"):
            raise InputError(f"unsupported elliptic curve {key.curve.name}", path=source)
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise InputError(f"RSA key of {key.key_size} bits is too weak (2048 at least)", path=source)
    elif not isinstance(key, ed25519.Ed25519PublicKey):
        raise InputError(f"unsupported key type {type(key).__name__}; expected ECDSA, Ed25519 or RSA", path=source)
    return LoadedPublicKey(key=key, source=source)


def load_public_key(path: Path) -> LoadedPublicKey:
    """Read a PEM public key file (bounded)."""
    return public_key_from_pem(read_bounded(path, MAX_KEY_FILE_BYTES, "the public key"), source=str(path))


def password_from_env() -> bytes | None:
    """The private key passphrase from ``PLUGINGATE_PASSWORD`` or ``COSIGN_PASSWORD``, if either is set.

    An empty value is a valid (empty) passphrase, as cosign allows.
    """
    for name in PASSWORD_ENV_VARS:
        value = os.environ.get(name)
        if value is not None:
            return value.encode()
    return None


def _pem_blocks(data: bytes) -> tuple[str, bytes]:
    text = data.decode("ascii", errors="replace")
    start = text.find("-----BEGIN ")
    if start < 0:
        raise ValueError("no PEM block found")
    header_end = text.find("-----", start + 11)
    label = text[start + 11 : header_end]
    end_marker = f"-----END {label}-----"
    end = text.find(end_marker, header_end)
    if end < 0:
        raise ValueError(f"PEM block {label!r} has no end line")
    body = "".join(text[header_end + 5 : end].split())
    return label, base64.b64decode(body, validate=True)


def _b64field(doc: dict[str, Any], *path: str) -> bytes:
    node: Any = doc
    for part in path:
        if not isinstance(node, dict) or part not in node:
            raise ValueError(f"missing field {'.'.join(path)}")
        node = node[part]
    if not isinstance(node, str):
        raise ValueError(f"field {'.'.join(path)} is not a string")
    return base64.b64decode(node, validate=True)


def _intfield(doc: dict[str, Any], *path: str) -> int:
    node: Any = doc
    for part in path:
        if not isinstance(node, dict) or part not in node:
            raise ValueError(f"missing field {'.'.join(path)}")
        node = node[part]
    if not isinstance(node, int) or isinstance(node, bool):
        raise ValueError(f"field {'.'.join(path)} is not an integer")
    return node


def decrypt_cosign_key(document: bytes, password: bytes) -> bytes:
    """Decrypt the JSON body of an encrypted cosign private key; returns the PKCS#8 DER.

    Raises ``ValueError`` when the document is malformed and ``PermissionError`` when the passphrase
    is wrong (the secretbox's authenticator does not match).
    """
    import nacl.exceptions
    import nacl.secret

    doc = json.loads(document)
    if not isinstance(doc, dict):
        raise ValueError("encrypted key is not a JSON object")
    kdf = doc.get("kdf", {})
    cipher = doc.get("cipher", {})
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise ValueError("unsupported key derivation (expected scrypt)")
    if not isinstance(cipher, dict) or cipher.get("name") != "nacl/secretbox":
        raise ValueError("unsupported cipher (expected nacl/secretbox)")
    n = _intfield(doc, "kdf", "params", "N")
    r = _intfield(doc, "kdf", "params", "r")
    p = _intfield(doc, "kdf", "params", "p")
    if not (1 < n <= _SCRYPT_MAX_N and n & (n - 1) == 0 and 0 < r <= 32 and 0 < p <= 16):
        raise ValueError(f"scrypt parameters out of range (N={n}, r={r}, p={p})")
    salt = _b64field(doc, "kdf", "salt")
    nonce = _b64field(doc, "cipher", "nonce")
    ciphertext = _b64field(doc, "ciphertext")
    secret = hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)
    try:
        return bytes(nacl.secret.SecretBox(secret).decrypt(ciphertext, nonce))
    except nacl.exceptions.CryptoError as exc:
        raise PermissionError("wrong passphrase") from exc


def encrypt_cosign_key(pkcs8_der: bytes, password: bytes) -> bytes:
    """Encrypt a PKCS#8 DER private key as cosign does; returns the JSON body of the PEM block."""
    import nacl.secret
    import nacl.utils

    salt = os.urandom(32)
    secret = hashlib.scrypt(
        password, salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=256 * 1024 * 1024, dklen=32
    )
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    ciphertext = nacl.secret.SecretBox(secret).encrypt(pkcs8_der, nonce).ciphertext
    doc = {
        "kdf": {
            "name": "scrypt",
            "params": {"N": _SCRYPT_N, "r": _SCRYPT_R, "p": _SCRYPT_P},
            "salt": base64.b64encode(salt).decode(),
        },
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _pem(label: str, der: bytes) -> bytes:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n").encode()


def private_key_from_pem(data: bytes, *, password: bytes | None, source: str = "<inline>") -> PrivateKey:
    """Parse a private key: cosign's encrypted format, or plain PKCS#8 / SEC1 / PKCS#1 PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        label, der = _pem_blocks(data)
    except (ValueError, binascii.Error) as exc:
        raise InputError(f"not a PEM private key: {exc}", path=source) from exc
    key: Any
    if label in ENCRYPTED_PEM_TYPES:
        if password is None:
            raise InputError(
                "the private key is encrypted and no passphrase was given",
                path=source,
                hint="set PLUGINGATE_PASSWORD (or COSIGN_PASSWORD); an empty value means an empty passphrase",
            )
        try:
            der = decrypt_cosign_key(der, password)
        except PermissionError as exc:
            raise InputError(
                "cannot decrypt the private key: wrong passphrase",
                path=source,
                hint="check PLUGINGATE_PASSWORD / COSIGN_PASSWORD",
            ) from exc
        except (ValueError, binascii.Error) as exc:
            raise InputError(f"malformed encrypted private key: {exc}", path=source) from exc
        try:
            key = serialization.load_der_private_key(der, password=None)
        except (ValueError, TypeError) as exc:
            raise InputError(f"decrypted private key is not PKCS#8: {exc}", path=source) from exc
    else:
        try:
            key = serialization.load_pem_private_key(data, password=password or None)
        except (ValueError, TypeError) as exc:
            raise InputError(f"cannot load the private key: {exc}", path=source) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise InputError(f"unsupported private key type {type(key).__name__}", path=source)
    return key


def load_private_key(path: Path, *, password: bytes | None = None) -> PrivateKey:
    """Read a private key file; the passphrase defaults to the environment's (see ``password_from_env``)."""
    data = read_bounded(path, MAX_KEY_FILE_BYTES, "the private key")
    return private_key_from_pem(
        data, password=password if password is not None else password_from_env(), source=str(path)
    )


@dataclass(frozen=True, slots=True)
class KeyPairPem:
    """A key pair as cosign writes it: the encrypted private key and the public key, both PEM."""

    private_pem: bytes
    public_pem: bytes


def public_pem(key: PublicKey) -> bytes:
    """The PEM ``PUBLIC KEY`` of a key."""
    return _pem("PUBLIC KEY", _public_der(key))


def encrypted_private_pem(key: PrivateKey, password: bytes) -> bytes:
    """The ``ENCRYPTED SIGSTORE PRIVATE KEY`` PEM of a private key."""
    from cryptography.hazmat.primitives import serialization

    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return _pem(_WRITE_PEM_TYPE, encrypt_cosign_key(der, password))


def generate_key_pair(password: bytes) -> KeyPairPem:
    """A new ECDSA P-256 key pair, encrypted as ``cosign generate-key-pair`` writes it."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return KeyPairPem(private_pem=encrypted_private_pem(key, password), public_pem=public_pem(key.public_key()))


def _hash_for(key: PublicKey | PrivateKey) -> Any:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return {"secp384r1": hashes.SHA384(), "secp521r1": hashes.SHA512()}.get(key.curve.name, hashes.SHA256())
    return hashes.SHA256()


def sign_bytes(key: PrivateKey, message: bytes) -> bytes:
    """Sign ``message`` as cosign does: ECDSA-SHA256 (DER), Ed25519 pure, RSA PKCS#1 v1.5 SHA-256."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, ec.ECDSA(_hash_for(key)))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), _hash_for(key))
    raise TypeError(f"unsupported key {type(key).__name__}")


def verify_bytes(key: PublicKey, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``key``'s signature of ``message`` (the inverse of ``sign_bytes``)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(_hash_for(key)))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), _hash_for(key))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def verify_digest(key: PublicKey, signature: bytes, digest: bytes) -> bool:
    """Whether ``signature`` signs a message whose SHA-256 is ``digest`` (ECDSA and RSA only).

    Used when only the artifact's digest is at hand. Ed25519 signs the message itself, so a digest
    cannot be checked against it: that raises ``VerificationError`` rather than guessing.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

    if len(digest) != 32:
        return False
    prehashed = utils.Prehashed(hashes.SHA256())
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(prehashed))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, digest, padding.PKCS1v15(), prehashed)
        else:
            raise VerificationError(
                "an Ed25519 signature cannot be checked against a digest alone",
                rule_id="PG-SIG-001",
                hint="pass the artifact file itself rather than its digest",
            )
    except InvalidSignature:
        return False
    return True


def decode_signature_file(data: bytes, *, source: str) -> bytes:
    """The signature bytes of a file as ``cosign sign-blob`` writes it (base64, maybe with a newline)."""
    if len(data) > MAX_SIGNATURE_FILE_BYTES:
        raise InputError(f"signature file is larger than {MAX_SIGNATURE_FILE_BYTES} bytes", path=source)
    text = data.strip()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(
            "not a base64 signature",
            path=source,
            hint="expected the file 'cosign sign-blob --output-signature' writes",
        ) from exc
    if not raw:
        raise InputError("the signature file is empty", path=source)
    return raw


def load_signature_file(path: Path) -> bytes:
    """Read and decode a base64 signature file (bounded)."""
    return decode_signature_file(read_bounded(path, MAX_SIGNATURE_FILE_BYTES, "the signature"), source=str(path))


def write_private(path: Path, data: bytes) -> None:
    """Write a secret file readable by its owner only, refusing to overwrite an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
