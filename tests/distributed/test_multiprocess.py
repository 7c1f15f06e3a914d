"""Every promise holds across processes that share PostgreSQL and Redis."""

from __future__ import annotations

import re

from .conftest import hello, login, logout, parallel, refresh, register, sql


def test_parallel_registrations_from_one_ip_create_exactly_the_limit(cluster, ip):
    bases = cluster.both()
    replies = parallel(
        [
            lambda i=i: register(bases[i % 2], f"burst{ip.split('.')[-1]}x{i}", ip)
            for i in range(12)
        ]
    )

    statuses = sorted(reply.status for reply in replies)
    assert statuses == [201] * 3 + [403] * 9
    assert {r.body["code"] for r in replies if r.status == 403} == {"ip_banned"}
    prefix = f"burst{ip.split('.')[-1]}x%"
    assert sql("SELECT count(*) FROM jwt_auth_user WHERE username LIKE %s", prefix) == [
        (3,)
    ]


def test_parallel_refreshes_of_one_token_have_one_winner(cluster, ip):
    tokens = register(cluster.a, "racer", ip).body
    bases = cluster.both()

    replies = parallel(
        [
            lambda i=i: refresh(bases[i % 2], tokens["refresh_token"], ip)
            for i in range(10)
        ]
    )

    statuses = sorted(reply.status for reply in replies)
    assert statuses == [200] + [401] * 9
    assert {r.body["code"] for r in replies if r.status == 401} == {"invalid_grant"}


def test_logout_through_one_process_fails_the_token_in_the_other(cluster, ip):
    tokens = register(cluster.a, "leaver", ip).body
    access = tokens["access_token"]
    assert hello(cluster.b, access, ip).status == 200

    signed_out = logout(cluster.a, tokens["refresh_token"], ip)

    assert signed_out.status == 204
    reply = hello(cluster.b, access, ip)
    assert reply.status == 401
    assert reply.body["code"] == "token_revoked"


def _latest_code(cluster, address: str) -> str:
    messages = sorted(cluster.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)
    for message in reversed(messages):
        text = message.read_text()
        if address in text:
            return re.search(r"code is (\d+)", text).group(1)
    raise AssertionError(f"no code mailed to {address}")


def test_otp_guesses_are_counted_across_processes(cluster, ip):
    register(cluster.a, "guessed", ip)
    for base in (cluster.a, cluster.b, cluster.a):
        assert login(base, "guessed", ip, password="wrong").status == 401
    assert login(cluster.b, "guessed", ip).body["code"] == "otp_required"
    code = _latest_code(cluster, "guessed@example.com")
    wrong = "0" * len(code) if code != "0" * len(code) else "1" * len(code)

    replies = parallel(
        [
            lambda i=i: login(cluster.both()[i % 2], "guessed", ip, otp=wrong)
            for i in range(8)
        ]
    )

    assert [r.body["code"] for r in replies] == ["invalid_otp"] * 8
    attempts = sql(
        "SELECT c.attempts FROM jwt_auth_challenge c JOIN jwt_auth_user u "
        "ON u.id = c.user_id WHERE u.username = 'guessed'"
    )
    assert attempts == [(5,)]
    # The cap holds: even the right code is refused now.
    assert login(cluster.a, "guessed", ip, otp=code).body["code"] == "invalid_otp"
