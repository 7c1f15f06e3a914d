"""Token introspection (RFC 7662): who may ask the issuer, and what it answers.

A resource server that verifies tokens with the JWKS alone sees a revocation
only at expiry; one that asks here sees it on the next request.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any
from urllib.parse import unquote_plus

from django.utils.crypto import constant_time_compare
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .authentication import JWTAuthentication
from .clientip import get_client_ip
from .conf import jwt_settings
from .errors import BearerError, IntrospectionForbidden, InvalidClient
from .protection import throttle_address
from .revocation import get_session_user
from .throttling import throttle
from .tokens import verify_access_token

logger = logging.getLogger(__name__)

# Compared against when the client id is unknown, so that answer takes as
# long as a known client's with a wrong secret.
_NO_SECRET = "-" * 64


class IntrospectionClient:
    """A service that authenticated with its client id and secret; not a user."""

    is_active = True
    is_anonymous = False
    is_authenticated = True
    is_staff = False

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id

    def __str__(self) -> str:
        return self.client_id


def authorization_scheme(request: Request) -> str:
    """Return the scheme of the Authorization header, in lower case."""
    return request.META.get("HTTP_AUTHORIZATION", "").partition(" ")[0].lower()


def check_client(client_id: str, secret: str) -> bool:
    """Return whether ``secret`` is the one configured for ``client_id``."""
    expected = jwt_settings.INTROSPECTION_CLIENTS.get(client_id)
    known = isinstance(expected, str) and expected != ""
    matches = constant_time_compare(secret, expected if known else _NO_SECRET)
    return known and matches


class ClientAuthentication(BaseAuthentication):
    """Authenticate a service by HTTP Basic client id and secret.

    Both are form-encoded before they are joined, as RFC 6749 (section
    2.3.1) says; a secret of URL-safe characters reads the same either way.
    """

    def authenticate(self, request: Request) -> tuple[IntrospectionClient, None] | None:
        if authorization_scheme(request) != "basic":
            return None

        key = self.screen(request)
        try:
            client = self.check_credentials(request)
        except InvalidClient:
            # Failed attempts count against the address's login rate, the
            # one that password guesses meet; the attempt that goes past it
            # is answered 429 instead.
            if key is not None:
                throttle(request, "login", key)
            raise
        return client, None

    def screen(self, request: Request) -> str | None:
        """Refuse an address whose failed attempts are over the login rate.

        Checked before the secret is, so an address over the rate learns
        nothing more about it. Only failures are counted: a service that
        introspects on every request of its own must not be throttled.
        Return the address key, or ``None`` when protection is switched off.
        """
        return throttle_address(request, "login", count=False)

    def check_credentials(self, request: Request) -> IntrospectionClient:
        """Return the client the Basic credentials name, or raise ``InvalidClient``."""
        credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")[2]
        client_id, secret = self.get_credentials(credentials.strip())
        if not check_client(client_id, secret):
            logger.warning(
                "Introspection client authentication failed.",
                extra={"client_id": client_id[:100], "ip": get_client_ip(request)},
            )
            raise InvalidClient()
        return IntrospectionClient(client_id)

    def get_credentials(self, credentials: str) -> tuple[str, str]:
        """Return the client id and secret of a Basic credential."""
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidClient() from None
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise InvalidClient()
        return unquote_plus(client_id), unquote_plus(secret)

    def authenticate_header(self, request: Request) -> str:
        # DRF takes the challenge from the first authentication class alone.
        # A caller that sent a Bearer token is answered in that scheme, with
        # the error its token met (RFC 6750, section 3); any other is asked
        # for client credentials (RFC 7662, section 2.3).
        if authorization_scheme(request) == JWTAuthentication.keyword:
            return JWTAuthentication().authenticate_header(request)
        return f'Basic realm="{jwt_settings.AUTH_HEADER_REALM}"'


class MayIntrospect(BasePermission):
    """Let introspection clients and active staff users introspect."""

    def has_permission(self, request: Request, view: Any) -> bool:
        caller = request.user
        if isinstance(caller, IntrospectionClient):
            return True
        if not (caller and caller.is_authenticated):
            return False  # DRF answers 401 with the Basic challenge.
        if caller.is_active and caller.is_staff:
            return True
        raise IntrospectionForbidden()


def token_parameter(data: Any) -> Any:
    """Return the ``token`` parameter of a form or JSON body, if there is one."""
    return data.get("token") if hasattr(data, "get") else None


def introspect(raw: Any) -> dict[str, Any]:
    """Return what RFC 7662 answers about ``raw``.

    An active access token is one whose signature and claims verify and whose
    session is still live; the answer carries its claims. Anything else is
    ``{"active": false}`` and nothing more, so a caller cannot tell a forged
    token from an expired or a revoked one. Refresh tokens are never active
    here: they are for the client alone.
    """
    if not isinstance(raw, str) or not raw:
        return {"active": False}
    try:
        token = verify_access_token(raw)
        if not isinstance(token.session_id, str):
            return {"active": False}
        user = get_session_user(token.session_id, token.user_id)
    except BearerError:
        return {"active": False}
    return {
        "active": True,
        **token.claims,
        "token_type": "Bearer",
        "username": user.get_username(),
    }
