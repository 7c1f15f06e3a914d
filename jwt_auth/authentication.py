"""The DRF authentication class for ``Authorization: Bearer`` access tokens."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from .conf import jwt_settings
from .errors import BearerError, InvalidRequest, TokenInvalid
from .revocation import get_session_user
from .tokens import AccessToken, verify_access_token

_CHALLENGE_ATTRIBUTE = "_jwt_auth_challenge"


class JWTAuthentication(BaseAuthentication):
    """Authenticate a request by the access token in its Authorization header.

    Only the header is read (RFC 6750, section 2.1): a token in a query
    string or a form body would end up in logs and browser history.
    """

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[Any, AccessToken] | None:
        header = self.get_header(request)
        if header is None:
            return None

        try:
            raw = self.get_raw_token(header)
            if raw is None:
                return None
            token = self.get_validated_token(raw)
            user = self.get_user(token)
        except BearerError as exc:
            # Kept for authenticate_header(), which DRF calls separately.
            setattr(request, _CHALLENGE_ATTRIBUTE, exc)
            raise
        return user, token

    def get_header(self, request: Request) -> str | None:
        """Return the Authorization header, or ``None`` when there is none."""
        return request.META.get("HTTP_AUTHORIZATION")

    def get_raw_token(self, header: str) -> str | None:
        """Return the token of a Bearer header; ``None`` for other schemes."""
        parts = header.split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise InvalidRequest()
        return parts[1]

    def get_validated_token(self, raw: str) -> AccessToken:
        """Return the verified token, or raise a ``BearerError``."""
        return verify_access_token(raw)

    def get_user(self, token: AccessToken) -> Any:
        """Return the user of the token's session, which must still be live."""
        session_id = token.session_id
        if not isinstance(session_id, str):
            raise TokenInvalid()
        return get_session_user(session_id, token.user_id)

    def authenticate_header(self, request: Request) -> str:
        realm = jwt_settings.AUTH_HEADER_REALM
        exc = getattr(request, _CHALLENGE_ATTRIBUTE, None)
        if exc is None:
            return f'Bearer realm="{realm}"'
        # A quoted-string may not hold a quote or a backslash (RFC 6750, 3).
        description = str(exc.detail).replace("\\", "").replace('"', "'")
        return (
            f'Bearer realm="{realm}", error="{exc.oauth_error}", '
            f'error_description="{description}"'
        )
