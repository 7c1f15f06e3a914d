"""Every error a client can see: its status, stable code and message, defined once."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class APIError(exceptions.APIException):
    """An error of this app's own API, answered as ``{"code", "detail"}``."""


class InvalidCredentials(APIError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_credentials"
    default_detail = _("Unable to log in with the provided credentials.")


class InvalidGrant(APIError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_grant"
    default_detail = _("The refresh token is invalid, expired or revoked.")


class ServiceUnavailable(APIError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = _("The service is temporarily unavailable. Try again shortly.")


class RequestTooLarge(APIError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = _("The request body is too large.")


class OTPRequired(APIError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "otp_required"
    default_detail = _(
        "A one-time code is required. If the credentials were correct, a code "
        "has been sent to the account's e-mail address."
    )


class InvalidOTP(APIError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_otp"
    default_detail = _("The one-time code is invalid or has expired.")


class IPBanned(APIError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "ip_banned"
    default_detail = _("Requests from this address are refused for now.")

    def __init__(self, wait: int | None = None) -> None:
        super().__init__()
        # DRF turns ``wait`` into a Retry-After header; a ban with no end has none.
        self.wait = wait


class ClientIPUnknown(APIError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "client_ip_unknown"
    default_detail = _("The client's address could not be determined.")


class KeysUnavailable(APIError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "keys_unavailable"
    default_detail = _(
        "The issuer's keys could not be obtained, so no token can be verified. "
        "Try again shortly."
    )

    def __init__(self, wait: int | None = None) -> None:
        super().__init__()
        # DRF turns ``wait`` into a Retry-After header.
        self.wait = wait


class InvalidClient(exceptions.AuthenticationFailed):
    """Failed client authentication at an endpoint for other services."""

    default_code = "invalid_client"
    default_detail = _("Client authentication failed.")


class IntrospectionForbidden(APIError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "introspection_forbidden"
    default_detail = _(
        "Only introspection clients and staff users may introspect tokens."
    )


class BearerError(exceptions.AuthenticationFailed):
    """A rejected ``Authorization: Bearer`` credential (RFC 6750, section 3.1).

    ``oauth_error`` is the ``error`` attribute of the ``WWW-Authenticate``
    challenge; ``default_code`` is the finer-grained code in the body.
    """

    oauth_error = "invalid_token"


class InvalidRequest(BearerError):
    status_code = status.HTTP_400_BAD_REQUEST
    oauth_error = "invalid_request"
    default_code = "invalid_request"
    default_detail = _("The Authorization header is malformed.")


class TokenInvalid(BearerError):
    default_code = "token_invalid"
    default_detail = _("The access token is invalid.")


class TokenExpired(BearerError):
    default_code = "token_expired"
    default_detail = _("The access token has expired.")


class TokenRevoked(BearerError):
    default_code = "token_revoked"
    default_detail = _("The access token has been revoked.")


def _code_of(exc: exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, exceptions.ErrorDetail) and detail.code:
        return str(detail.code)
    return exc.default_code


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    """Return the JSON body for ``exc``: a code, a message, and field errors."""
    if isinstance(exc, exceptions.ValidationError):
        return {
            "code": "invalid",
            "detail": str(_("Invalid input.")),
            "errors": exc.detail,
        }
    return {"code": _code_of(exc), "detail": str(exc.detail)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer every API error as ``{"code", "detail"}`` JSON.

    A database that cannot be reached answers 503, never a traceback.
    """
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("Database unavailable: %s", type(exc).__name__)
        exc = ServiceUnavailable()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    # Imported here: rest_framework.views loads the project's DRF settings,
    # which may name this app's authentication class, which imports this.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.APIException):
        response.data = error_body(exc)
    return response
