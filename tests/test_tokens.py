"""Access tokens: their RFC 9068 shape, and every way a forged one is refused."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest

from jwt_auth.keys import get_key_set
from jwt_auth.models import Session

from .helpers import (
    assert_refused,
    bearer,
    claims_of,
    header_of,
    jwt_auth,
    login,
    segment,
)

HELLO = "/api/hello/"


def sign(claims: dict[str, Any], **header: Any) -> str:
    """Sign ``claims`` with the server's own key; ``header`` adds or removes."""
    key = get_key_set().signing_key
    headers = {"typ": "at+jwt", "kid": key.kid, **header}
    payload = json.dumps(claims).encode()
    return jwt.api_jws.encode(payload, key.signing, key.algorithm, headers=headers)


# The shape of an access token (RFC 9068).


def test_access_token_header_names_its_type_and_key(tokens):
    header = header_of(tokens["access_token"])

    assert header["typ"] == "at+jwt"
    assert header["kid"] == get_key_set().signing_key.kid


def test_access_token_issuer_is_the_configured_issuer(tokens):
    assert claims_of(tokens["access_token"])["iss"] == "https://issuer.test"


def test_access_token_subject_is_the_user_pk_as_a_string(tokens, user):
    assert claims_of(tokens["access_token"])["sub"] == str(user.pk)


def test_access_token_has_no_audience_when_none_is_configured(tokens):
    assert "aud" not in claims_of(tokens["access_token"])


def test_access_token_carries_the_configured_audience(client, user):
    with jwt_auth(AUDIENCE="https://api.test"):
        access = login(client).json()["access_token"]

    assert claims_of(access)["aud"] == "https://api.test"


def test_access_token_names_its_session(tokens, user):
    session = Session.objects.get(user=user)

    assert claims_of(tokens["access_token"])["sid"] == str(session.pk)


def test_each_access_token_has_its_own_jti(client, user):
    first = claims_of(login(client).json()["access_token"])
    second = claims_of(login(client).json()["access_token"])

    assert first["jti"]
    assert first["jti"] != second["jti"]


def test_access_token_is_issued_at_the_current_second(client, user, time_machine):
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    time_machine.move_to(now, tick=False)

    claims = claims_of(login(client).json()["access_token"])

    assert claims["iat"] == int(now.timestamp())


def test_access_token_expires_one_access_lifetime_after_issue(client, user):
    with jwt_auth(ACCESS_TOKEN_LIFETIME=timedelta(minutes=7)):
        body = login(client).json()
    claims = claims_of(body["access_token"])

    assert claims["exp"] == claims["iat"] + 7 * 60
    assert body["expires_in"] == 7 * 60


def test_access_token_never_outlives_its_session(client, user):
    with jwt_auth(
        ACCESS_TOKEN_LIFETIME=timedelta(minutes=5),
        SESSION_LIFETIME=timedelta(minutes=2),
    ):
        body = login(client).json()
    claims = claims_of(body["access_token"])
    session = Session.objects.get(user=user)

    assert claims["exp"] == int(session.expires_at.timestamp())
    assert claims["exp"] - claims["iat"] == 2 * 60
    assert body["expires_in"] == 2 * 60


def test_access_token_is_accepted_on_a_protected_view(client, tokens):
    response = client.get(HELLO, **bearer(tokens["access_token"]))

    assert response.status_code == 200
    assert response.json() == {"message": "Hello, alice!"}


def test_a_token_re_signed_with_the_server_key_is_accepted(client, tokens):
    # The forgeries below differ from this one in one thing only.
    token = sign(claims_of(tokens["access_token"]))

    assert client.get(HELLO, **bearer(token)).status_code == 200


# Forged, altered and malformed tokens.


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused_in_every_casing(client, tokens, alg):
    kid = header_of(tokens["access_token"])["kid"]
    header = {"alg": alg, "typ": "at+jwt", "kid": kid}
    token = f"{segment(header)}.{segment(claims_of(tokens['access_token']))}."

    assert_refused(client.get(HELLO, **bearer(token)))


def test_a_tampered_payload_is_refused(client, tokens, django_user_model):
    other = django_user_model._default_manager.create_user(
        username="mallory", email="mallory@example.com", password="x" * 20
    )
    header, _, signature = tokens["access_token"].split(".")
    claims = {**claims_of(tokens["access_token"]), "sub": str(other.pk)}
    token = f"{header}.{segment(claims)}.{signature}"

    assert_refused(client.get(HELLO, **bearer(token)))


def test_an_extended_expiry_is_refused(client, tokens):
    header, _, signature = tokens["access_token"].split(".")
    claims = claims_of(tokens["access_token"])
    claims["exp"] += 3600
    token = f"{header}.{segment(claims)}.{signature}"

    assert_refused(client.get(HELLO, **bearer(token)))


def test_an_empty_signature_is_refused(client, tokens):
    header, payload, _ = tokens["access_token"].split(".")

    assert_refused(client.get(HELLO, **bearer(f"{header}.{payload}.")))


def test_a_truncated_signature_is_refused(client, tokens):
    token = tokens["access_token"][:-4]

    assert_refused(client.get(HELLO, **bearer(token)))


def test_an_expired_token_is_refused_as_expired(client, tokens, time_machine):
    exp = claims_of(tokens["access_token"])["exp"]
    time_machine.move_to(datetime.fromtimestamp(exp + 1, tz=timezone.utc), tick=False)

    assert_refused(client.get(HELLO, **bearer(tokens["access_token"])), "token_expired")


def test_a_token_expired_beyond_the_leeway_is_refused(client, tokens, time_machine):
    exp = claims_of(tokens["access_token"])["exp"]
    time_machine.move_to(datetime.fromtimestamp(exp + 31, tz=timezone.utc), tick=False)

    with jwt_auth(LEEWAY=timedelta(seconds=30)):
        response = client.get(HELLO, **bearer(tokens["access_token"]))

    assert_refused(response, "token_expired")


