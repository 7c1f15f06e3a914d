"""Plain helpers shared by the test modules: requests, settings and token parts."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings
from rest_framework.test import APIClient

PASSWORD = "correct horse battery staple"

# The moment the ``clock`` fixture freezes time at.
START = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)

CHALLENGE = re.compile(
    r'Bearer realm="api", error="invalid_token", error_description="(?P<d>[^"\\]+)"'
)


def jwt_auth(**overrides: Any) -> override_settings:
    """Override some JWT_AUTH settings, keeping the others in force."""
    return override_settings(JWT_AUTH={**settings.JWT_AUTH, **overrides})


def user_count() -> int:
    return get_user_model()._default_manager.count()


# Requests to the API.


def bearer(access_token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}


def login(client: APIClient, username: str = "alice", password: str = PASSWORD):
    return client.post(
        "/auth/login/", {"username": username, "password": password}, format="json"
    )


def login_with_code(client: APIClient, code: str, password: str = PASSWORD):
    body = {"username": "alice", "password": password, "otp": code}
    return client.post("/auth/login/", body, format="json")


def register(client: APIClient, username: str, **fields: Any):
    body = {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        **fields,
    }
    return client.post("/auth/register/", body, format="json")


def refresh(client: APIClient, refresh_token: str):
    return client.post(
        "/auth/refresh/", {"refresh_token": refresh_token}, format="json"
    )


def me(client: APIClient, access_token: str):
    return client.get("/auth/me/", **bearer(access_token))


def assert_refused(response: Any, code: str = "token_invalid") -> None:
    """Assert a 401 whose challenge repeats the body's detail."""
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["code"] == code
    challenge = CHALLENGE.fullmatch(response["WWW-Authenticate"])
    assert challenge, response["WWW-Authenticate"]
    assert challenge["d"] == body["detail"]


# The parts of a token.


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def header_of(token: str) -> dict[str, Any]:
    return jwt.get_unverified_header(token)


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})
