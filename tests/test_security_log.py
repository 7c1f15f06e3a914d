"""The security log: events are logged under ``jwt_auth``, secrets never are."""

from __future__ import annotations

import logging

import pytest

from .helpers import PASSWORD, bearer, login, refresh

NEW_PASSWORD = "a different long passphrase"


@pytest.fixture
def security_log(caplog) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="jwt_auth")
    return caplog


def events(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("jwt_auth.")]


def messages(caplog) -> list[str]:
    return [r.getMessage() for r in events(caplog)]


def test_successful_login_is_logged(client, user, security_log):
    login(client)

    [record] = [r for r in events(security_log) if "Login" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert record.user_id == user.pk


def test_failed_login_is_logged_with_the_username(client, user, security_log):
    login(client, "alice", "not the password")

    [record] = [r for r in events(security_log) if "Login" in r.getMessage()]
    assert record.levelno >= logging.INFO
    assert "fail" in record.getMessage().lower()
    assert record.username == "alice"


def test_registration_is_logged(client, db, security_log):
    client.post(
        "/auth/register/",
        {"username": "bob", "email": "bob@example.com", "password": NEW_PASSWORD},
        format="json",
    )

    assert any("registered" in message for message in messages(security_log))


def test_refresh_token_reuse_is_logged_as_a_warning(client, user, tokens, security_log):
    refresh(client, tokens["refresh_token"])
    refresh(client, tokens["refresh_token"])

    warnings = [r for r in events(security_log) if r.levelno == logging.WARNING]
    assert ["reused" in r.getMessage() for r in warnings] == [True]


def test_revocation_is_logged_with_its_reason(client, user, tokens, security_log):
    client.post(
        "/auth/logout/", {"refresh_token": tokens["refresh_token"]}, format="json"
    )

    [record] = [r for r in events(security_log) if "revoked" in r.getMessage()]
    assert record.reason == "logout"
    assert record.user_id == user.pk
    assert record.session_count == 1


def test_password_change_is_logged(client, user, tokens, security_log):
    client.post(
        "/auth/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
        **bearer(tokens["access_token"]),
    )

    assert any("Password changed" in message for message in messages(security_log))


def test_no_log_record_holds_a_password_or_a_token(client, db, security_log):
    """Walk every logged event; search each record for every secret used."""
    secrets = [PASSWORD, NEW_PASSWORD, "not the password"]
    registered = client.post(
        "/auth/register/",
        {"username": "alice", "email": "alice@example.com", "password": PASSWORD},
        format="json",
    ).json()
    login(client, "alice", "not the password")
    login(client, "nobody", "not the password")
    first = login(client).json()
    second = refresh(client, first["refresh_token"]).json()
    refresh(client, first["refresh_token"])  # reuse: revokes the session
    third = login(client).json()
    client.get("/auth/me/", **bearer(third["access_token"]))
    changed = client.post(
        "/auth/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
        **bearer(third["access_token"]),
    ).json()
    client.post(
        "/auth/logout/", {"refresh_token": changed["refresh_token"]}, format="json"
    )
    for issued in (registered, first, second, third, changed):
        secrets += [issued["access_token"], issued["refresh_token"]]
        # The signature alone is enough to forge nothing, but a log that
        # holds it holds the whole token in practice.
        secrets.append(issued["access_token"].rsplit(".", 1)[1])

    records = security_log.records
    assert len(events(security_log)) >= 8
    for record in records:
        logged = " ".join(repr(value) for value in vars(record).values())
        logged += " " + record.getMessage()
        for secret in secrets:
            assert secret not in logged, (record.name, record.msg)
