"""Failed logins: past a limit, logins from the address need a one-time code."""

from __future__ import annotations

import logging
import re
from contextlib import ExitStack
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

from jwt_auth import protection
from jwt_auth.clientip import ClientAddress
from jwt_auth.models import Attempt
from jwt_auth.signals import login_failed, otp_required

from .helpers import PASSWORD, jwt_auth, login, login_with_code

pytestmark = pytest.mark.django_db(transaction=True)

WRONG = "not the password"


def fail(client: APIClient, times: int = 3, username: str = "alice") -> None:
    for _ in range(times):
        response = login(client, username, WRONG)
        assert response.status_code == 401, response.content


def mailed_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def code(response) -> str:
    return response.json()["code"]


@pytest.fixture
def elsewhere() -> APIClient:
    return APIClient(REMOTE_ADDR="203.0.113.9")


# The limit per address -----------------------------------------------------


def test_a_login_after_fewer_failures_than_the_limit_needs_no_code(client, user):
    fail(client, 2)

    assert login(client).status_code == 200


def test_a_login_after_the_failure_limit_needs_a_code(client, user):
    fail(client, 3)

    response = login(client)

    assert response.status_code == 401
    assert code(response) == "otp_required"


def test_a_failed_login_before_the_limit_is_invalid_credentials(client, user):
    fail(client, 2)

    assert code(login(client, "alice", WRONG)) == "invalid_credentials"


def test_otp_required_is_identical_whether_or_not_the_password_was_right(client, user):
    fail(client, 3)

    right = login(client)
    wrong = login(client, "alice", WRONG)

    assert right.status_code == wrong.status_code == 401
    assert right.content == wrong.content


def test_otp_required_for_an_unknown_user_is_identical_too(client, user):
    fail(client, 3)

    known = login(client)
    unknown = login(client, "nobody", PASSWORD)

    assert known.content == unknown.content


def test_a_code_is_mailed_when_the_password_was_right(client, user):
    fail(client, 3)

    login(client)

    [message] = mail.outbox
    assert message.to == ["alice@example.com"]


def test_no_code_is_mailed_when_the_password_was_wrong(client, user):
    fail(client, 3)

    login(client, "alice", WRONG)

    assert mail.outbox == []


def test_failures_against_different_accounts_from_one_address_add_up(client, user):
    for username in ("bob", "carol", "nobody@example.com"):
        fail(client, 1, username)

    assert code(login(client)) == "otp_required"


def test_other_addresses_need_no_code(client, user, elsewhere):
    fail(client, 3)

    assert login(elsewhere).status_code == 200


def test_a_successful_login_does_not_reset_the_failures(client, user):
    fail(client, 2)
    assert login(client).status_code == 200
    fail(client, 1)

    assert code(login(client)) == "otp_required"


@jwt_auth(LOGIN_FAILURE_LIMIT=5)
def test_the_limit_follows_login_failure_limit(client, user):
    fail(client, 4)
    assert login(client).status_code == 200
    fail(client, 1)

    assert code(login(client)) == "otp_required"


# The sliding window --------------------------------------------------------


def test_failures_within_4_min_59_s_still_require_a_code(client, user, clock):
    fail(client, 1)
    clock.shift(timedelta(minutes=1))
    fail(client, 2)
    clock.shift(timedelta(minutes=3, seconds=59))

    assert code(login(client)) == "otp_required"


def test_a_failure_5_min_1_s_old_no_longer_counts(client, user, clock):
    fail(client, 1)
    clock.shift(timedelta(minutes=1))
    fail(client, 2)
    clock.shift(timedelta(minutes=4, seconds=1))

    assert login(client).status_code == 200


def test_the_code_stays_required_until_the_failures_age_out(client, user, clock):
    fail(client, 3)
    for _ in range(4):
        clock.shift(timedelta(minutes=1))
        assert code(login(client)) == "otp_required"

    clock.shift(timedelta(minutes=1, seconds=1))

    assert login(client).status_code == 200


