"""``jwt_auth_prune``: attempts, ended sessions and spent challenges keep
ATTEMPT_RETENTION and no more."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import override_settings

from jwt_auth.models import Attempt, Ban, Challenge, RefreshToken, Session

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def attempt(age: timedelta) -> Attempt:
    return Attempt.objects.create(
        ip="203.0.113.9",
        kind=Attempt.Kind.LOGIN,
        outcome=Attempt.Outcome.FAILURE,
        created_at=NOW - age,
    )


def session(
    user,
    *,
    expires_in: timedelta,
    revoked_ago: timedelta | None = None,
    tokens: int = 1,
) -> Session:
    """Create a session ending ``expires_in`` from now, with refresh tokens."""
    row = Session.objects.create(
        user=user,
        created_at=NOW + expires_in - timedelta(days=30),
        expires_at=NOW + expires_in,
        revoked_at=None if revoked_ago is None else NOW - revoked_ago,
    )
    for number in range(tokens):
        RefreshToken.objects.create(
            session=row,
            token_hash=f"{row.pk.hex}{number:032x}",
            expires_at=row.expires_at,
        )
    return row


def challenge(
    user, *, expires_in: timedelta, used_ago: timedelta | None = None
) -> Challenge:
    return Challenge.objects.create(
        user=user,
        code_hash="0" * 64,
        created_at=NOW + expires_in - timedelta(minutes=5),
        expires_at=NOW + expires_in,
        used_at=None if used_ago is None else NOW - used_ago,
    )


def prune(*args: str) -> list[str]:
    out = StringIO()
    call_command("jwt_auth_prune", *args, stdout=out)
    return out.getvalue().splitlines()


def attempt_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if "attempt" in line]


def session_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if "session" in line]


def challenge_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if "challenge" in line]


def test_prune_deletes_attempts_older_than_30_days_by_default():
    attempt(timedelta(days=30, seconds=1))

    prune()

    assert not Attempt.objects.exists()


def test_prune_keeps_attempts_younger_than_30_days():
    kept = attempt(timedelta(days=29, hours=23))

    prune()

    assert list(Attempt.objects.all()) == [kept]


def test_prune_keeps_an_attempt_exactly_at_the_retention_boundary():
    kept = attempt(timedelta(days=30))

    prune()

    assert list(Attempt.objects.all()) == [kept]


@override_settings(
    JWT_AUTH={"ISSUER": "https://issuer.test", "ATTEMPT_RETENTION": timedelta(days=2)}
)
def test_prune_follows_attempt_retention():
    attempt(timedelta(days=3))
    kept = attempt(timedelta(days=1))

    prune()

    assert list(Attempt.objects.all()) == [kept]


def test_days_overrides_the_retention():
    attempt(timedelta(days=10))
    kept = attempt(timedelta(days=5))

    prune("--days", "7")

    assert list(Attempt.objects.all()) == [kept]


def test_days_zero_deletes_every_attempt_made_before_now():
    attempt(timedelta(seconds=1))

    prune("--days", "0")

    assert not Attempt.objects.exists()


def test_prune_deletes_in_batches_and_reports_each():
    for day in range(5):
        attempt(timedelta(days=40 + day))

    lines = prune("--batch-size", "2")

    assert attempt_lines(lines) == [
        "Deleted 2 attempts older than 2030-05-02 12:00.",
        "Deleted 4 attempts older than 2030-05-02 12:00.",
        "Deleted 5 attempts older than 2030-05-02 12:00.",
        "Done: 5 attempts deleted.",
    ]


def test_prune_with_batches_keeps_the_newer_attempts():
    for day in range(5):
        attempt(timedelta(days=40 + day))
    kept = attempt(timedelta(days=1))

    prune("--batch-size", "2")

    assert list(Attempt.objects.all()) == [kept]


def test_prune_with_nothing_to_delete_says_so():
    attempt(timedelta(days=1))

    assert prune() == [
        "Done: 0 attempts deleted.",
        "Done: 0 sessions and 0 refresh tokens deleted.",
        "Done: 0 challenges deleted.",
    ]


def test_prune_leaves_bans_alone():
    Ban.objects.create(
        ip="203.0.113.9", reason="tests", created_at=NOW - timedelta(days=400)
    )

    prune()

    assert Ban.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch-size", "0"], "--batch-size must be at least 1."),
        (["--days", "-1"], "--days must not be negative."),
    ],
)
def test_prune_refuses_nonsense_arguments(args, message):
    attempt(timedelta(days=40))

    with pytest.raises(CommandError, match=message):
        prune(*args)
    assert Attempt.objects.count() == 1


def test_prune_deletes_a_session_revoked_before_the_retention_with_its_tokens(user):
    session(user, expires_in=timedelta(days=5), revoked_ago=timedelta(days=31))

    prune()

    assert not Session.objects.exists()
    assert not RefreshToken.objects.exists()


def test_prune_deletes_a_session_expired_before_the_retention_with_its_tokens(user):
    session(user, expires_in=-timedelta(days=30, seconds=1), tokens=3)

    prune()

    assert not Session.objects.exists()
    assert not RefreshToken.objects.exists()


def test_prune_keeps_a_live_session_and_its_tokens(user):
    live = session(user, expires_in=timedelta(days=1), tokens=2)

    prune("--days", "0")

    assert list(Session.objects.all()) == [live]
    assert RefreshToken.objects.filter(session=live).count() == 2


def test_prune_keeps_a_session_revoked_within_the_retention(user):
    kept = session(user, expires_in=timedelta(days=5), revoked_ago=timedelta(days=29))

    prune()

    assert list(Session.objects.all()) == [kept]
    assert RefreshToken.objects.filter(session=kept).count() == 1


def test_prune_keeps_a_session_expired_within_the_retention(user):
    kept = session(user, expires_in=-timedelta(days=29))

    prune()

    assert list(Session.objects.all()) == [kept]


def test_days_overrides_the_retention_for_sessions(user):
    session(user, expires_in=-timedelta(days=10))
    kept = session(user, expires_in=-timedelta(days=5))

    prune("--days", "7")

    assert list(Session.objects.all()) == [kept]


def test_prune_deletes_sessions_in_batches_and_reports_each(user):
    for day in range(3):
        session(user, expires_in=-timedelta(days=40 + day), tokens=2)
    session(user, expires_in=timedelta(days=1))

    lines = prune("--batch-size", "2")

    assert session_lines(lines) == [
        "Deleted 2 sessions that ended before 2030-05-02 12:00, with 4 refresh tokens.",
        "Deleted 3 sessions that ended before 2030-05-02 12:00, with 6 refresh tokens.",
        "Done: 3 sessions and 6 refresh tokens deleted.",
    ]
    assert Session.objects.count() == 1


def test_prune_deletes_a_challenge_expired_before_the_retention(user):
    challenge(user, expires_in=-timedelta(days=30, seconds=1))

    prune()

    assert not Challenge.objects.exists()


def test_prune_deletes_a_challenge_used_before_the_retention(user):
    challenge(user, expires_in=timedelta(minutes=1), used_ago=timedelta(days=31))

    prune()

    assert not Challenge.objects.exists()


def test_prune_keeps_a_challenge_that_ended_within_the_retention(user):
    kept = challenge(user, expires_in=-timedelta(days=29))

    prune()

    assert list(Challenge.objects.all()) == [kept]


def test_prune_keeps_a_live_challenge(user):
    live = challenge(user, expires_in=timedelta(minutes=4))

    prune("--days", "0")

    assert list(Challenge.objects.all()) == [live]


def test_prune_deletes_challenges_in_batches_and_reports_each(user):
    for day in range(3):
        challenge(user, expires_in=-timedelta(days=40 + day))

    lines = prune("--batch-size", "2")

    assert challenge_lines(lines) == [
        "Deleted 2 challenges that ended before 2030-05-02 12:00.",
        "Deleted 3 challenges that ended before 2030-05-02 12:00.",
        "Done: 3 challenges deleted.",
    ]
