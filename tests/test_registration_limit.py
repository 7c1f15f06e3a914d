"""Registration limit: an address that registers too often in a window is banned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings
from rest_framework.test import APIClient

from jwt_auth.models import Attempt, Ban
from jwt_auth.protection import lift_bans
from jwt_auth.signals import ip_banned, user_registered

from .helpers import jwt_auth, login, register, user_count

pytestmark = pytest.mark.django_db(transaction=True)


def without_ban_middleware():
    middleware = [m for m in settings.MIDDLEWARE if not m.endswith("BanMiddleware")]
    return override_settings(MIDDLEWARE=middleware)


def register_many(client: APIClient, count: int, prefix: str = "user") -> list[int]:
    return [
        register(client, f"{prefix}{number}").status_code for number in range(count)
    ]


@pytest.fixture(params=["site-wide", "in the views"])
def refused(request):
    """Run the test with bans refused by BanMiddleware, then by the views alone."""
    if request.param == "site-wide":
        yield
    else:
        with without_ban_middleware():
            yield


# Counting and banning ------------------------------------------------------


def test_registrations_below_the_limit_are_not_banned(client):
    assert register_many(client, 2) == [201, 201]
    assert not Ban.objects.exists()


def test_the_registration_that_reaches_the_limit_still_succeeds(client):
    assert register_many(client, 3) == [201, 201, 201]


def test_reaching_the_limit_bans_the_address(client):
    register_many(client, 3)

    ban = Ban.objects.get()
    assert ban.ip == "127.0.0.1"
    assert ban.lifted_at is None


def test_the_ban_lasts_register_ban_duration(client, clock):
    register_many(client, 3)

    ban = Ban.objects.get()
    assert ban.expires_at - ban.created_at == timedelta(hours=1)


def test_a_registration_from_a_banned_address_is_refused_with_ip_banned(
    client, refused
):
    register_many(client, 3)

    response = register(client, "dave")

    assert response.status_code == 403
    assert response.json()["code"] == "ip_banned"


def test_a_refused_registration_creates_no_user(client, refused):
    register_many(client, 3)

    register(client, "dave")

    assert user_count() == 3


def test_a_refused_registration_says_in_seconds_when_to_retry(client, clock, refused):
    register_many(client, 3)
    clock.shift(timedelta(minutes=10))

    response = register(client, "dave")

    assert response["Retry-After"] == str(50 * 60)


def test_a_refused_registration_learns_nothing_about_its_input(client, refused):
    register_many(client, 3)

    response = register(client, "user0", email="not an address", password="")

    assert response.status_code == 403
    assert response.json()["code"] == "ip_banned"


def test_login_from_a_banned_address_is_refused_with_ip_banned(client, user, refused):
    register_many(client, 3)

    response = login(client)

    assert response.status_code == 403
    assert response.json()["code"] == "ip_banned"


def test_a_ban_spares_other_addresses(client, user):
    register_many(client, 3)
    elsewhere = APIClient(REMOTE_ADDR="203.0.113.9")

    assert register(elsewhere, "dave").status_code == 201
    assert login(elsewhere).status_code == 200


def test_invalid_registrations_do_not_count_toward_the_limit(client):
    for number in range(3):
        assert register(client, f"bad{number}", email="nope").status_code == 400

    assert register_many(client, 3) == [201, 201, 201]


def test_registrations_refused_for_a_taken_username_do_not_count(client, user):
    for _ in range(3):
        assert register(client, "alice").status_code == 400

    assert register_many(client, 3) == [201, 201, 201]


# How long a ban lasts ------------------------------------------------------


def test_the_ban_expires_after_register_ban_duration(client, clock):
    register_many(client, 3)
    clock.shift(timedelta(hours=1, seconds=1))

    assert register(client, "dave").status_code == 201


def test_the_ban_still_holds_just_before_it_expires(client, clock, refused):
    register_many(client, 3)
    clock.shift(timedelta(minutes=59, seconds=59))

    assert register(client, "dave").status_code == 403


@jwt_auth(REGISTER_BAN_DURATION=None)
def test_a_ban_without_a_duration_has_no_end(client):
    register_many(client, 3)

    assert Ban.objects.get().expires_at is None


@jwt_auth(REGISTER_BAN_DURATION=None)
def test_a_ban_without_a_duration_sends_no_retry_after(client, refused):
    register_many(client, 3)

    response = register(client, "dave")

    assert response.status_code == 403
    assert "Retry-After" not in response


@jwt_auth(REGISTER_BAN_DURATION=None)
def test_a_ban_without_a_duration_holds_until_lifted(client, clock, refused):
    register_many(client, 3)
    clock.shift(timedelta(days=400))

    assert register(client, "dave").status_code == 403


@jwt_auth(REGISTER_BAN_DURATION=None)
def test_a_ban_without_a_duration_ends_when_lifted(client):
    register_many(client, 3)

    lift_bans(Ban.objects.all())

    assert register(client, "dave").status_code == 201


# The sliding window --------------------------------------------------------


def test_three_registrations_within_4_min_59_s_ban_the_address(client, clock):
    register(client, "first")
    clock.shift(timedelta(minutes=2))
    register(client, "second")
    clock.shift(timedelta(minutes=2, seconds=59))
    register(client, "third")

    assert Ban.objects.count() == 1
    assert register(client, "fourth").status_code == 403


def test_three_registrations_over_5_min_1_s_do_not_ban_the_address(client, clock):
    register(client, "first")
    clock.shift(timedelta(minutes=2))
    register(client, "second")
    clock.shift(timedelta(minutes=3, seconds=1))
    register(client, "third")

    assert not Ban.objects.exists()
    assert register(client, "fourth").status_code == 201


def test_registrations_before_a_lifted_ban_do_not_count_again(client):
    register_many(client, 3)
    lift_bans(Ban.objects.all())

    assert register_many(client, 2, prefix="after") == [201, 201]
    assert not Ban.objects.filter(lifted_at__isnull=True).exists()


def test_registrations_after_a_lifted_ban_count_afresh(client):
    register_many(client, 3)
    lift_bans(Ban.objects.all())

    register_many(client, 3, prefix="after")

    assert Ban.objects.filter(lifted_at__isnull=True).count() == 1


# Thresholds from the settings ----------------------------------------------


@jwt_auth(REGISTER_LIMIT=1)
def test_the_limit_follows_register_limit(client, refused):
    assert register_many(client, 2) == [201, 403]


@jwt_auth(REGISTER_LIMIT=5)
def test_a_higher_limit_admits_more_registrations(client):
    assert register_many(client, 6) == [201, 201, 201, 201, 201, 403]


@jwt_auth(REGISTER_WINDOW=timedelta(minutes=1))
def test_the_window_follows_register_window(client, clock):
    for number in range(3):
        register(client, f"user{number}")
        clock.shift(timedelta(seconds=31))

    assert not Ban.objects.exists()


@jwt_auth(REGISTER_BAN_DURATION=timedelta(minutes=10))
def test_the_ban_length_follows_register_ban_duration(client, clock, refused):
    register_many(client, 3)

    assert register(client, "dave")["Retry-After"] == "600"


@jwt_auth(PROTECTION=False)
def test_without_protection_registrations_are_not_limited(client):
    assert register_many(client, 5) == [201] * 5
    assert not Ban.objects.exists()
    assert not Attempt.objects.exists()


# Signals -------------------------------------------------------------------


def test_reaching_the_limit_sends_ip_banned(client, received):
    receiver = received(ip_banned)

    register_many(client, 3)

    receiver.assert_called_once()
    kwargs = receiver.call_args.kwargs
    assert kwargs["ban"] == Ban.objects.get()
    assert "3 registrations" in kwargs["reason"]


def test_registrations_below_the_limit_send_no_ip_banned(client, received):
    receiver = received(ip_banned)

    register_many(client, 2)

    receiver.assert_not_called()


def test_a_refused_registration_sends_no_user_registered(client, received):
    register_many(client, 3)
    receiver = received(user_registered)

    register(client, "dave")

    receiver.assert_not_called()


def test_each_admitted_registration_sends_user_registered(client, received):
    receiver = received(user_registered)

    register_many(client, 3)

    usernames = [c.kwargs["user"].get_username() for c in receiver.call_args_list]
    assert usernames == ["user0", "user1", "user2"]


# The attempt log -----------------------------------------------------------


def test_a_registration_is_logged_as_a_successful_register_attempt(client):
    register(client, "bob", HTTP_USER_AGENT="")

    attempt = Attempt.objects.get()
    created = get_user_model()._default_manager.get()
    assert (attempt.ip, attempt.kind, attempt.outcome) == (
        "127.0.0.1",
        "register",
        "success",
    )
    assert (attempt.username, attempt.user) == ("bob", created)


@without_ban_middleware()
def test_a_registration_refused_by_the_view_is_logged_as_banned(client):
    register_many(client, 3)

    register(client, "dave")

    assert Attempt.objects.filter(kind="register", outcome="banned").count() == 1


def test_an_invalid_registration_leaves_no_attempt_row(client):
    register(client, "bob", email="nope")

    assert not Attempt.objects.exists()


def test_the_attempt_log_keeps_the_user_agent_up_to_255_characters():
    client = APIClient(HTTP_USER_AGENT="A" * 300)

    register(client, "bob")

    assert Attempt.objects.get().user_agent == "A" * 255


def test_the_attempt_log_keeps_the_username_up_to_150_characters(client):
    long_name = "x" * 200

    login(client, long_name, "wrong password")

    assert Attempt.objects.get().username == "x" * 150