def test_failures_while_a_code_is_required_extend_the_requirement(client, user, clock):
    fail(client, 3)
    clock.shift(timedelta(minutes=4))
    fail(client, 3)
    clock.shift(timedelta(minutes=4))

    assert code(login(client)) == "otp_required"


@jwt_auth(LOGIN_FAILURE_WINDOW=timedelta(minutes=1))
def test_the_window_follows_login_failure_window(client, user, clock):
    fail(client, 3)
    clock.shift(timedelta(minutes=1, seconds=1))

    assert login(client).status_code == 200


# The limit per account -----------------------------------------------------


def fail_from_many_addresses(times: int, username: str = "alice") -> None:
    for number in range(times):
        fail(APIClient(REMOTE_ADDR=f"198.51.100.{number + 1}"), 1, username)


def test_failures_against_one_account_from_many_addresses_require_a_code(
    user, elsewhere
):
    fail_from_many_addresses(10)

    assert code(login(elsewhere)) == "otp_required"


def test_fewer_account_failures_than_the_limit_need_no_code(user, elsewhere):
    fail_from_many_addresses(9)

    assert login(elsewhere).status_code == 200


def test_the_account_limit_spares_other_accounts(user, elsewhere):
    get_user_model()._default_manager.create_user(
        username="bob", email="bob@example.com", password=PASSWORD
    )
    fail_from_many_addresses(10)

    assert login(elsewhere, "bob").status_code == 200


@jwt_auth(ACCOUNT_FAILURE_LIMIT=4)
def test_the_account_limit_follows_account_failure_limit(user, elsewhere):
    fail_from_many_addresses(4)

    assert code(login(elsewhere)) == "otp_required"


@jwt_auth(ACCOUNT_FAILURE_LIMIT=None)
def test_no_account_failure_limit_switches_the_account_limit_off(user, elsewhere):
    fail_from_many_addresses(12)

    assert login(elsewhere).status_code == 200


@jwt_auth(ACCOUNT_FAILURE_WINDOW=timedelta(minutes=2))
def test_the_account_window_follows_account_failure_window(user, elsewhere, clock):
    fail_from_many_addresses(10)
    clock.shift(timedelta(minutes=2, seconds=1))

    assert login(elsewhere).status_code == 200


# A wrong password while a code is required ---------------------------------


def test_a_wrong_password_with_any_code_is_invalid_otp(client, user):
    fail(client, 3)

    response = login_with_code(client, "123456", password=WRONG)

    assert response.status_code == 401
    assert code(response) == "invalid_otp"


def test_a_wrong_password_answers_exactly_like_a_wrong_code(client, user):
    fail(client, 3)
    login(client)
    right_code = mailed_code()
    wrong_code = f"{(int(right_code) + 1) % 10**6:06d}"

    wrong_password = login_with_code(client, right_code, password=WRONG)
    wrong_otp = login_with_code(client, wrong_code)

    assert wrong_password.status_code == wrong_otp.status_code == 401
    assert wrong_password.content == wrong_otp.content


def test_a_wrong_password_does_not_spend_the_code(client, user):
    fail(client, 3)
    login(client)
    right_code = mailed_code()

    login_with_code(client, right_code, password=WRONG)

    assert login_with_code(client, right_code).status_code == 200


def test_a_code_is_ignored_while_none_is_required(client, user):
    response = login_with_code(client, "000000")

    assert response.status_code == 200


# Switched off --------------------------------------------------------------


@jwt_auth(PROTECTION=False)
def test_without_protection_failures_never_require_a_code(client, user):
    fail(client, 10)

    assert login(client).status_code == 200


@jwt_auth(PROTECTION=False)
def test_without_protection_no_attempt_is_logged(client, user):
    fail(client, 3)
    login(client)

    assert not Attempt.objects.exists()


# The attempt log -----------------------------------------------------------


def test_a_failed_login_is_logged_with_its_user(client, user):
    fail(client, 1)

    attempt = Attempt.objects.get()
    assert (attempt.kind, attempt.outcome, attempt.username, attempt.user) == (
        "login",
        "failure",
        "alice",
        user,
    )


