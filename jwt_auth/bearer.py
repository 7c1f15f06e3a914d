"""The Bearer scheme (RFC 6750): reading the header and answering with a challenge.

The classes here import no models, so a resource server without this app's
tables can build on them.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from .conf import jwt_settings
from .errors import BearerError, InvalidRequest
from .tokens import AccessToken

_CHALLENGE_ATTRIBUTE = "_jwt_auth_challenge"


class BearerAuthentication(BaseAuthentication):
    """Authenticate a request by the access token in its Authorization header.

    Only the header is read (RFC 6750, section 2.1): a token in a query
    string or a form body would end up in logs and browser history.
    Subclasses say how a token is verified (``get_validated_token``) and whose
    it is (``get_user``).
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
        raise NotImplementedError

    def get_user(self, token: AccessToken) -> Any:
        """Return the user the verified token speaks for."""
        raise NotImplementedError

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
