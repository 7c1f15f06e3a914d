"""Request rates: past a scope's rate, an address is answered 429 ``throttled``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from jwt_auth.models import Attempt

from .helpers import login, login_with_code, refresh, register

# Time stands still in the middle of a fixed window for every scope: no window
# ends during a test.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clock")]


SCOPES = ("login", "otp", "refresh", "register")


def rates(**scopes):
    """Set the rates of ``scopes`` and switch every other scope off."""
    chosen = {scope: None for scope in SCOPES} | scopes
    return override_settings(
        JWT_AUTH={"ISSUER": "https://issuer.test", "THROTTLE_RATES": chosen}
    )


REQUESTS = {
    "login": lambda client, n: login(client),
    "register": lambda client, n: register(client, f"user{n}"),
    "refresh": lambda client, n: refresh(client, "not-a-token"),
    "otp": lambda client, n: login_with_code(client, "123456"),
}


def send(client: APIClient, scope: str, times: int) -> list:
    return [REQUESTS[scope](client, n) for n in range(times)]


@pytest.mark.parametrize("scope", SCOPES)
def test_requests_within_the_rate_are_not_throttled(client, user, scope):
    with rates(**{scope: "2/m"}):
        responses = send(client, scope, 2)

    assert 429 not in [r.status_code for r in responses]


@pytest.mark.parametrize("scope", SCOPES)
def test_a_request_over_the_rate_is_throttled(client, user, scope):
    with rates(**{scope: "2/m"}):
        response = send(client, scope, 3)[-1]

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"


@pytest.mark.parametrize("scope", SCOPES)
def test_a_throttled_request_says_in_seconds_when_to_retry(client, user, scope):
    with rates(**{scope: "2/m"}):
        response = send(client, scope, 3)[-1]

    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.mark.parametrize("scope", SCOPES)
def test_the_rate_is_counted_per_address(client, user, scope):
    with rates(**{scope: "2/m"}):
        send(client, scope, 2)
        response = send(APIClient(REMOTE_ADDR="203.0.113.9"), scope, 1)[-1]

    assert response.status_code != 429


@pytest.mark.parametrize("scope", SCOPES)
def test_requests_are_admitted_again_once_the_window_has_passed(
    client, user, scope, clock
):
    with rates(**{scope: "2/m"}):
        send(client, scope, 3)
        clock.shift(timedelta(seconds=61))
        response = send(client, scope, 1)[-1]

    assert response.status_code != 429


@pytest.mark.parametrize("scope", SCOPES)
def test_a_none_rate_switches_the_scope_off(client, user, scope):
    with rates(**{scope: None}):
        responses = send(client, scope, 25)

    assert 429 not in [r.status_code for r in responses]


def test_the_default_login_rate_is_twenty_a_minute(client, user):
    statuses = [r.status_code for r in send(client, "login", 21)]

    assert statuses.count(429) == 1
    assert statuses[-1] == 429


def test_a_throttled_login_is_logged_as_throttled(client, user):
    with rates(login="1/m"):
        login(client)
        login(client)

    attempt = Attempt.objects.get(outcome="throttled")
    assert (attempt.kind, attempt.username, attempt.ip) == (
        "login",
        "alice",
        "127.0.0.1",
    )


def test_a_throttled_registration_is_logged_as_throttled(client):
    with rates(register="1/m"):
        register(client, "bob")
        register(client, "carol")

    attempt = Attempt.objects.get(outcome="throttled")
    assert attempt.kind == "register"


def test_a_throttled_code_guess_is_logged_as_throttled(client, user):
    with rates(otp="1/m"):
        login_with_code(client, "123456")
        login_with_code(client, "123456")

    attempt = Attempt.objects.get(outcome="throttled")
    assert (attempt.kind, attempt.username) == ("login", "alice")


def test_a_throttled_login_does_not_count_as_a_failed_login(client, user):
    with rates(login="2/m"):
        send(client, "login", 5)
    with rates(login=None):
        response = login(client)

    assert response.status_code == 200


@pytest.mark.parametrize("spared", ["login", "otp"])
def test_a_scope_left_out_of_throttle_rates_keeps_its_default(client, user, spared):
    named = {"login": "otp", "otp": "login"}[spared]
    limit = {"login": 20, "otp": 10}[spared]
    with override_settings(
        JWT_AUTH={"ISSUER": "https://issuer.test", "THROTTLE_RATES": {named: "99/m"}}
    ):
        response = send(client, spared, limit + 1)[-1]

    assert response.status_code == 429


@override_settings(
    JWT_AUTH={
        "ISSUER": "https://issuer.test",
        "PROTECTION": False,
        "THROTTLE_RATES": {"login": "1/m", "register": "1/m", "refresh": "1/m"},
    }
)
@pytest.mark.parametrize("scope", ["login", "register", "refresh"])
def test_without_protection_nothing_is_throttled(client, user, scope):
    responses = send(client, scope, 3)

    assert 429 not in [r.status_code for r in responses]


def test_a_flood_of_throttled_requests_writes_one_row_a_minute(client, user, clock):
    with rates(login="1/m"):
        send(client, "login", 10)
        clock.shift(timedelta(seconds=61))
        send(client, "login", 10)

    assert Attempt.objects.filter(outcome="throttled").count() == 2


@pytest.mark.parametrize("escaped", ["nul\\u0000byte", "lone\\ud800surrogate"])
def test_a_throttled_login_with_an_unstorable_username_is_logged_cleaned(
    client, user, escaped
):
    body = f'{{"username": "{escaped}", "password": "x"}}'
    with rates(login="1/m"):
        login(client)
        response = client.generic("POST", "/auth/login/", body, "application/json")

    assert response.status_code == 429
    logged = Attempt.objects.get(outcome="throttled").username
    assert "\x00" not in logged
    logged.encode("utf-8")
