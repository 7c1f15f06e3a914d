"""Password change: ``POST /auth/password/`` ends every session and opens a new one."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from jwt_auth.models import Attempt, Session

from .helpers import PASSWORD, bearer, jwt_auth, login, me, refresh

CHANGE = "/auth/password/"
NEW_PASSWORD = "a different long passphrase"


def change_password(client, access_token: str, old: str, new: str):
    return client.post(
        CHANGE,
        {"old_password": old, "new_password": new},
        format="json",
        **bearer(access_token),
    )


def test_password_change_answers_with_a_fresh_token_response(client, tokens):
    response = change_password(client, tokens["access_token"], PASSWORD, NEW_PASSWORD)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["access_token"] != tokens["access_token"]


def test_password_change_sets_the_new_password(client, user, tokens):
    change_password(client, tokens["access_token"], PASSWORD, NEW_PASSWORD)

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)


def test_login_after_a_password_change_takes_the_new_password(client, tokens):
    change_password(client, tokens["access_token"], PASSWORD, NEW_PASSWORD)

    assert login(client, "alice", NEW_PASSWORD).status_code == 200
    assert login(client, "alice", PASSWORD).status_code == 401


def test_new_tokens_from_a_password_change_work(client, tokens):
    fresh = change_password(
        client, tokens["access_token"], PASSWORD, NEW_PASSWORD
    ).json()

    assert me(client, fresh["access_token"]).status_code == 200
    assert refresh(client, fresh["refresh_token"]).status_code == 200


# Revocation reaches the session cache when its transaction commits.
@pytest.mark.django_db(transaction=True)
def test_password_change_revokes_every_earlier_access_token(client, tokens):
    other = login(client).json()
    for issued in (tokens, other):
        assert me(client, issued["access_token"]).status_code == 200

    change_password(client, tokens["access_token"], PASSWORD, NEW_PASSWORD)

    for issued in (tokens, other):
        response = me(client, issued["access_token"])
        assert response.status_code == 401
        assert response.json()["code"] == "token_revoked"


def test_password_change_revokes_every_earlier_refresh_token(client, tokens):
    other = login(client).json()

    change_password(client, tokens["access_token"], PASSWORD, NEW_PASSWORD)

    for issued in (tokens, other):
        response = refresh(client, issued["refresh_token"])
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_grant"


def test_password_change_records_why_the_sessions_ended(client, user, tokens):
    change_password(client, tokens["access_token"], PASSWORD, NEW_PASSWORD)

    revoked = Session.objects.filter(user=user, revoked_at__isnull=False)
    assert list(revoked.values_list("revoke_reason", flat=True)) == ["password_change"]
    assert Session.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_password_change_leaves_other_users_sessions_alone(client, tokens):
    get_user_model()._default_manager.create_user(
        username="bob", email="bob@example.com", password=PASSWORD
    )
    bobs = login(client, "bob").json()

    change_password(client, tokens["access_token"], PASSWORD, NEW_PASSWORD)

    assert refresh(client, bobs["refresh_token"]).status_code == 200


def test_password_change_with_a_wrong_old_password_is_refused(client, user, tokens):
    response = change_password(
        client, tokens["access_token"], "not the password", NEW_PASSWORD
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["old_password"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_refused_password_change_keeps_the_session(client, tokens):
    change_password(client, tokens["access_token"], "not the password", NEW_PASSWORD)

    assert me(client, tokens["access_token"]).status_code == 200
    assert refresh(client, tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    "new_password", ["short", "password1234"], ids=["too-short", "too-common"]
)
def test_password_change_applies_the_password_validators(
    client, user, tokens, new_password
):
    response = change_password(client, tokens["access_token"], PASSWORD, new_password)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["new_password"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@override_settings(
    AUTH_PASSWORD_VALIDATORS=[
        {
            "NAME": "django.contrib.auth.password_validation."
            "UserAttributeSimilarityValidator"
        }
    ]
)
def test_password_change_checks_the_password_against_the_users_fields(client, tokens):
    response = change_password(
        client, tokens["access_token"], PASSWORD, "alice@example.com"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["new_password"]


def test_password_change_lists_every_missing_field(client, tokens):
    response = client.post(CHANGE, {}, format="json", **bearer(tokens["access_token"]))

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"old_password", "new_password"}


@pytest.mark.django_db
def test_password_change_needs_an_access_token(client):
    response = client.post(
        CHANGE,
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_wrong_old_password_counts_as_a_failed_login(client, user, tokens):
    change_password(client, tokens["access_token"], "not it", NEW_PASSWORD)

    failure = Attempt.objects.get(outcome="failure")
    assert (failure.kind, failure.user) == ("login", user)


def test_wrong_old_passwords_make_the_address_need_a_code_to_log_in(client, tokens):
    for _ in range(3):
        change_password(client, tokens["access_token"], "not it", NEW_PASSWORD)

    assert login(client).json()["code"] == "otp_required"


def test_old_password_guesses_are_throttled(client, tokens):
    with jwt_auth(THROTTLE_RATES={"login": "2/m"}):
        answers = [
            change_password(client, tokens["access_token"], "not it", NEW_PASSWORD)
            for _ in range(3)
        ]

    assert [a.status_code for a in answers] == [400, 400, 429]
