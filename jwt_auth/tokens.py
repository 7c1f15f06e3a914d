"""Access tokens: signed JWTs in the RFC 9068 profile, made and checked here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.utils import timezone

from .conf import jwt_settings
from .errors import TokenExpired, TokenInvalid
from .keys import get_key_set

ACCESS_TOKEN_TYPE = "at+jwt"
# RFC 9068 section 4: "at+jwt" and its full media type name the same type.
ACCEPTED_TYPES = frozenset({"at+jwt", "application/at+jwt"})

# PyJWT checks these claims; presence of "aud" is added when one is configured.
REQUIRED_CLAIMS = ("exp", "iat", "sub", "jti", "iss")

_decoder = jwt.PyJWT()


@dataclass(frozen=True)
class ClaimChecks:
    """What ``verify`` asks of every access token, read from the settings."""

    required: tuple[str, ...]
    issuer: str
    audience: str | list[str] | None
    leeway: timedelta
    max_length: int


_claim_checks: ClaimChecks | None = None


def get_claim_checks() -> ClaimChecks:
    """Return the claim checks for the current settings, read once.

    Every request verifies a token, so the settings are not looked up again
    per request; a change of ``JWT_AUTH`` drops them like the key set.
    """
    global _claim_checks
    if _claim_checks is None:
        audience = jwt_settings.AUDIENCE
        _claim_checks = ClaimChecks(
            required=REQUIRED_CLAIMS + ("aud",) if audience else REQUIRED_CLAIMS,
            issuer=jwt_settings.ISSUER,
            audience=audience,
            leeway=jwt_settings.LEEWAY,
            max_length=jwt_settings.MAX_TOKEN_LENGTH,
        )
    return _claim_checks


def _forget_claim_checks() -> None:
    global _claim_checks
    _claim_checks = None


jwt_settings.on_reload(_forget_claim_checks)


@dataclass(frozen=True)
class AccessToken:
    """A verified access token: its claims and the header that carried them."""

    claims: dict[str, Any]
    header: dict[str, Any]

    @property
    def user_id(self) -> str:
        return self.claims["sub"]

    @property
    def session_id(self) -> str | None:
        return self.claims.get("sid")

    @property
    def jti(self) -> str:
        return self.claims["jti"]

    @property
    def expires_at(self) -> int:
        return self.claims["exp"]

    def __getitem__(self, name: str) -> Any:
        return self.claims[name]


def make_access_token(
    *, user_id: Any, session_id: Any, session_expires_at: datetime
) -> tuple[str, int]:
    """Return a signed access token for one session and its lifetime in seconds.

    The token never outlives its session's absolute expiry.
    """
    key = get_key_set().signing_key
    now = int(timezone.now().timestamp())
    expires = min(
        now + int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        int(session_expires_at.timestamp()),
    )
    claims: dict[str, Any] = {
        "iss": jwt_settings.ISSUER,
        "sub": str(user_id),
        "iat": now,
        "exp": expires,
        "jti": uuid.uuid4().hex,
        "sid": str(session_id),
    }
    if jwt_settings.AUDIENCE:
        claims["aud"] = jwt_settings.AUDIENCE
    headers = {"typ": ACCESS_TOKEN_TYPE, "kid": key.kid}
    token = jwt.encode(claims, key.signing, algorithm=key.algorithm, headers=headers)
    return token, expires - now


class AccessTokenVerifier:
    """Check an access token's signature, header and claims.

    ``get_key`` is the one step that differs between the issuer, which holds
    its keys, and a resource server, which reads them from a JWKS.
    """

    def get_key(self, raw: str) -> tuple[jwt.PyJWK, str]:
        """Return the verifying key for ``raw`` and the kid it must carry."""
        key_set = get_key_set()
        if len(key_set.keys) == 1:
            key = key_set.keys[0]
        else:
            key = key_set.by_kid.get(_unverified_kid(raw))
            if key is None:
                raise TokenInvalid()
        return key.verifying, key.kid

    def verify(self, raw: str) -> AccessToken:
        """Return the verified token, or raise a ``BearerError``."""
        checks = get_claim_checks()
        if len(raw) > checks.max_length:
            raise TokenInvalid()

        key, kid = self.get_key(raw)
        try:
            decoded = _decoder.decode_complete(
                raw,
                key=key,
                algorithms=[key.algorithm_name],
                options={"require": checks.required},
                issuer=checks.issuer,
                audience=checks.audience,
                leeway=checks.leeway,
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired() from None
        except jwt.InvalidTokenError:
            raise TokenInvalid() from None

        header, claims = decoded["header"], decoded["payload"]
        if header.get("kid") != kid:
            raise TokenInvalid()
        if str(header.get("typ", "")).lower() not in ACCEPTED_TYPES:
            raise TokenInvalid()
        if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
            raise TokenInvalid()
        return AccessToken(claims=claims, header=header)


def _unverified_kid(raw: str) -> str | None:
    try:
        kid = jwt.get_unverified_header(raw).get("kid")
    except jwt.InvalidTokenError:
        raise TokenInvalid() from None
    return kid if isinstance(kid, str) else None


def verify_access_token(raw: str) -> AccessToken:
    """Return the verified access token issued by this server."""
    return _issuer_verifier.verify(raw)


_issuer_verifier = AccessTokenVerifier()
