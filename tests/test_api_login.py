"""Login: ``POST /auth/login/`` trades a username or e-mail and password for tokens."""

from __future__ import annotations

from datetime import datetime, timezone
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model, user_logged_in, user_login_failed
from django.contrib.auth.hashers import MD5PasswordHasher

from jwt_auth import accounts
from jwt_auth.models import Session

from .helpers import PASSWORD, bearer, login

auth_user_only = pytest.mark.skipif(
    settings.AUTH_USER_MODEL != "auth.User",
    reason="needs a user model that allows usernames differing only in case",
)


@pytest.fixture
def hashed() -> list[str]:
    """The passwords the password hasher hashes, in order."""
    calls: list[str] = []
    original = MD5PasswordHasher.encode

    def encode(self, password, salt):
        calls.append(password)
        return original(self, password, salt)

    with mock.patch.object(MD5PasswordHasher, "encode", encode):
        yield calls


def test_login_by_username_answers_with_a_token_response(client, user):
    response = login(client, "alice")

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"]
    assert body["refresh_token"]
    assert body["expires_in"] > 0
    assert body["user"] == {
        "id": user.pk,
        "username": "alice",
        "email": "alice@example.com",
    }


def test_login_response_must_not_be_cached(client, user):
    response = login(client)

    assert response["Cache-Control"] == "no-store"


def test_login_access_token_authenticates_requests(client, user):
    access = login(client).json()["access_token"]

    response = client.get("/api/hello/", **bearer(access))

    assert response.status_code == 200
    assert response.json() == {"message": "Hello, alice!"}


def test_login_by_email_finds_the_account(client, user):
    response = login(client, "alice@example.com")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.pk


@pytest.mark.parametrize("identifier", ["ALICE", "aLiCe"])
def test_login_by_username_ignores_case(client, user, identifier):
    response = login(client, identifier)

    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.pk


def test_login_by_email_ignores_case(client, user):
    response = login(client, "Alice@EXAMPLE.com")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.pk


def test_login_opens_a_session(client, user):
    login(client)

    session = Session.objects.get(user=user)
    assert session.revoked_at is None


def test_each_login_opens_its_own_session(client, user):
    first = login(client).json()
    second = login(client).json()

    assert Session.objects.filter(user=user).count() == 2
    assert first["refresh_token"] != second["refresh_token"]


def test_login_with_a_wrong_password_is_refused(client, user):
    response = login(client, "alice", "not the password")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert not Session.objects.exists()


def test_unknown_user_answers_exactly_like_a_wrong_password(client, user):
    wrong_password = login(client, "alice", "not the password")
    unknown_user = login(client, "nobody", "not the password")

    assert unknown_user.status_code == wrong_password.status_code == 401
    assert unknown_user.content == wrong_password.content


def test_inactive_account_answers_exactly_like_a_wrong_password(client, user):
    user.is_active = False
    user.save()

    wrong_password = login(client, "alice", "not the password")
    inactive = login(client, "alice", PASSWORD)

    assert inactive.status_code == wrong_password.status_code == 401
    assert inactive.content == wrong_password.content
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_login_of_an_unknown_user_still_runs_the_hasher(client, hashed):
    login(client, "nobody", "some password")

    assert hashed == ["some password"]


def test_login_with_a_wrong_password_runs_the_hasher_once(client, user, hashed):
    login(client, "alice", "some password")

    assert hashed == ["some password"]


def test_login_of_a_user_without_a_usable_password_runs_the_hasher(
    client, user, hashed
):
    user.set_unusable_password()
    user.save()

    response = login(client, "alice", "some password")

    assert response.status_code == 401
    assert hashed == ["some password"]


def test_login_sends_user_logged_in(client, user, received):
    receiver = received(user_logged_in)

    login(client)

    receiver.assert_called_once()
    assert receiver.call_args.kwargs["user"] == user
    assert receiver.call_args.kwargs["request"] is not None


def test_failed_login_sends_user_login_failed(client, user, received):
    receiver = received(user_login_failed)

    login(client, "alice", "not the password")

    receiver.assert_called_once()
    assert receiver.call_args.kwargs["credentials"] == {"username": "alice"}


def test_failed_login_sends_no_user_logged_in(client, user, received):
    receiver = received(user_logged_in)

    login(client, "alice", "not the password")

    receiver.assert_not_called()


def test_successful_login_sends_no_user_login_failed(client, user, received):
    receiver = received(user_login_failed)

    login(client)

    receiver.assert_not_called()


def test_login_updates_last_login(client, user):
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert user.last_login is None

    with time_machine.travel(moment, tick=False):
        login(client)

    user.refresh_from_db()
    assert user.last_login == moment


def test_failed_login_leaves_last_login_alone(client, user):
    login(client, "alice", "not the password")

    user.refresh_from_db()
    assert user.last_login is None


@pytest.mark.django_db
def test_login_prefers_an_exact_username_over_another_users_email(client):
    manager = get_user_model()._default_manager
    manager.create_user(username="carol", email="dave@example.com", password=PASSWORD)
    dave = manager.create_user(
        username="dave@example.com", email="erin@example.com", password=PASSWORD
    )

    response = login(client, "dave@example.com")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == dave.pk


@auth_user_only
@pytest.mark.django_db
def test_login_prefers_the_exact_username_among_case_variants(client):
    manager = get_user_model()._default_manager
    manager.create_user(username="Bob", email="bob1@example.com", password=PASSWORD)
    lower = manager.create_user(
        username="bob", email="bob2@example.com", password=PASSWORD
    )

    response = login(client, "bob")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == lower.pk


@auth_user_only
@pytest.mark.django_db
def test_login_matches_nobody_when_case_variants_make_it_ambiguous(client):
    manager = get_user_model()._default_manager
    manager.create_user(username="Bob", email="bob1@example.com", password=PASSWORD)
    manager.create_user(username="bob", email="bob2@example.com", password=PASSWORD)

    response = login(client, "BOB")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_a_login_checked_against_a_password_changed_meanwhile_is_refused(client, user):
    real_check = accounts.password_matches

    def check_then_change(candidate, password):
        matched = real_check(candidate, password)
        other = get_user_model()._default_manager.get(pk=user.pk)
        other.set_password("changed while hashing")
        other.save()
        return matched

    with mock.patch.object(accounts, "password_matches", check_then_change):
        response = login(client)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert not Session.objects.filter(user=user).exists()


def test_a_login_checked_against_an_account_deactivated_meanwhile_is_refused(
    client, user
):
    real_check = accounts.password_matches

    def check_then_deactivate(candidate, password):
        matched = real_check(candidate, password)
        get_user_model()._default_manager.filter(pk=user.pk).update(is_active=False)
        return matched

    with mock.patch.object(accounts, "password_matches", check_then_deactivate):
        response = login(client)

    assert response.json()["code"] == "invalid_credentials"
    assert not Session.objects.filter(user=user).exists()
