"""System checks on the JWT_AUTH settings, and settings that follow overrides."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.checks import run_checks
from django.test import override_settings

from jwt_auth.checks import check_cache_alias, check_cache_is_shared, check_settings
from jwt_auth.conf import jwt_settings
from jwt_auth.keys import get_key_set

from .helpers import jwt_auth, login
from .keys import private_pem, rsa_private_pem

GARBAGE_PEM = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


def ids(messages: list) -> list[str]:
    return [message.id for message in messages]


def test_the_test_settings_pass_every_check():
    assert check_settings() == []
    assert check_cache_alias() == []


def test_an_unknown_setting_is_an_error():
    with jwt_auth(ACCES_TOKEN_LIFETIME=timedelta(minutes=5)):
        messages = check_settings()

    assert ids(messages) == ["jwt_auth.E001"]
    assert "ACCES_TOKEN_LIFETIME" in messages[0].msg


@pytest.mark.parametrize("key", ["k" * 31, b"k" * 31, "", None])
def test_an_hmac_key_under_32_bytes_is_an_error(key):
    with jwt_auth(SIGNING_KEYS=[{"key": key}]):
        assert ids(check_settings()) == ["jwt_auth.E002"]


def test_an_hmac_key_of_32_bytes_passes():
    with jwt_auth(SIGNING_KEYS=[{"key": "k" * 32}]):
        assert check_settings() == []


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_an_asymmetric_algorithm_without_keys_is_an_error(algorithm):
    with jwt_auth(ALGORITHM=algorithm, SIGNING_KEYS=[]):
        assert ids(check_settings()) == ["jwt_auth.E003"]


def test_an_asymmetric_algorithm_with_a_private_key_passes():
    with jwt_auth(ALGORITHM="RS256", SIGNING_KEYS=[{"private_key": rsa_private_pem()}]):
        assert check_settings() == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACCESS_TOKEN_LIFETIME", timedelta(0)),
        ("ACCESS_TOKEN_LIFETIME", timedelta(seconds=-1)),
        ("ACCESS_TOKEN_LIFETIME", 300),
        ("REFRESH_TOKEN_LIFETIME", 14),
        ("SESSION_LIFETIME", "30 days"),
        ("SESSION_CACHE_TIMEOUT", timedelta(0)),
        ("LEEWAY", timedelta(seconds=-5)),
        ("LEEWAY", 10),
    ],
)
def test_a_non_positive_or_unitless_lifetime_is_an_error(name, value):
    with jwt_auth(**{name: value}):
        assert ids(check_settings()) == ["jwt_auth.E004"]


@pytest.mark.parametrize("name", ["LEEWAY", "REFRESH_TOKEN_REUSE_GRACE"])
def test_a_zero_leeway_or_reuse_grace_passes(name):
    with jwt_auth(**{name: timedelta(0)}):
        assert check_settings() == []


@pytest.mark.parametrize("algorithm", ["none", "None", "NONE", "HS1", "RSA-OAEP", ""])
def test_an_algorithm_outside_the_allowlist_is_an_error(algorithm):
    with jwt_auth(ALGORITHM=algorithm):
        assert ids(check_settings()) == ["jwt_auth.E005"]


@pytest.mark.parametrize(
    "entry",
    [
        {"private_key": GARBAGE_PEM},
        {"public_key": "not a key at all"},
        {"kid": "no-pem"},
    ],
    ids=["garbage-private", "garbage-public", "no-pem"],
)
def test_a_key_that_cannot_be_loaded_is_an_error(entry):
    with jwt_auth(ALGORITHM="RS256", SIGNING_KEYS=[entry]):
        assert ids(check_settings()) == ["jwt_auth.E006"]


def test_a_p384_key_under_es256_is_an_error():
    pem = private_pem(ec.generate_private_key(ec.SECP384R1()))

    with jwt_auth(ALGORITHM="ES256", SIGNING_KEYS=[{"private_key": pem}]):
        assert ids(check_settings()) == ["jwt_auth.E006"]


def test_an_rsa_key_under_es256_is_an_error():
    entry = {"private_key": rsa_private_pem()}

    with jwt_auth(ALGORITHM="ES256", SIGNING_KEYS=[entry]):
        assert ids(check_settings()) == ["jwt_auth.E006"]


def test_a_private_key_given_as_public_key_is_an_error():
    entry = {"public_key": rsa_private_pem()}

    with jwt_auth(ALGORITHM="RS256", SIGNING_KEYS=[entry]):
        assert ids(check_settings()) == ["jwt_auth.E006"]


def test_a_cache_alias_missing_from_caches_is_an_error():
    with jwt_auth(CACHE="sessions"):
        messages = check_cache_alias()

    assert ids(messages) == ["jwt_auth.E007"]
    assert "sessions" in messages[0].msg


def per_process_cache():
    caches = {**settings.CACHES, "local": {"BACKEND": LOCMEM}}
    return override_settings(
        CACHES=caches, JWT_AUTH={**settings.JWT_AUTH, "CACHE": "local"}
    )


def test_a_per_process_cache_is_warned_about():
    with per_process_cache():
        assert ids(check_cache_is_shared()) == ["jwt_auth.W001"]


def test_a_shared_cache_is_not_warned_about():
    caches = {
        **settings.CACHES,
        "shared": {"BACKEND": "django.core.cache.backends.db.DatabaseCache"},
    }

    with override_settings(CACHES=caches), jwt_auth(CACHE="shared"):
        assert check_cache_is_shared() == []


def test_the_per_process_cache_warning_is_a_deployment_check():
    with per_process_cache():
        assert "jwt_auth.W001" not in ids(run_checks())
        assert "jwt_auth.W001" in ids(run_checks(include_deployment_checks=True))


# Settings follow override_settings at once.


def test_an_overridden_setting_takes_effect_at_once():
    assert jwt_settings.ISSUER == "https://issuer.test"

    with jwt_auth(ISSUER="https://elsewhere.test"):
        assert jwt_settings.ISSUER == "https://elsewhere.test"

    assert jwt_settings.ISSUER == "https://issuer.test"


def test_an_overridden_lifetime_applies_to_the_next_token(client, user):
    assert jwt_settings.ACCESS_TOKEN_LIFETIME == timedelta(minutes=5)

    with jwt_auth(ACCESS_TOKEN_LIFETIME=timedelta(minutes=1)):
        response = login(client)

    assert response.json()["expires_in"] == 60


def test_an_overridden_algorithm_rebuilds_the_key_set():
    assert get_key_set().algorithm == "HS256"

    with jwt_auth(ALGORITHM="RS256", SIGNING_KEYS=[{"private_key": rsa_private_pem()}]):
        assert get_key_set().algorithm == "RS256"

    assert get_key_set().algorithm == "HS256"
