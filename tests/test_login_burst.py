"""A burst of parallel guesses gets no more password answers than the limit.

The example project runs under ``runserver``, so the logins race in real
threads; the undecided ones count as failures to come.
"""

from __future__ import annotations

from typing import Any

import pytest

from .servers import example_server, post, released_together

pytestmark = pytest.mark.integration

PARALLEL = 12
LIMIT = 3
PASSWORD = "a long and unusual passphrase"


@pytest.fixture(scope="module")
def burst(tmp_path_factory) -> list[tuple[int, dict[str, Any]]]:
    database = tmp_path_factory.mktemp("login-burst") / "db.sqlite3"
    with example_server(env={"SQLITE_PATH": str(database)}) as base_url:
        created, _ = post(
            f"{base_url}/auth/register/",
            {"username": "target", "email": "t@example.com", "password": PASSWORD},
        )
        assert created == 201

        def guess(number: int) -> tuple[int, dict[str, Any]]:
            body = {"username": "target", "password": f"guess number {number}"}
            return post(f"{base_url}/auth/login/", body)

        return released_together(PARALLEL, guess)


def test_a_burst_of_wrong_guesses_gets_at_most_the_limit_of_real_answers(burst):
    codes = [body.get("code") for _, body in burst]

    assert codes.count("invalid_credentials") <= LIMIT
    assert set(codes) <= {"invalid_credentials", "otp_required"}


def test_a_burst_of_wrong_guesses_gets_no_server_error(burst):
    assert all(status < 500 for status, _ in burst)
