"""One-time codes: sent after failed logins, single use, short-lived, capped."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings
from rest_framework.test import APIClient

from jwt_auth import otp
from jwt_auth.models import Challenge

from .helpers import PASSWORD, jwt_auth, login, login_with_code

pytestmark = pytest.mark.django_db(transaction=True)

WRONG = "not the password"

sent_codes: list[dict[str, Any]] = []


def recording_sender(*, user: Any, code: str, request: Any = None) -> None:
    """A sender that keeps what it was asked to deliver."""
    sent_codes.append({"user": user, "code": code})


def failing_sender(*, user: Any, code: str, request: Any = None) -> None:
    raise ConnectionRefusedError("the mail relay is down")


def require_code(client: APIClient) -> None:
    """Fail three logins from ``client``, so its next login needs a code."""
    for _ in range(3):
        assert login(client, "alice", WRONG).status_code == 401


def request_code(client: APIClient):
    response = login(client)
    assert response.json()["code"] == "otp_required"
    return response


def mailed_code(message=None) -> str:
    message = message or mail.outbox[-1]
    return re.search(r"code is (\d+)\.", message.body).group(1)


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


@pytest.fixture
def challenged(client, user) -> str:
    """Bring ``client`` to the code step and return the code mailed to alice."""
    require_code(client)
    request_code(client)
    return mailed_code()


# Signing in with a code ----------------------------------------------------


def test_the_mailed_code_logs_in(client, challenged):
    response = login_with_code(client, challenged)

    assert response.status_code == 200
    assert response.json()["access_token"]


def test_a_wrong_code_is_invalid_otp(client, challenged):
    response = login_with_code(client, other_than(challenged))

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_otp"


def test_a_code_without_a_challenge_is_invalid_otp(client, user):
    require_code(client)

    response = login_with_code(client, "123456")

    assert response.json()["code"] == "invalid_otp"


def test_the_code_has_otp_length_digits(client, challenged):
    assert re.fullmatch(r"\d{6}", challenged)


@jwt_auth(OTP_LENGTH=8)
def test_the_code_length_follows_otp_length(client, user):
    require_code(client)

    request_code(client)

    assert re.fullmatch(r"\d{8}", mailed_code())


def test_a_code_keeps_its_leading_zeros():
    with mock.patch("jwt_auth.otp.secrets.randbelow", return_value=42):
        assert otp.make_code() == "000042"


def test_the_mail_says_how_long_the_code_lasts(client, challenged):
    assert "expires in 5 minutes" in mail.outbox[-1].body


# How the code is stored ----------------------------------------------------


def test_the_code_is_not_stored_in_clear(client, challenged):
    challenge = Challenge.objects.get()

    stored = " ".join(str(value) for value in vars(challenge).values())
    assert challenged not in stored


def test_the_stored_code_is_keyed_by_the_secret_key(user):
    stored = otp.hash_code(user.pk, "123456")

    with override_settings(SECRET_KEY="another-secret-key-" + "x" * 50):
        assert otp.hash_code(user.pk, "123456") != stored


def test_the_stored_code_is_bound_to_its_user(user):
    assert otp.hash_code(user.pk, "123456") != otp.hash_code(user.pk + 1, "123456")


# Expiry and single use -----------------------------------------------------


@jwt_auth(OTP_TTL=timedelta(minutes=2))
def test_a_code_works_until_otp_ttl_has_passed(client, user, clock):
    require_code(client)
    request_code(client)
    clock.shift(timedelta(minutes=1, seconds=59))

    assert login_with_code(client, mailed_code()).status_code == 200


@jwt_auth(OTP_TTL=timedelta(minutes=2))
def test_a_code_expires_after_otp_ttl(client, user, clock):
    require_code(client)
    request_code(client)
    clock.shift(timedelta(minutes=2, seconds=1))

    response = login_with_code(client, mailed_code())

    assert response.json()["code"] == "invalid_otp"


def test_a_code_works_only_once(client, challenged):
    assert login_with_code(client, challenged).status_code == 200

    response = login_with_code(client, challenged)

    assert response.json()["code"] == "invalid_otp"


def test_the_right_code_still_works_after_fewer_wrong_guesses_than_the_cap(
    client, challenged
):
    for _ in range(4):
        login_with_code(client, other_than(challenged))

    assert login_with_code(client, challenged).status_code == 200


def test_a_code_is_void_after_otp_max_attempts_wrong_guesses(client, challenged):
    for _ in range(5):
        login_with_code(client, other_than(challenged))

    response = login_with_code(client, challenged)

    assert response.json()["code"] == "invalid_otp"


@jwt_auth(OTP_MAX_ATTEMPTS=2)
def test_the_guess_cap_follows_otp_max_attempts(client, challenged):
    for _ in range(2):
        login_with_code(client, other_than(challenged))

    assert login_with_code(client, challenged).json()["code"] == "invalid_otp"


def test_a_code_guessed_to_death_is_not_replaced_within_the_cooldown(
    client, clock, challenged
):
    for _ in range(5):
        login_with_code(client, other_than(challenged))

    request_code(client)

    assert len(mail.outbox) == 1


def test_a_code_guessed_to_death_is_replaced_after_the_cooldown(
    client, clock, challenged
):
    for _ in range(5):
        login_with_code(client, other_than(challenged))
    clock.shift(timedelta(seconds=61))

    request_code(client)

    assert len(mail.outbox) == 2


# Sending and re-sending ----------------------------------------------------


def test_a_code_is_not_resent_within_the_cooldown(client, clock, challenged):
    clock.shift(timedelta(seconds=59))

    request_code(client)

    assert len(mail.outbox) == 1


def test_a_code_is_resent_after_the_cooldown(client, clock, challenged):
    clock.shift(timedelta(seconds=61))

    request_code(client)

    assert len(mail.outbox) == 2


@jwt_auth(OTP_RESEND_COOLDOWN=timedelta(seconds=10))
def test_the_cooldown_follows_otp_resend_cooldown(client, clock, challenged):
    clock.shift(timedelta(seconds=11))

    request_code(client)

    assert len(mail.outbox) == 2


def test_the_original_code_still_works_after_a_refused_resend(
    client, clock, challenged
):
    clock.shift(timedelta(seconds=30))
    request_code(client)

    assert login_with_code(client, challenged).status_code == 200


def test_a_new_code_voids_the_old_one(client, user, clock):
    require_code(client)
    with mock.patch("jwt_auth.otp.make_code", side_effect=["111111", "222222"]):
        request_code(client)
        clock.shift(timedelta(seconds=61))
        request_code(client)

    response = login_with_code(client, "111111")

    assert response.json()["code"] == "invalid_otp"


def test_the_newest_code_works_after_a_resend(client, user, clock):
    require_code(client)
    with mock.patch("jwt_auth.otp.make_code", side_effect=["111111", "222222"]):
        request_code(client)
        clock.shift(timedelta(seconds=61))
        request_code(client)

    assert login_with_code(client, "222222").status_code == 200


# Delivery ------------------------------------------------------------------


@jwt_auth(OTP_SENDER="tests.test_otp.recording_sender")
def test_otp_sender_names_the_function_that_delivers_the_code(client, user):
    sent_codes.clear()
    require_code(client)

    request_code(client)

    [sent] = sent_codes
    assert sent["user"] == user
    assert login_with_code(client, sent["code"]).status_code == 200


@pytest.fixture
def no_email_user(db) -> Any:
    return get_user_model()._default_manager.create_user(
        username="alice", email="", password=PASSWORD
    )


def test_a_user_without_an_email_gets_the_usual_otp_required(client, no_email_user):
    require_code(client)

    right = login(client)
    wrong = login(client, "alice", WRONG)

    assert right.status_code == 401
    assert right.content == wrong.content


def test_a_user_without_an_email_is_logged_at_error(client, no_email_user, caplog):
    require_code(client)

    with caplog.at_level(logging.INFO, logger="jwt_auth"):
        login(client)

    [record] = [r for r in caplog.records if r.name == "jwt_auth.otp"]
    assert record.levelno == logging.ERROR
    assert record.user_id == no_email_user.pk


@jwt_auth(OTP_SENDER="tests.test_otp.failing_sender")
def test_a_failing_sender_gets_the_usual_otp_required(client, user):
    require_code(client)

    right = login(client)
    wrong = login(client, "alice", WRONG)

    assert right.status_code == 401
    assert right.content == wrong.content


@jwt_auth(OTP_SENDER="tests.test_otp.failing_sender")
def test_a_failing_sender_is_logged_at_error(client, user, caplog):
    require_code(client)

    with caplog.at_level(logging.INFO, logger="jwt_auth"):
        login(client)

    [record] = [r for r in caplog.records if r.name == "jwt_auth.otp"]
    assert record.levelno == logging.ERROR
    assert "ConnectionRefusedError" in record.getMessage()
