"""The current user: ``GET /auth/me/`` with a Bearer access token."""

from __future__ import annotations

import pytest

from .helpers import bearer

ME = "/auth/me/"


def test_me_answers_with_the_users_public_fields(client, user, tokens):
    response = client.get(ME, **bearer(tokens["access_token"]))

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "username": "alice",
        "email": "alice@example.com",
    }


def test_me_never_shows_the_password_hash(client, user, tokens):
    response = client.get(ME, **bearer(tokens["access_token"]))

    assert user.password not in response.content.decode()


@pytest.mark.django_db
def test_me_needs_an_access_token(client):
    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_me_refuses_a_malformed_access_token(client):
    response = client.get(ME, **bearer("not-a-token"))

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_me_refuses_a_refresh_token_as_the_bearer(client, tokens):
    response = client.get(ME, **bearer(tokens["refresh_token"]))

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


# The cached user is replaced when the saving transaction commits.
@pytest.mark.django_db(transaction=True)
def test_me_follows_a_change_to_the_users_email(client, user, tokens):
    client.get(ME, **bearer(tokens["access_token"]))
    user.email = "alice@example.org"
    user.save()

    response = client.get(ME, **bearer(tokens["access_token"]))

    assert response.json()["email"] == "alice@example.org"