def test_a_login_answered_with_otp_required_is_logged_as_such(client, user):
    fail(client, 3)

    login(client)

    assert Attempt.objects.filter(outcome="otp_required", user=user).count() == 1


def test_a_successful_login_is_logged(client, user):
    login(client)

    attempt = Attempt.objects.get()
    assert (attempt.ip, attempt.kind, attempt.outcome) == (
        "127.0.0.1",
        "login",
        "success",
    )


# Signals -------------------------------------------------------------------


def test_a_login_needing_a_code_sends_otp_required(client, user, received):
    fail(client, 3)
    receiver = received(otp_required)

    login(client)

    receiver.assert_called_once()
    kwargs = receiver.call_args.kwargs
    assert kwargs["username"] == "alice"
    assert kwargs["address"].ip == "127.0.0.1"


def test_a_login_below_the_limit_sends_no_otp_required(client, user, received):
    receiver = received(otp_required)
    fail(client, 2)

    login(client)

    receiver.assert_not_called()


def test_a_failed_login_sends_login_failed(client, user, received):
    receiver = received(login_failed)

    fail(client, 1)

    receiver.assert_called_once()
    kwargs = receiver.call_args.kwargs
    assert (kwargs["username"], kwargs["user"]) == ("alice", user)
    assert kwargs["address"].key == "127.0.0.1"


def test_a_failed_login_of_an_unknown_user_sends_login_failed_without_a_user(
    client, received
):
    receiver = received(login_failed)

    fail(client, 1, "nobody")

    assert receiver.call_args.kwargs["user"] is None


# What the logs say ---------------------------------------------------------

STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def extra_of(record: logging.LogRecord) -> dict:
    """Return what the caller added to ``record`` through ``extra``."""
    return {k: v for k, v in vars(record).items() if k not in STANDARD_ATTRIBUTES}


def test_log_records_carry_neither_the_password_nor_the_code(client, user, caplog):
    caplog.set_level(logging.DEBUG)
    fail(client, 3)
    login(client)
    sent = mailed_code()
    login_with_code(client, "999999" if sent != "999999" else "888888")
    login_with_code(client, sent)

    logged = "\n".join(
        f"{record.getMessage()} {extra_of(record)!r}" for record in caplog.records
    )
    assert "Login failed." in logged
    assert PASSWORD not in logged
    assert WRONG not in logged
    assert sent not in logged


# Logins still being decided ------------------------------------------------


def test_undecided_logins_from_an_address_count_toward_its_limit(user):
    address = ClientAddress(ip="203.0.113.50", key="203.0.113.50")

    with ExitStack() as stack:
        for _ in range(3):
            stack.enter_context(protection.login_in_flight(address, None))
        with protection.login_in_flight(address, None) as in_flight:
            assert protection.code_required(address, None, in_flight)


def test_logins_below_the_limit_in_flight_need_no_code(user):
    address = ClientAddress(ip="203.0.113.51", key="203.0.113.51")

    with protection.login_in_flight(address, None):
        with protection.login_in_flight(address, None) as in_flight:
            assert not protection.code_required(address, None, in_flight)


def test_a_decided_login_no_longer_counts_as_undecided(user):
    address = ClientAddress(ip="203.0.113.52", key="203.0.113.52")
    for _ in range(3):
        with protection.login_in_flight(address, None):
            pass

    with protection.login_in_flight(address, None) as in_flight:
        assert in_flight == (0, 0)


def test_undecided_logins_to_an_account_count_toward_its_limit(user):
    addresses = [
        ClientAddress(ip=f"198.51.100.{n}", key=f"198.51.100.{n}") for n in range(11)
    ]

    with ExitStack() as stack:
        for address in addresses[:10]:
            stack.enter_context(protection.login_in_flight(address, user))
        with protection.login_in_flight(addresses[10], user) as in_flight:
            assert in_flight == (0, 10)
            assert protection.code_required(addresses[10], user, in_flight)
