"""``jwt_auth_prune``: the attempt log keeps ATTEMPT_RETENTION and no more."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import override_settings

from jwt_auth.models import Attempt, Ban

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


def prune(*args: str) -> list[str]:
    out = StringIO()
    call_command("jwt_auth_prune", *args, stdout=out)
    return out.getvalue().splitlines()


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

    assert lines == [
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

    assert prune() == ["Done: 0 attempts deleted."]


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
