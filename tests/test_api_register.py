"""Registration: ``POST /auth/register/`` creates an account and its first session."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.db.models import Q
from django.test import override_settings

from jwt_auth.models import Session
from jwt_auth.signals import user_registered

from .helpers import user_count

REGISTER = "/auth/register/"
NEW_PASSWORD = "a long and unusual passphrase"


def register(client, **fields):
    body = {
        "username": "bob",
        "email": "bob@example.com",
        "password": NEW_PASSWORD,
        **fields,
    }
    return client.post(REGISTER, body, format="json")


@pytest.mark.django_db
def test_registration_answers_201_with_the_new_user(client):
    response = register(client)

    assert response.status_code == 201
    created = get_user_model()._default_manager.get(username="bob")
    assert response.json()["user"] == {
        "id": created.pk,
        "username": "bob",
        "email": "bob@example.com",
    }


@pytest.mark.django_db
def test_registration_answers_with_a_bearer_token_response(client):
    body = register(client).json()

    assert body["token_type"] == "Bearer"
    assert isinstance(body["access_token"], str)
    assert body["access_token"]
    assert isinstance(body["refresh_token"], str)
    assert body["refresh_token"]
    assert isinstance(body["expires_in"], int)
    assert body["expires_in"] > 0


@pytest.mark.django_db
def test_registration_response_must_not_be_cached(client):
    response = register(client)

    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_registration_tokens_work_at_once(client):
    body = register(client).json()

    me = client.get("/auth/me/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    refreshed = client.post(
        "/auth/refresh/", {"refresh_token": body["refresh_token"]}, format="json"
    )

    assert me.status_code == 200
    assert me.json()["username"] == "bob"
    assert refreshed.status_code == 200


@pytest.mark.django_db
def test_registration_stores_a_usable_password_hash(client):
    register(client)

    created = get_user_model()._default_manager.get(username="bob")
    assert created.password != NEW_PASSWORD
    assert created.check_password(NEW_PASSWORD)


@pytest.mark.parametrize("username", ["alice", "ALICE", "Alice"])
def test_registration_refuses_a_taken_username_whatever_its_case(
    client, user, username
):
    response = register(client, username=username)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["username"]
    assert user_count() == 1


@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@Example.COM"])
def test_registration_refuses_a_taken_email_whatever_its_case(client, user, email):
    response = register(client, email=email)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["email"]
    assert user_count() == 1


def test_registration_reports_a_taken_username_and_email_together(client, user):
    response = register(client, username="Alice", email="Alice@example.com")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "email"}


@pytest.mark.parametrize(
    "password",
    ["short", "password1234"],
    ids=["too-short", "too-common"],
)
@pytest.mark.django_db
def test_registration_applies_the_password_validators(client, password):
    response = register(client, password=password)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["password"]
    assert user_count() == 0


@override_settings(
    AUTH_PASSWORD_VALIDATORS=[
        {
            "NAME": "django.contrib.auth.password_validation."
            "UserAttributeSimilarityValidator"
        }
    ]
)
@pytest.mark.django_db
def test_registration_checks_the_password_against_the_new_users_own_fields(client):
    response = register(
        client, username="margaretthatcher", password="margaretthatcher1"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["password"]


@pytest.mark.django_db
def test_registration_lists_every_missing_field(client):
    response = client.post(REGISTER, {}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"username", "email", "password"}


@pytest.mark.django_db
def test_registration_refuses_an_invalid_email_address(client):
    response = register(client, email="not-an-address")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["email"]


@pytest.mark.django_db
def test_registration_sends_user_registered(client):
    receiver = mock.Mock()
    user_registered.connect(receiver, weak=False)
    try:
        register(client)
    finally:
        user_registered.disconnect(receiver)

    created = get_user_model()._default_manager.get(username="bob")
    receiver.assert_called_once()
    kwargs = receiver.call_args.kwargs
    assert kwargs["user"] == created
    assert kwargs["sender"] is get_user_model()
    assert kwargs["request"] is not None


def test_failed_registration_sends_no_user_registered(client, user):
    receiver = mock.Mock()
    user_registered.connect(receiver, weak=False)
    try:
        register(client, username="alice")
    finally:
        user_registered.disconnect(receiver)

    receiver.assert_not_called()


def test_registration_racing_another_for_the_same_username_is_refused(client, user):
    # Let the early check miss the existing row, as it does when the other
    # request commits between that check and this insert.
    with mock.patch("jwt_auth.accounts._lookup", return_value=Q(pk__in=[])):
        response = register(client, username="alice", email="other@example.com")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == ["username"]
    assert user_count() == 1
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_registration_that_cannot_open_a_session_leaves_no_user(client):
    with mock.patch(
        "jwt_auth.accounts.start_session", side_effect=OperationalError("locked")
    ):
        response = register(client)

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert user_count() == 0


def test_a_username_that_is_another_accounts_email_is_refused(client, user):
    response = register(client, username="ALICE@example.com", email="x@example.com")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["username"]


@pytest.mark.django_db
def test_an_email_that_is_another_accounts_username_is_refused(client):
    get_user_model()._default_manager.create_user(
        username="bob@example.com", email="bob@example.org", password="x" * 20
    )

    response = register(client, username="robert", email="BOB@example.com")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["email"]
