"""The Bearer authentication class (RFC 6750) and revocation on the next request."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from jwt_auth.authentication import JWTAuthentication
from jwt_auth.tokens import AccessToken

from .helpers import bearer

HELLO = "/api/hello/"


def authenticated_request(access_token: str, scheme: str = "Bearer") -> Request:
    """Return a DRF request that authenticates with this class alone."""
    django_request = APIRequestFactory().get(
        HELLO, HTTP_AUTHORIZATION=f"{scheme} {access_token}"
    )
    return Request(django_request, authenticators=[JWTAuthentication()])


def warm_cache(access_token: str) -> None:
    """Authenticate once, which stores the session and its user in the cache."""
    assert authenticated_request(access_token).user.is_authenticated


def fresh_user(user: Any) -> Any:
    return get_user_model()._default_manager.get(pk=user.pk)


def logout(client: Any, refresh_token: str) -> None:
    response = client.post(
        "/auth/logout/", {"refresh_token": refresh_token}, format="json"
    )
    assert response.status_code == 204, response.content


def assert_revoked(response: Any) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "token_revoked"
    assert response["WWW-Authenticate"].startswith(
        'Bearer realm="api", error="invalid_token", error_description="'
    )


# The Authorization header.


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_scheme_matches_in_any_case(client, tokens, scheme):
    response = client.get(
        HELLO, HTTP_AUTHORIZATION=f"{scheme} {tokens['access_token']}"
    )

    assert response.status_code == 200


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT", "Bearer-ish"])
def test_another_scheme_leaves_the_request_anonymous(tokens, scheme):
    request = authenticated_request(tokens["access_token"], scheme)

    assert JWTAuthentication().authenticate(request) is None


@pytest.mark.parametrize("scheme", ["Basic", "Token"])
def test_another_scheme_gets_a_bare_bearer_challenge(client, tokens, scheme):
    response = client.get(
        HELLO, HTTP_AUTHORIZATION=f"{scheme} {tokens['access_token']}"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_no_authorization_header_gets_a_bare_bearer_challenge(client, db):
    response = client.get(HELLO)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_the_challenge_names_the_configured_realm(client, db, settings):
    settings.JWT_AUTH = {**settings.JWT_AUTH, "AUTH_HEADER_REALM": "accounts"}

    response = client.get(HELLO)

    assert response["WWW-Authenticate"] == 'Bearer realm="accounts"'


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Bearer a b", "Bearer {token} {token}"]
)
def test_a_malformed_bearer_header_is_a_bad_request(client, tokens, header):
    value = header.format(token=tokens["access_token"])

    response = client.get(HELLO, HTTP_AUTHORIZATION=value)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert response["WWW-Authenticate"].startswith(
        'Bearer realm="api", error="invalid_request", error_description="'
    )


def test_a_token_in_the_query_string_is_ignored(client, tokens):
    response = client.get(f"{HELLO}?access_token={tokens['access_token']}")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_token_in_a_form_body_is_ignored(client, tokens):
    # Were the token accepted, this GET-only view would answer 405.
    response = client.post(
        HELLO,
        urlencode({"access_token": tokens["access_token"]}),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_request_auth_is_the_verified_access_token(tokens):
    request = authenticated_request(tokens["access_token"])

    assert isinstance(request.auth, AccessToken)
    assert request.auth.claims == jwt.decode(
        tokens["access_token"], options={"verify_signature": False}
    )


def test_request_user_is_the_user_the_token_was_issued_to(tokens, user):
    request = authenticated_request(tokens["access_token"])

    assert request.user.pk == user.pk
    assert request.user.get_username() == "alice"


# Revocation, seen on the next request.


def test_a_warm_session_is_authenticated_without_a_query(
    tokens, django_assert_num_queries
):
    warm_cache(tokens["access_token"])

    with django_assert_num_queries(0):
        warm_cache(tokens["access_token"])


@pytest.mark.django_db(transaction=True)
def test_after_logout_the_access_token_is_revoked(client, tokens):
    logout(client, tokens["refresh_token"])

    assert_revoked(client.get(HELLO, **bearer(tokens["access_token"])))


@pytest.mark.django_db(transaction=True)
def test_after_logout_a_cached_session_is_revoked(client, tokens):
    assert client.get(HELLO, **bearer(tokens["access_token"])).status_code == 200

    logout(client, tokens["refresh_token"])

    assert_revoked(client.get(HELLO, **bearer(tokens["access_token"])))


@pytest.mark.django_db(transaction=True)
def test_deactivating_the_user_revokes_a_cached_session(client, tokens, user):
    assert client.get(HELLO, **bearer(tokens["access_token"])).status_code == 200

    user.is_active = False
    user.save()

    assert_revoked(client.get(HELLO, **bearer(tokens["access_token"])))


@pytest.mark.django_db(transaction=True)
def test_deactivating_the_user_revokes_an_uncached_session(client, tokens, user):
    user.is_active = False
    user.save()

    assert_revoked(client.get(HELLO, **bearer(tokens["access_token"])))


def test_a_user_deactivated_without_signals_is_refused_on_an_uncached_session(
    client, tokens, user
):
    get_user_model()._default_manager.filter(pk=user.pk).update(is_active=False)

    assert_revoked(client.get(HELLO, **bearer(tokens["access_token"])))


@pytest.mark.django_db(transaction=True)
def test_a_change_to_the_user_is_seen_on_the_next_request(tokens, user):
    assert authenticated_request(tokens["access_token"]).user.is_staff is False

    user.is_staff = True
    user.save()

    assert authenticated_request(tokens["access_token"]).user.is_staff is True


def test_a_cached_user_has_its_password_deferred(tokens):
    warm_cache(tokens["access_token"])

    cached = authenticated_request(tokens["access_token"]).user

    assert "password" in cached.get_deferred_fields()


@pytest.mark.django_db(transaction=True)
def test_saving_a_cached_user_keeps_a_newer_password_hash(tokens, user):
    warm_cache(tokens["access_token"])
    new_hash = make_password("a newer password than the cached one")
    # An update() sends no signal, so the cache keeps the old user fields.
    get_user_model()._default_manager.filter(pk=user.pk).update(password=new_hash)

    cached = authenticated_request(tokens["access_token"]).user
    cached.first_name = "Alice"
    cached.save()

    saved = fresh_user(user)
    assert saved.first_name == "Alice"
    assert saved.password == new_hash
