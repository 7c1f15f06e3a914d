"""Bans: they expire, operators lift them, and BanMiddleware applies them site-wide."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from jwt_auth import protection
from jwt_auth.models import Attempt, Ban
from jwt_auth.signals import ban_lifted

from .helpers import PASSWORD, jwt_auth, login

pytestmark = pytest.mark.django_db(transaction=True)

BANNED = "203.0.113.9"
HELLO = "/api/hello/"


def ban(key: str = BANNED, duration: timedelta | None = timedelta(hours=1)) -> Ban:
    return protection.ban(key, reason="tests", duration=duration)


def banned_client() -> APIClient:
    return APIClient(REMOTE_ADDR=BANNED)


def is_refused(response) -> bool:
    return response.status_code == 403 and response.json()["code"] == "ip_banned"


# Expiry --------------------------------------------------------------------


def test_a_ban_holds_until_just_before_it_expires(clock):
    ban()
    clock.shift(timedelta(minutes=59, seconds=59))

    assert is_refused(banned_client().get(HELLO))


def test_a_ban_ends_when_it_expires(clock):
    ban()
    assert is_refused(banned_client().get(HELLO))
    clock.shift(timedelta(hours=1, seconds=1))

    assert banned_client().get(HELLO).status_code == 401


def test_an_expired_ban_admits_registrations_again(clock):
    ban()
    clock.shift(timedelta(hours=1, seconds=1))

    response = banned_client().post(
        "/auth/register/",
        {"username": "bob", "email": "bob@example.com", "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 201


def test_the_longest_of_overlapping_bans_wins(clock):
    ban(duration=timedelta(hours=1))
    ban(duration=timedelta(hours=3))
    clock.shift(timedelta(hours=2))

    assert is_refused(banned_client().get(HELLO))


# BanMiddleware -------------------------------------------------------------


@pytest.mark.parametrize("path", [HELLO, "/admin/", "/auth/jwks/", "/no/such/page/"])
def test_the_middleware_refuses_a_banned_address_on_every_path(path):
    ban()

    assert is_refused(banned_client().get(path))


def test_the_middleware_says_in_seconds_when_to_retry(clock):
    ban()
    clock.shift(timedelta(minutes=15))

    response = banned_client().get(HELLO)

    assert response["Retry-After"] == str(45 * 60)


def test_the_middleware_sends_no_retry_after_for_a_ban_without_an_end():
    ban(duration=None)

    response = banned_client().get(HELLO)

    assert is_refused(response)
    assert "Retry-After" not in response


def test_the_middleware_admits_addresses_that_are_not_banned():
    ban()

    assert APIClient(REMOTE_ADDR="203.0.113.10").get(HELLO).status_code == 401


def test_the_middleware_lets_an_unknown_address_through_to_the_view():
    assert APIClient(REMOTE_ADDR="").get(HELLO).status_code == 401


def test_the_middleware_refuses_every_address_in_a_banned_ipv6_prefix():
    ban("2001:db8::/64")

    response = APIClient(REMOTE_ADDR="2001:db8::abcd").get(HELLO)

    assert is_refused(response)


@jwt_auth(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_the_middleware_refuses_a_banned_client_behind_a_trusted_proxy():
    ban()
    client = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=BANNED)

    assert is_refused(client.get(HELLO))


@jwt_auth(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_the_middleware_ignores_a_banned_address_spoofed_in_x_forwarded_for():
    ban()
    client = APIClient(
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{BANNED}, 198.51.100.4"
    )

    assert client.get(HELLO).status_code == 401


@pytest.mark.parametrize("path", ["/auth/login/", "/auth/register/"])
def test_the_middleware_leaves_refusals_on_login_and_register_to_the_views(path):
    ban()

    response = banned_client().post(path, {"username": "x"}, format="json")

    assert is_refused(response)
    assert Attempt.objects.filter(ip=BANNED, outcome="banned").count() == 1


@jwt_auth(PROTECTION=False)
def test_without_protection_the_middleware_refuses_nobody():
    ban()

    assert banned_client().get(HELLO).status_code == 401


# Lifting bans from the admin -----------------------------------------------


@pytest.fixture
def admin_client() -> tuple[Client, object]:
    operator = get_user_model()._default_manager.create_superuser(
        username="operator", email="operator@example.com", password="x" * 20
    )
    client = Client()
    client.force_login(operator)
    return client, operator


def lift_in_admin(client: Client, *bans: Ban):
    return client.post(
        reverse("admin:jwt_auth_ban_changelist"),
        {"action": "lift", "_selected_action": [entry.pk for entry in bans]},
        follow=True,
    )


def test_the_admin_lift_action_lifts_the_selected_ban(admin_client):
    client, operator = admin_client
    entry = ban()

    lift_in_admin(client, entry)

    entry.refresh_from_db()
    assert entry.lifted_at is not None
    assert entry.lifted_by == operator


def test_the_admin_lift_action_admits_the_address_at_once(admin_client):
    client, _ = admin_client
    entry = ban()
    assert is_refused(banned_client().get(HELLO))

    lift_in_admin(client, entry)

    assert banned_client().get(HELLO).status_code == 401


def test_the_admin_lift_action_spares_unselected_bans(admin_client):
    client, _ = admin_client
    selected = ban()
    ban("198.51.100.7")

    lift_in_admin(client, selected)

    assert is_refused(APIClient(REMOTE_ADDR="198.51.100.7").get(HELLO))


def test_the_admin_lift_action_reports_how_many_bans_it_lifted(admin_client):
    client, _ = admin_client

    response = lift_in_admin(client, ban(), ban("198.51.100.7"))

    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["Lifted 2 bans."]


def test_the_admin_lift_action_leaves_an_already_lifted_ban_as_it_was(
    admin_client, clock
):
    client, _ = admin_client
    entry = ban()
    protection.lift_bans(Ban.objects.all())
    entry.refresh_from_db()
    first_lift = entry.lifted_at
    clock.shift(timedelta(minutes=1))

    lift_in_admin(client, entry)

    entry.refresh_from_db()
    assert (entry.lifted_at, entry.lifted_by) == (first_lift, None)


def test_lifting_a_ban_sends_ban_lifted(admin_client, received):
    client, operator = admin_client
    entry = ban()
    receiver = received(ban_lifted)

    lift_in_admin(client, entry)

    receiver.assert_called_once()
    assert receiver.call_args.kwargs["ip"] == BANNED
    assert receiver.call_args.kwargs["lifted_by"] == operator


# Lifting bans from the shell -----------------------------------------------


def unban(*args: str) -> str:
    out = StringIO()
    call_command("jwt_auth_unban", *args, stdout=out)
    return out.getvalue()


def test_jwt_auth_unban_lifts_the_bans_on_an_address():
    ban()

    unban(BANNED)

    assert not Ban.objects.filter(lifted_at__isnull=True).exists()


def test_jwt_auth_unban_admits_the_address_at_once():
    ban()
    assert is_refused(banned_client().get(HELLO))

    unban(BANNED)

    assert banned_client().get(HELLO).status_code == 401


def test_jwt_auth_unban_admits_logins_from_the_address_again(user):
    ban()
    assert is_refused(login(banned_client()))

    unban(BANNED)

    assert login(banned_client()).status_code == 200


def test_jwt_auth_unban_says_how_many_bans_it_lifted():
    ban()
    ban(duration=None)

    assert unban(BANNED).strip() == f"Lifted 2 ban(s) on {BANNED}."


def test_jwt_auth_unban_spares_other_addresses():
    ban()
    ban("198.51.100.7")

    unban(BANNED)

    assert Ban.objects.get(lifted_at__isnull=True).ip == "198.51.100.7"


def test_jwt_auth_unban_given_an_ipv6_address_lifts_the_ban_on_its_prefix():
    ban("2001:db8::/64")

    output = unban("2001:db8::1234")

    assert output.strip() == "Lifted 1 ban(s) on 2001:db8::/64."


def test_jwt_auth_unban_accepts_a_prefix():
    ban("2001:db8::/64")

    unban("2001:db8:0:0:ffff::/64")

    assert not Ban.objects.filter(lifted_at__isnull=True).exists()


def test_jwt_auth_unban_says_so_when_there_is_no_ban():
    assert unban(BANNED).strip() == f"No active ban on {BANNED}."


@pytest.mark.parametrize("value", ["not-an-address", "203.0.113", "10.0.0.0/33"])
def test_jwt_auth_unban_refuses_what_is_not_an_address(value):
    with pytest.raises(CommandError, match="is not an IP address or prefix"):
        unban(value)
