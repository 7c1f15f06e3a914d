"""The DRF authentication class for access tokens this server issued."""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError

from .bearer import BearerAuthentication
from .errors import ServiceUnavailable, TokenInvalid
from .revocation import get_session_user
from .tokens import AccessToken, verify_access_token


class JWTAuthentication(BearerAuthentication):
    """Authenticate a request by an access token this server issued.

    The token's session must still be live, so a revocation takes effect on
    the next request.
    """

    def get_validated_token(self, raw: str) -> AccessToken:
        """Return the verified token, or raise a ``BearerError``."""
        return verify_access_token(raw)

    def get_user(self, token: AccessToken) -> Any:
        """Return the user of the token's session, which must still be live."""
        session_id = token.session_id
        if not isinstance(session_id, str):
            raise TokenInvalid()
        try:
            return get_session_user(session_id, token.user_id)
        except (OperationalError, InterfaceError):
            # Whatever the project's exception handler, a database that is
            # down answers 503, not a traceback.
            raise ServiceUnavailable() from None
