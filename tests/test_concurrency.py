"""Parallel requests against a real server: one refresh token, one winner.

These are integration tests: they start the example project under
``runserver`` with its own SQLite file and send requests from real threads.
"""

from __future__ import annotations

from typing import Any

import pytest

from .servers import example_server, post, released_together

pytestmark = pytest.mark.integration

PARALLEL = 10


PASSWORD = "a long and unusual passphrase"


@pytest.fixture(scope="module")
def server() -> str:
    """One server for the module, with one registered user.

    The module stays within the server's protection limits: one registration,
    one login and ``PARALLEL + 1`` refreshes per test, all from 127.0.0.1.
    """
    with example_server() as base_url:
        status, body = post(
            f"{base_url}/auth/register/",
            {"username": "racer", "email": "racer@example.com", "password": PASSWORD},
        )
        assert status == 201, body
        yield base_url


def login(server: str) -> dict[str, Any]:
    """Open a fresh session for the module's user; return its tokens."""
    status, body = post(
        f"{server}/auth/login/", {"username": "racer", "password": PASSWORD}
    )
    assert status == 200, body
    return body


def refresh_in_parallel(server: str, refresh_token: str) -> list[tuple[int, dict]]:
    """Send PARALLEL refreshes of one token, released at the same moment."""

    def attempt(_: int) -> tuple[int, dict]:
        return post(f"{server}/auth/refresh/", {"refresh_token": refresh_token})

    return released_together(PARALLEL, attempt)


def test_parallel_refreshes_of_one_token_have_exactly_one_winner(server):
    issued = login(server)

    results = refresh_in_parallel(server, issued["refresh_token"])

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * (PARALLEL - 1)


def test_the_winner_of_parallel_refreshes_gets_a_new_pair(server):
    issued = login(server)

    results = refresh_in_parallel(server, issued["refresh_token"])

    [body] = [body for status, body in results if status == 200]
    assert body["token_type"] == "Bearer"
    assert body["access_token"]
    assert body["access_token"] != issued["access_token"]
    assert body["refresh_token"]
    assert body["refresh_token"] != issued["refresh_token"]


def test_losers_of_parallel_refreshes_get_invalid_grant(server):
    issued = login(server)

    results = refresh_in_parallel(server, issued["refresh_token"])

    losers = [body for status, body in results if status != 200]
    assert len(losers) == PARALLEL - 1
    assert {body["code"] for body in losers} == {"invalid_grant"}


def test_parallel_refreshes_never_answer_a_server_error(server):
    issued = login(server)

    results = refresh_in_parallel(server, issued["refresh_token"])

    assert all(status < 500 for status, _ in results), results


def test_parallel_refreshes_without_grace_revoke_the_session(server):
    # With no reuse grace, the losers present a token that is already spent,
    # which is what a stolen token looks like: the session ends.
    issued = login(server)
    results = refresh_in_parallel(server, issued["refresh_token"])
    [winner] = [body for status, body in results if status == 200]

    status, body = post(
        f"{server}/auth/refresh/", {"refresh_token": winner["refresh_token"]}
    )

    assert status == 401
    assert body["code"] == "invalid_grant"
