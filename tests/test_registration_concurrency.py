"""Parallel registrations from one address against a real server.

The example project runs under ``runserver`` on its own SQLite file, so the
registrations race in real threads against a real database, and the file can
be read afterwards to count what was created.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from .servers import example_server, post, released_together

pytestmark = pytest.mark.integration

PARALLEL = 12
LIMIT = 3
PASSWORD = "a long and unusual passphrase"


def register_in_parallel(base_url: str) -> list[tuple[int, dict[str, Any]]]:
    """Send PARALLEL registrations from one address, released together."""

    def register(number: int) -> tuple[int, dict[str, Any]]:
        username = f"racer{number}"
        return post(
            f"{base_url}/auth/register/",
            {
                "username": username,
                "email": f"{username}@example.com",
                "password": PASSWORD,
            },
        )

    return released_together(PARALLEL, register)


def count_rows(database: Path, query: str) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchone()[0]


@pytest.fixture(scope="module")
def race(tmp_path_factory) -> tuple[list[tuple[int, dict[str, Any]]], Path]:
    """Race the registrations once; return the answers and the database file."""
    database = tmp_path_factory.mktemp("registration-race") / "db.sqlite3"
    with example_server(env={"SQLITE_PATH": str(database)}) as base_url:
        results = register_in_parallel(base_url)
    return results, database


def test_parallel_registrations_from_one_address_admit_exactly_the_limit(race):
    results, _ = race

    assert [status for status, _ in results].count(201) == LIMIT


def test_parallel_registrations_over_the_limit_are_refused_with_ip_banned(race):
    results, _ = race

    refused = [body for status, body in results if status != 201]
    assert len(refused) == PARALLEL - LIMIT
    assert {body.get("code") for body in refused} == {"ip_banned"}


def test_parallel_registrations_never_answer_a_server_error(race):
    results, _ = race

    assert all(status < 500 for status, _ in results), results


def test_parallel_registrations_create_exactly_the_limit_of_accounts(race):
    _, database = race

    assert count_rows(database, "SELECT COUNT(*) FROM jwt_auth_user") == LIMIT


def test_parallel_registrations_ban_the_address_once(race):
    _, database = race

    assert count_rows(database, "SELECT COUNT(*) FROM jwt_auth_ban") == 1