def test_a_token_expired_within_the_leeway_is_accepted(client, tokens, time_machine):
    exp = claims_of(tokens["access_token"])["exp"]
    time_machine.move_to(datetime.fromtimestamp(exp + 29, tz=timezone.utc), tick=False)

    with jwt_auth(LEEWAY=timedelta(seconds=30)):
        response = client.get(HELLO, **bearer(tokens["access_token"]))

    assert response.status_code == 200


def test_a_token_not_yet_valid_is_refused(client, tokens):
    claims = claims_of(tokens["access_token"])
    token = sign({**claims, "nbf": claims["iat"] + 600})

    assert_refused(client.get(HELLO, **bearer(token)))


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "jti", "iss", "sid"])
def test_a_token_missing_a_required_claim_is_refused(client, tokens, claim):
    claims = claims_of(tokens["access_token"])
    del claims[claim]

    assert_refused(client.get(HELLO, **bearer(sign(claims))))


@pytest.mark.parametrize("claim", ["sub", "jti", "sid"])
def test_a_token_with_a_non_string_identifier_is_refused(client, tokens, claim):
    claims = {**claims_of(tokens["access_token"]), claim: 1}

    assert_refused(client.get(HELLO, **bearer(sign(claims))))


def test_a_token_from_another_issuer_is_refused(client, tokens):
    claims = {**claims_of(tokens["access_token"]), "iss": "https://evil.test"}

    assert_refused(client.get(HELLO, **bearer(sign(claims))))


@pytest.mark.parametrize(
    "iss",
    [
        "https://issuer",
        "issuer.test",
        "https://issuer.test.evil.example",
        "https://issuer.test/",
        ["https://issuer.test"],
    ],
)
def test_an_issuer_that_only_contains_or_extends_ours_is_refused(client, tokens, iss):
    claims = {**claims_of(tokens["access_token"]), "iss": iss}

    assert_refused(client.get(HELLO, **bearer(sign(claims))))


def test_a_token_for_another_audience_is_refused(client, user):
    with jwt_auth(AUDIENCE="https://api.test"):
        claims = claims_of(login(client).json()["access_token"])
        token = sign({**claims, "aud": "https://other.test"})
        response = client.get(HELLO, **bearer(token))

    assert_refused(response)


def test_a_token_without_an_audience_is_refused_when_one_is_configured(client, user):
    with jwt_auth(AUDIENCE="https://api.test"):
        claims = claims_of(login(client).json()["access_token"])
        del claims["aud"]
        response = client.get(HELLO, **bearer(sign(claims)))

    assert_refused(response)


def test_a_token_for_the_configured_audience_is_accepted(client, user):
    with jwt_auth(AUDIENCE="https://api.test"):
        access = login(client).json()["access_token"]
        response = client.get(HELLO, **bearer(access))

    assert response.status_code == 200


@pytest.mark.parametrize("typ", ["JWT", "jwt", "rt+jwt", None])
def test_a_token_of_another_or_no_type_is_refused(client, tokens, typ):
    token = sign(claims_of(tokens["access_token"]), typ=typ)

    assert header_of(token).get("typ") == typ
    assert_refused(client.get(HELLO, **bearer(token)))


def test_the_full_media_type_is_accepted_as_the_token_type(client, tokens):
    token = sign(claims_of(tokens["access_token"]), typ="application/at+jwt")

    assert client.get(HELLO, **bearer(token)).status_code == 200


def test_a_refresh_token_is_refused_as_an_access_token(client, tokens):
    assert_refused(client.get(HELLO, **bearer(tokens["refresh_token"])))


def test_an_oversized_token_is_refused_even_when_correctly_signed(client, tokens):
    claims = {**claims_of(tokens["access_token"]), "pad": "x" * 100_000}
    token = sign(claims)

    assert len(token) > 100_000
    assert_refused(client.get(HELLO, **bearer(token)))


@pytest.mark.parametrize(
    "raw",
    [
        "garbage",
        "a.b.c",
        "...",
        "!!!.@@@.###",
        "eyJhbGciOiJIUzI1NiJ9.e30",
        "eyJhbGciOiJIUzI1NiJ9.%%%.e30",
        segment([1, 2]) + "." + segment({}) + ".",
        "ünïcödé.tökén.sïg",
    ],
)
def test_garbage_is_refused_as_an_invalid_token(client, tokens, raw):
    assert_refused(client.get(HELLO, **bearer(raw)))


def test_a_token_whose_subject_does_not_own_its_session_is_refused(
    client, tokens, django_user_model
):
    other = django_user_model._default_manager.create_user(
        username="mallory", email="mallory@example.com", password="x" * 20
    )
    claims = {**claims_of(tokens["access_token"]), "sub": str(other.pk)}

    assert_refused(client.get(HELLO, **bearer(sign(claims))))


def test_a_token_whose_session_was_deleted_is_refused(client, tokens, user):
    Session.objects.filter(user=user).delete()

    response = client.get(HELLO, **bearer(tokens["access_token"]))

    assert_refused(response, "token_revoked")


def test_a_token_naming_an_unknown_session_is_refused(client, tokens):
    claims = {**claims_of(tokens["access_token"]), "sid": str(uuid.uuid4())}

    assert_refused(client.get(HELLO, **bearer(sign(claims))), "token_revoked")


def test_a_token_naming_a_malformed_session_id_is_refused(client, tokens):
    claims = {**claims_of(tokens["access_token"]), "sid": "'; DROP TABLE x; --"}

    assert_refused(client.get(HELLO, **bearer(sign(claims))))
