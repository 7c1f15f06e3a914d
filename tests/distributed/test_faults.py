"""A cache or database that goes away gives clean answers, and loses nothing."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from .conftest import hello, login, logout, refresh, register, run_shell, sql


def _wait_for(check, what: str, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not come back")


@pytest.fixture
def redis_down():
    run_shell("JWT_AUTH_REDIS_STOP")
    yield
    run_shell("JWT_AUTH_REDIS_START")
    _wait_for(
        lambda: (
            subprocess.run(
                ["redis-cli", "-u", os.environ["REDIS_URL"], "ping"],
                capture_output=True,
            ).returncode
            == 0
        ),
        "Redis",
    )


@pytest.fixture
def database_down():
    run_shell("JWT_AUTH_PG_STOP")
    yield
    run_shell("JWT_AUTH_PG_START")
    _wait_for(lambda: _database_answers(), "PostgreSQL")


def _database_answers() -> bool:
    try:
        sql("SELECT 1")
    except Exception:
        return False
    return True


def test_requests_keep_working_while_redis_is_down(cluster, ip, redis_down):
    tokens = register(cluster.a, "cacheless", ip).body
    assert "access_token" in tokens

    greeted = hello(cluster.b, tokens["access_token"], ip)
    refreshed = refresh(cluster.a, tokens["refresh_token"], ip)
    again = login(cluster.b, "cacheless", ip)

    assert greeted.status == 200
    assert refreshed.status == 200
    assert again.status == 200


def test_revocation_while_redis_is_down_refuses_and_changes_nothing(
    cluster, ip, request
):
    tokens = register(cluster.a, "stubborn", ip).body
    access, refresh_token = tokens["access_token"], tokens["refresh_token"]
    assert hello(cluster.b, access, ip).status == 200

    request.getfixturevalue("redis_down")
    signed_out = logout(cluster.a, refresh_token, ip)

    assert signed_out.status == 503
    assert signed_out.body["code"] == "service_unavailable"
    assert sql(
        "SELECT count(*) FROM jwt_auth_session s JOIN jwt_auth_user u "
        "ON u.id = s.user_id WHERE u.username = 'stubborn' AND s.revoked_at IS NULL"
    ) == [(1,)]


def test_a_revocation_after_redis_returns_takes_effect_at_once(cluster, ip):
    tokens = register(cluster.a, "returner", ip).body
    run_shell("JWT_AUTH_REDIS_STOP")
    try:
        assert hello(cluster.b, tokens["access_token"], ip).status == 200
    finally:
        run_shell("JWT_AUTH_REDIS_START")
    _wait_for(lambda: login(cluster.a, "returner", ip).status == 200, "login")

    signed_out = logout(cluster.a, tokens["refresh_token"], ip)

    assert signed_out.status == 204
    reply = hello(cluster.b, tokens["access_token"], ip)
    assert reply.body["code"] == "token_revoked"


def test_database_down_answers_503_json(cluster, ip, request):
    tokens = register(cluster.a, "dbless", ip).body

    request.getfixturevalue("database_down")
    replies = [
        login(cluster.a, "dbless", ip),
        register(cluster.b, "dbless2", ip),
        refresh(cluster.b, tokens["refresh_token"], ip),
    ]

    assert [r.status for r in replies] == [503, 503, 503]
    assert {r.body["code"] for r in replies} == {"service_unavailable"}


def test_nothing_is_half_written_after_the_database_returns(cluster, ip):
    tokens = register(cluster.a, "survivor", ip).body
    assert login(cluster.b, "survivor", ip).status == 200
    assert refresh(cluster.a, tokens["refresh_token"], ip).status == 200

    # Every account made through the API has its log row...
    assert sql(
        "SELECT count(*) FROM jwt_auth_user u WHERE NOT EXISTS ("
        " SELECT 1 FROM jwt_auth_attempt a WHERE a.user_id = u.id"
        " AND a.kind = 'register' AND a.outcome = 'success')"
    ) == [(0,)]
    # ...and every spent refresh token of a live session has its successor.
    assert sql(
        "SELECT count(*) FROM jwt_auth_refreshtoken t"
        " JOIN jwt_auth_session s ON s.id = t.session_id"
        " WHERE t.used_at IS NOT NULL AND s.revoked_at IS NULL AND NOT EXISTS ("
        "  SELECT 1 FROM jwt_auth_refreshtoken n"
        "  WHERE n.session_id = t.session_id AND n.created_at >= t.used_at"
        "  AND n.id <> t.id)"
    ) == [(0,)]
