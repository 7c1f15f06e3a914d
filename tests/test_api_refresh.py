"""Refresh: ``POST /auth/refresh/`` spends a refresh token for the next pair."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings

from jwt_auth.conf import jwt_settings
from jwt_auth.models import RefreshToken, Session
from jwt_auth.signals import refresh_token_reused

from .helpers import bearer, jwt_auth, login, refresh


def with_grace(grace: timedelta) -> override_settings:
    return jwt_auth(REFRESH_TOKEN_REUSE_GRACE=grace)


def lifetime(name: str) -> timedelta:
    return getattr(jwt_settings, name)


def test_refresh_answers_with_a_new_token_response(client, tokens):
    response = refresh(client, tokens["refresh_token"])

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert body["access_token"]
    assert body["refresh_token"]
    assert "user" not in body


def test_refresh_response_must_not_be_cached(client, tokens):
    response = refresh(client, tokens["refresh_token"])

    assert response["Cache-Control"] == "no-store"


def test_refresh_rotates_the_refresh_token(client, tokens):
    body = refresh(client, tokens["refresh_token"]).json()

    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["access_token"] != tokens["access_token"]


def test_rotated_refresh_token_can_be_spent_in_turn(client, tokens):
    rotated = refresh(client, tokens["refresh_token"]).json()

    response = refresh(client, rotated["refresh_token"])

    assert response.status_code == 200


def test_new_access_token_authenticates_requests(client, tokens):
    access = refresh(client, tokens["refresh_token"]).json()["access_token"]

    response = client.get("/auth/me/", **bearer(access))

    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_spent_refresh_token_is_refused(client, tokens):
    refresh(client, tokens["refresh_token"])

    response = refresh(client, tokens["refresh_token"])

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"


def test_refresh_keeps_the_same_session(client, user, tokens):
    refresh(client, tokens["refresh_token"])

    assert Session.objects.filter(user=user).count() == 1


def test_reused_refresh_token_revokes_its_session(client, user, tokens):
    rotated = refresh(client, tokens["refresh_token"]).json()

    refresh(client, tokens["refresh_token"])

    assert Session.objects.get(user=user).revoke_reason == "reuse_detected"
    response = refresh(client, rotated["refresh_token"])
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"


# Revocation reaches the session cache when its transaction commits, so this
# test runs outside the test-wide transaction.
@pytest.mark.django_db(transaction=True)
def test_reused_refresh_token_revokes_the_sessions_access_tokens(client, tokens):
    rotated = refresh(client, tokens["refresh_token"]).json()
    # Both access tokens are used once, so their session state is cached.
    for access in (tokens["access_token"], rotated["access_token"]):
        assert client.get("/auth/me/", **bearer(access)).status_code == 200

    refresh(client, tokens["refresh_token"])

    for access in (tokens["access_token"], rotated["access_token"]):
        response = client.get("/auth/me/", **bearer(access))
        assert response.status_code == 401
        assert response.json()["code"] == "token_revoked"


def test_reused_refresh_token_leaves_other_sessions_alone(client, user, tokens):
    other = login(client).json()
    refresh(client, tokens["refresh_token"])

    refresh(client, tokens["refresh_token"])

    assert client.get("/auth/me/", **bearer(other["access_token"])).status_code == 200
    assert refresh(client, other["refresh_token"]).status_code == 200


def test_reused_refresh_token_sends_refresh_token_reused(client, user, tokens):
    refresh(client, tokens["refresh_token"])
    receiver = mock.Mock()
    refresh_token_reused.connect(receiver, weak=False)
    try:
        refresh(client, tokens["refresh_token"])
    finally:
        refresh_token_reused.disconnect(receiver)

    receiver.assert_called_once()
    kwargs = receiver.call_args.kwargs
    assert kwargs["user"] == user
    assert kwargs["session"] == Session.objects.get(user=user)


def test_reused_refresh_token_logs_a_warning(client, user, tokens, caplog):
    refresh(client, tokens["refresh_token"])
    caplog.set_level(logging.INFO, logger="jwt_auth")

    refresh(client, tokens["refresh_token"])

    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("jwt_auth.")
    ]
    assert len(warnings) == 1
    assert "reused" in warnings[0].getMessage()
    assert warnings[0].user_id == user.pk


def test_reuse_of_a_revoked_sessions_token_sends_no_second_alarm(client, tokens):
    refresh(client, tokens["refresh_token"])
    refresh(client, tokens["refresh_token"])
    receiver = mock.Mock()
    refresh_token_reused.connect(receiver, weak=False)
    try:
        response = refresh(client, tokens["refresh_token"])
    finally:
        refresh_token_reused.disconnect(receiver)

    assert response.status_code == 401
    receiver.assert_not_called()


def test_reuse_within_the_grace_period_is_refused(client, user, clock):
    with with_grace(timedelta(seconds=30)):
        first = login(client).json()
        refresh(client, first["refresh_token"])
        clock.shift(timedelta(seconds=29))

        response = refresh(client, first["refresh_token"])

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"


def test_reuse_within_the_grace_period_keeps_the_session(client, user, clock):
    with with_grace(timedelta(seconds=30)):
        first = login(client).json()
        rotated = refresh(client, first["refresh_token"]).json()
        clock.shift(timedelta(seconds=29))
        refresh(client, first["refresh_token"])

        me = client.get("/auth/me/", **bearer(rotated["access_token"]))
        renewed = refresh(client, rotated["refresh_token"])

    assert me.status_code == 200
    assert renewed.status_code == 200
    assert Session.objects.get(user=user).revoked_at is None


def test_reuse_after_the_grace_period_revokes_the_session(client, user, clock):
    with with_grace(timedelta(seconds=30)):
        first = login(client).json()
        rotated = refresh(client, first["refresh_token"]).json()
        clock.shift(timedelta(seconds=31))
        refresh(client, first["refresh_token"])

        response = refresh(client, rotated["refresh_token"])

    assert response.status_code == 401
    assert Session.objects.get(user=user).revoke_reason == "reuse_detected"


def test_refresh_token_works_until_its_idle_lifetime_ends(client, user, clock):
    issued = login(client).json()
    clock.shift(lifetime("REFRESH_TOKEN_LIFETIME") - timedelta(seconds=1))

    response = refresh(client, issued["refresh_token"])

    assert response.status_code == 200


def test_refresh_token_expires_after_its_idle_lifetime(client, user, clock):
    issued = login(client).json()
    clock.shift(lifetime("REFRESH_TOKEN_LIFETIME") + timedelta(seconds=1))

    response = refresh(client, issued["refresh_token"])

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"


def test_session_ends_at_its_absolute_lifetime_whatever_the_rotations(
    client, user, clock
):
    session_lifetime = lifetime("SESSION_LIFETIME")
    step = lifetime("REFRESH_TOKEN_LIFETIME") / 2
    refresh_token = login(client).json()["refresh_token"]
    elapsed = timedelta(0)
    while elapsed + step < session_lifetime:
        clock.shift(step)
        elapsed += step
        response = refresh(client, refresh_token)
        assert response.status_code == 200, elapsed
        refresh_token = response.json()["refresh_token"]

    clock.shift(session_lifetime - elapsed + timedelta(seconds=1))
    response = refresh(client, refresh_token)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"


def test_refresh_for_a_deactivated_user_is_refused(client, user, tokens):
    user.is_active = False
    user.save()

    response = refresh(client, tokens["refresh_token"])

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"


def test_unknown_refresh_token_is_refused(client, tokens):
    response = refresh(client, "x" * 43)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"


def test_refresh_token_is_stored_only_as_its_sha256(client, tokens):
    raw = tokens["refresh_token"]

    stored = RefreshToken.objects.get()

    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()


def test_raw_refresh_token_appears_nowhere_in_the_database(client, tokens):
    raw = tokens["refresh_token"]
    rotated = refresh(client, raw).json()["refresh_token"]

    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    assert raw not in str(value), table
                    assert rotated not in str(value), table


def test_refresh_token_carries_at_least_256_bits(client, tokens):
    raw = tokens["refresh_token"]

    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", raw)
