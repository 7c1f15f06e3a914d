"""The HTTP API: thin views over the accounts, sessions, keys and introspection."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import accounts, introspection, protection, sessions
from .authentication import JWTAuthentication
from .errors import exception_handler
from .keys import get_key_set
from .models import Attempt, Session
from .serializers import (
    JSONParser,
    LoginSerializer,
    PasswordChangeSerializer,
    RefreshSerializer,
    RegisterSerializer,
)


class JWTAuthView(APIView):
    """JSON in, JSON out, errors as ``{"code", "detail"}`` whatever the project's
    DRF settings say."""

    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class: Any = None

    def get_exception_handler(self):
        return exception_handler

    def validated(self, request: Request) -> dict[str, Any]:
        serializer = self.serializer_class(
            data=request.data, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class BearerView(JWTAuthView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]


def _submitted(request: Request, name: str) -> str:
    """Return a field of the body as sent, before validation, for the log."""
    data = request.data
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def token_response(
    issued: sessions.IssuedTokens, user: Any = None, status_code: int = 200
) -> Response:
    body = issued.as_response()
    if user is not None:
        body["user"] = accounts.user_data(user)
    # Token responses must not be cached (RFC 6749, section 5.1).
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    return Response(body, status=status_code, headers=headers)


class RegisterView(JWTAuthView):
    serializer_class = RegisterSerializer
    screens_bans = True

    def post(self, request: Request) -> Response:
        # Screened before validation: invalid attempts count toward the
        # throttle, and a banned address learns nothing about its input.
        address = protection.screen(
            request, Attempt.Kind.REGISTER, _submitted(request, "username")
        )
        data = self.validated(request)
        user, issued = accounts.register(**data, request=request, address=address)
        return token_response(issued, user, status.HTTP_201_CREATED)


class LoginView(JWTAuthView):
    serializer_class = LoginSerializer
    screens_bans = True

    def post(self, request: Request) -> Response:
        address = protection.screen(
            request,
            Attempt.Kind.LOGIN,
            _submitted(request, "username"),
            code_given=_submitted(request, "otp") != "",
        )
        data = self.validated(request)
        user, issued = accounts.login(**data, request=request, address=address)
        return token_response(issued, user)


class RefreshView(JWTAuthView):
    serializer_class = RefreshSerializer

    def post(self, request: Request) -> Response:
        protection.throttle_address(request, "refresh")
        data = self.validated(request)
        issued = sessions.rotate_refresh_token(data["refresh_token"])
        return token_response(issued)


class LogoutView(JWTAuthView):
    serializer_class = RefreshSerializer

    def post(self, request: Request) -> Response:
        data = self.validated(request)
        sessions.revoke_refresh_token(data["refresh_token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(BearerView):
    def post(self, request: Request) -> Response:
        sessions.revoke_user_sessions(request.user, Session.RevokeReason.LOGOUT_ALL)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(BearerView):
    def get(self, request: Request) -> Response:
        return Response(accounts.user_data(request.user))


class PasswordChangeView(BearerView):
    serializer_class = PasswordChangeSerializer

    def post(self, request: Request) -> Response:
        address = protection.screen(
            request, Attempt.Kind.LOGIN, request.user.get_username()
        )
        data = self.validated(request)
        issued = accounts.change_password(
            request.user, **data, request=request, address=address
        )
        return token_response(issued)


class JWKSView(JWTAuthView):
    def get(self, request: Request) -> Response:
        # Public keys change only on a deploy; let resource servers cache them.
        headers = {"Cache-Control": "public, max-age=300"}
        return Response(get_key_set().jwks, headers=headers)


class IntrospectView(JWTAuthView):
    """Token introspection (RFC 7662) for services that must see revocations."""

    # RFC 7662 posts a form; JSON is accepted as everywhere else in the API.
    parser_classes = [FormParser, JSONParser]
    authentication_classes = [introspection.ClientAuthentication, JWTAuthentication]
    permission_classes = [introspection.MayIntrospect]

    def post(self, request: Request) -> Response:
        raw = introspection.token_parameter(request.data)
        return Response(introspection.introspect(raw))

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        # An answer about a credential, which a revocation changes: errors
        # included, nothing here may be stored.
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response
