"""System checks for the protection settings: ``jwt_auth.E008`` and E004."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from jwt_auth.checks import check_settings


def errors_for(**overrides) -> list:
    with override_settings(JWT_AUTH={"ISSUER": "https://issuer.test", **overrides}):
        return check_settings()


def ids_for(**overrides) -> list[str]:
    return [error.id for error in errors_for(**overrides)]


def test_the_default_protection_settings_pass():
    assert ids_for() == []


# Counts --------------------------------------------------------------------

COUNTS = [
    "REGISTER_LIMIT",
    "LOGIN_FAILURE_LIMIT",
    "ACCOUNT_FAILURE_LIMIT",
    "OTP_MAX_ATTEMPTS",
]


@pytest.mark.parametrize("name", COUNTS)
@pytest.mark.parametrize("value", [0, -1, 2.5, "3", True])
def test_a_count_that_is_not_a_positive_integer_is_e008(name, value):
    errors = errors_for(**{name: value})

    assert [e.id for e in errors] == ["jwt_auth.E008"]
    assert errors[0].msg == f"JWT_AUTH {name} must be a positive integer."


@pytest.mark.parametrize("name", COUNTS)
def test_a_positive_count_passes(name):
    assert ids_for(**{name: 1}) == []


@pytest.mark.parametrize("name", ["REGISTER_LIMIT", "LOGIN_FAILURE_LIMIT"])
def test_none_is_no_count_for_the_per_address_limits(name):
    assert ids_for(**{name: None}) == ["jwt_auth.E008"]


def test_account_failure_limit_none_switches_it_off_and_passes():
    assert ids_for(ACCOUNT_FAILURE_LIMIT=None) == []


# The code's length ---------------------------------------------------------


@pytest.mark.parametrize("length", [0, 3, 11])
def test_otp_length_outside_4_to_10_is_e008(length):
    assert "jwt_auth.E008" in ids_for(OTP_LENGTH=length)


@pytest.mark.parametrize("length", [4, 10])
def test_otp_length_from_4_to_10_passes(length):
    assert ids_for(OTP_LENGTH=length) == []


@pytest.mark.parametrize("length", ["6", None, 6.0])
def test_otp_length_that_is_no_integer_is_e008(length):
    assert set(ids_for(OTP_LENGTH=length)) == {"jwt_auth.E008"}


# Addresses -----------------------------------------------------------------


@pytest.mark.parametrize("prefix", [0, 129, -64, "64", True, None])
def test_a_bad_ipv6_prefix_is_e008(prefix):
    errors = errors_for(IPV6_PREFIX=prefix)

    assert [e.msg for e in errors] == ["JWT_AUTH IPV6_PREFIX must be from 1 to 128."]


@pytest.mark.parametrize("prefix", [1, 48, 64, 128])
def test_an_ipv6_prefix_from_1_to_128_passes(prefix):
    assert ids_for(IPV6_PREFIX=prefix) == []


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "not-a-network", "", None])
def test_a_trusted_proxy_that_is_no_cidr_is_e008(cidr):
    errors = errors_for(TRUSTED_PROXIES=["10.0.0.0/8", cidr])

    assert [e.msg for e in errors] == [
        f"JWT_AUTH TRUSTED_PROXIES: {cidr!r} is no CIDR."
    ]


@pytest.mark.parametrize("proxies", ["10.0.0.0/8", None])
def test_trusted_proxies_that_are_not_a_list_are_e008(proxies):
    errors = errors_for(TRUSTED_PROXIES=proxies)

    assert [e.msg for e in errors] == [
        "JWT_AUTH TRUSTED_PROXIES must be a list of CIDRs."
    ]


def test_trusted_proxies_given_as_cidrs_and_addresses_pass():
    assert ids_for(TRUSTED_PROXIES=["10.0.0.0/8", "192.0.2.1", "fd00::/8"]) == []


# Throttle rates ------------------------------------------------------------


def test_an_unknown_throttle_scope_is_e008():
    errors = errors_for(THROTTLE_RATES={"signup": "5/m"})

    assert [e.msg for e in errors] == ["JWT_AUTH THROTTLE_RATES has no scope 'signup'."]


@pytest.mark.parametrize(
    "rate", ["fast", "5", "0/m", "-1/m", "5/x", "/m", 5, "5/", "5/0m"]
)
def test_a_rate_django_ratelimit_cannot_read_is_e008(rate):
    errors = errors_for(THROTTLE_RATES={"login": rate})

    assert [e.id for e in errors] == ["jwt_auth.E008"]


@pytest.mark.parametrize("rate", ["5/s", "20/m", "100/h", "1000/d", "5/10m", None])
def test_a_rate_django_ratelimit_reads_passes(rate):
    assert ids_for(THROTTLE_RATES={"login": rate}) == []


def test_throttle_rates_that_are_not_a_dict_are_e008():
    assert ids_for(THROTTLE_RATES=["20/m"]) == ["jwt_auth.E008"]


# Durations -----------------------------------------------------------------

WINDOWS = [
    "REGISTER_WINDOW",
    "REGISTER_BAN_DURATION",
    "LOGIN_FAILURE_WINDOW",
    "ACCOUNT_FAILURE_WINDOW",
    "OTP_TTL",
    "OTP_RESEND_COOLDOWN",
    "ATTEMPT_RETENTION",
]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("value", [300, 5.0, "5m"])
def test_a_window_that_is_not_a_timedelta_is_e004(name, value):
    assert ids_for(**{name: value}) == ["jwt_auth.E004"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("value", [timedelta(0), timedelta(seconds=-1)])
def test_a_window_that_is_not_positive_is_e004(name, value):
    assert ids_for(**{name: value}) == ["jwt_auth.E004"]


def test_register_ban_duration_none_means_until_lifted_and_passes():
    assert ids_for(REGISTER_BAN_DURATION=None) == []


@pytest.mark.parametrize("name", sorted(set(WINDOWS) - {"REGISTER_BAN_DURATION"}))
def test_none_is_no_window(name):
    assert ids_for(**{name: None}) == ["jwt_auth.E004"]
