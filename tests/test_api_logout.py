"""Logout: ``POST /auth/logout/`` ends one session, ``logout/all/`` every one."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from jwt_auth.models import Session

from .helpers import PASSWORD, bearer, login, me

LOGOUT = "/auth/logout/"
LOGOUT_ALL = "/auth/logout/all/"

# Revocation reaches the session cache when its transaction commits, so the
# tests that watch an access token fail run outside the test-wide transaction.
committed = pytest.mark.django_db(transaction=True)


def logout(client, refresh_token: str):
    return client.post(LOGOUT, {"refresh_token": refresh_token}, format="json")


@pytest.fixture
def other_user(db):
    return get_user_model()._default_manager.create_user(
        username="bob", email="bob@example.com", password=PASSWORD
    )


def test_logout_answers_204_without_a_body(client, tokens):
    response = logout(client, tokens["refresh_token"])

    assert response.status_code == 204
    assert response.content == b""


@committed
def test_logout_revokes_the_sessions_access_token(client, tokens):
    assert me(client, tokens["access_token"]).status_code == 200

    logout(client, tokens["refresh_token"])

    response = me(client, tokens["access_token"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_logout_revokes_the_sessions_refresh_token(client, tokens):
    logout(client, tokens["refresh_token"])

    response = client.post(
        "/auth/refresh/", {"refresh_token": tokens["refresh_token"]}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"


def test_logout_records_why_the_session_ended(client, user, tokens):
    logout(client, tokens["refresh_token"])

    assert Session.objects.get(user=user).revoke_reason == "logout"


def test_logout_with_a_spent_refresh_token_still_ends_the_session(client, tokens):
    rotated = client.post(
        "/auth/refresh/", {"refresh_token": tokens["refresh_token"]}, format="json"
    ).json()

    logout(client, tokens["refresh_token"])

    response = client.post(
        "/auth/refresh/", {"refresh_token": rotated["refresh_token"]}, format="json"
    )
    assert response.status_code == 401


def test_logout_leaves_the_users_other_sessions_alone(client, tokens):
    other = login(client).json()

    logout(client, tokens["refresh_token"])

    assert me(client, other["access_token"]).status_code == 200


@pytest.mark.django_db
def test_logout_with_an_unknown_refresh_token_answers_204(client):
    response = logout(client, "x" * 43)

    assert response.status_code == 204


def test_logout_twice_answers_204_both_times(client, tokens):
    first = logout(client, tokens["refresh_token"])
    second = logout(client, tokens["refresh_token"])

    assert first.status_code == second.status_code == 204


@committed
def test_logout_everywhere_revokes_every_session_of_the_user(client, tokens):
    others = [login(client).json() for _ in range(2)]
    sessions = [tokens, *others]
    for issued in sessions:
        assert me(client, issued["access_token"]).status_code == 200

    response = client.post(LOGOUT_ALL, **bearer(tokens["access_token"]))

    assert response.status_code == 204
    for issued in sessions:
        assert me(client, issued["access_token"]).status_code == 401
        refreshed = client.post(
            "/auth/refresh/", {"refresh_token": issued["refresh_token"]}, format="json"
        )
        assert refreshed.status_code == 401


@committed
def test_logout_everywhere_leaves_other_users_alone(client, tokens, other_user):
    bobs = login(client, "bob").json()
    assert me(client, bobs["access_token"]).status_code == 200

    client.post(LOGOUT_ALL, **bearer(tokens["access_token"]))

    assert me(client, bobs["access_token"]).status_code == 200
    refreshed = client.post(
        "/auth/refresh/", {"refresh_token": bobs["refresh_token"]}, format="json"
    )
    assert refreshed.status_code == 200


def test_logout_everywhere_records_why_the_sessions_ended(client, user, tokens):
    login(client)

    client.post(LOGOUT_ALL, **bearer(tokens["access_token"]))

    reasons = set(Session.objects.filter(user=user).values_list("revoke_reason"))
    assert reasons == {("logout_all",)}


@pytest.mark.django_db
def test_logout_everywhere_needs_an_access_token(client):
    response = client.post(LOGOUT_ALL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_logout_everywhere_refuses_a_refresh_token_in_the_body(client, tokens):
    response = client.post(
        LOGOUT_ALL, {"refresh_token": tokens["refresh_token"]}, format="json"
    )

    assert response.status_code == 401
    assert Session.objects.filter(revoked_at__isnull=False).count() == 0
