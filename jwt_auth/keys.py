"""Signing and verifying keys: where they come from, their ids, and the JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.utils.crypto import salted_hmac
from jwt import InvalidKeyError, PyJWK
from jwt.algorithms import HMACAlgorithm, get_default_algorithms

from .conf import jwt_settings

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
)
ALLOWED_ALGORITHMS = HMAC_ALGORITHMS | ASYMMETRIC_ALGORITHMS
MIN_HMAC_KEY_BYTES = 32

# The members RFC 7638 hashes for a thumbprint, per key type.
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}


class KeyConfigurationError(ValueError):
    """The ``JWT_AUTH`` key settings cannot produce a usable key."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Key:
    """One configured key: ``signing`` is ``None`` for a verify-only key."""

    kid: str
    algorithm: str
    verifying: PyJWK
    signing: Any = None
    public_jwk: dict[str, Any] | None = None


def derive_hmac_secret(secret_key: str) -> bytes:
    """Return the HMAC signing secret derived from a Django ``SECRET_KEY``.

    A dedicated derivation keeps the token key distinct from everything else
    Django signs with ``SECRET_KEY``: a token can never be replayed as a
    signed cookie or a password-reset token, nor the other way round.
    """
    return salted_hmac(
        "jwt_auth.keys", "access-token-signing", secret=secret_key, algorithm="sha512"
    ).digest()


class _CheckedSecretHMAC(HMACAlgorithm):
    """HMAC over one configured secret, checked once instead of per token.

    PyJWT prepares the key of every token it verifies; for an HMAC secret
    that means trying to parse it as a PEM, SSH and DER key, a sizeable share
    of the cost of a decode. The secret of a configured key never changes,
    so it is checked here once; any other key is still checked every time.
    """

    def __init__(self, hash_alg: Any, secret: bytes) -> None:
        super().__init__(hash_alg)
        self.secret = super().prepare_key(secret)

    def prepare_key(self, key: str | bytes) -> bytes:
        if key is self.secret:
            return key
        return super().prepare_key(key)


def _hmac_key(secret: bytes, algorithm: str, kid: str | None) -> Key:
    kid = kid or "hs-" + hashlib.sha256(secret).hexdigest()[:16]
    jwk = PyJWK({"kty": "oct", "k": _b64url(secret)}, algorithm=algorithm)
    try:
        jwk.Algorithm = _CheckedSecretHMAC(jwk.Algorithm.hash_alg, jwk.key)
    except InvalidKeyError:
        raise KeyConfigurationError(
            "An HMAC key must be a secret, not a PEM, SSH or DER key."
        ) from None
    return Key(kid=kid, algorithm=algorithm, verifying=jwk, signing=secret)


def thumbprint(public_jwk: dict[str, Any]) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of a public JWK."""
    members = _THUMBPRINT_MEMBERS[public_jwk["kty"]]
    canonical = json.dumps(
        {name: public_jwk[name] for name in members},
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def _asymmetric_key(entry: dict[str, Any], algorithm: str) -> Key:
    algorithm_class = get_default_algorithms()[algorithm]
    private_pem = entry.get("private_key")
    public_pem = entry.get("public_key")
    try:
        if private_pem:
            private_key = algorithm_class.prepare_key(private_pem)
            public_key = private_key.public_key()
        elif public_pem:
            private_key = None
            public_key = algorithm_class.prepare_key(public_pem)
            if hasattr(public_key, "private_bytes"):
                raise KeyConfigurationError(
                    "public_key holds a private key; put it under private_key."
                )
        else:
            raise KeyConfigurationError(
                "Each key needs a private_key or a public_key (PEM)."
            )
        public_jwk = algorithm_class.to_jwk(public_key, as_dict=True)
    except KeyConfigurationError:
        raise
    except Exception as exc:  # Any parse failure is a configuration error.
        raise KeyConfigurationError(
            f"Cannot load a {algorithm} key: {type(exc).__name__}."
        ) from exc

    kid = entry.get("kid") or thumbprint(public_jwk)
    public_jwk.update({"kid": kid, "alg": algorithm, "use": "sig"})
    return Key(
        kid=kid,
        algorithm=algorithm,
        verifying=PyJWK(public_jwk, algorithm=algorithm),
        signing=private_key,
        public_jwk=public_jwk,
    )


class KeySet:
    """The configured keys: the first signs, every one verifies.

    A resource server, which only verifies, passes ``signs=False`` and may
    then hold public keys alone; an issuer's first key must always sign.
    """

    def __init__(
        self, algorithm: str, entries: list[dict[str, Any]], *, signs: bool = True
    ) -> None:
        if algorithm not in ALLOWED_ALGORITHMS:
            raise KeyConfigurationError(f"Algorithm {algorithm!r} is not allowed.")
        self.algorithm = algorithm
        self.keys = self._load(algorithm, entries)
        if signs and self.keys[0].signing is None:
            raise KeyConfigurationError("The first key must be able to sign.")
        kids = [key.kid for key in self.keys]
        if len(set(kids)) != len(kids):
            raise KeyConfigurationError("Key ids must be unique.")
        self.by_kid = {key.kid: key for key in self.keys}

    @staticmethod
    def _load(algorithm: str, entries: list[dict[str, Any]]) -> list[Key]:
        if algorithm in HMAC_ALGORITHMS:
            if not entries:
                secrets = [settings.SECRET_KEY] + list(
                    getattr(settings, "SECRET_KEY_FALLBACKS", [])
                )
                return [
                    _hmac_key(derive_hmac_secret(secret), algorithm, None)
                    for secret in secrets
                ]
            keys = []
            for entry in entries:
                secret = entry.get("key")
                if isinstance(secret, str):
                    secret = secret.encode()
                if not secret or len(secret) < MIN_HMAC_KEY_BYTES:
                    raise KeyConfigurationError(
                        f"HMAC keys must be at least {MIN_HMAC_KEY_BYTES} bytes."
                    )
                keys.append(_hmac_key(secret, algorithm, entry.get("kid")))
            return keys
        if not entries:
            raise KeyConfigurationError(
                f"{algorithm} needs SIGNING_KEYS with at least one private_key."
            )
        return [_asymmetric_key(entry, algorithm) for entry in entries]

    @property
    def signing_key(self) -> Key:
        return self.keys[0]

    @cached_property
    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """Return the public keys as a JWK Set; empty under HMAC."""
        return {"keys": [key.public_jwk for key in self.keys if key.public_jwk]}


_key_set: KeySet | None = None


def get_key_set() -> KeySet:
    """Return the key set for the current settings, built once."""
    global _key_set
    if _key_set is None:
        _key_set = KeySet(jwt_settings.ALGORITHM, list(jwt_settings.SIGNING_KEYS))
    return _key_set


def _forget_key_set() -> None:
    global _key_set
    _key_set = None


jwt_settings.on_reload(_forget_key_set)
