"""Bad input: whatever a client sends, the answer is a 4xx with a JSON ``code``.

Every case is sent to every endpoint that takes a body, and afterwards no
account and no session may have been written.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from jwt_auth.models import RefreshToken, Session

from .helpers import PASSWORD, bearer, login

ENDPOINTS = {
    "register": "/auth/register/",
    "login": "/auth/login/",
    "refresh": "/auth/refresh/",
    "logout": "/auth/logout/",
    "password": "/auth/password/",
}


@pytest.fixture
def signed_in(client, user) -> dict[str, Any]:
    """Alice's tokens, with the client sending her access token."""
    issued = login(client).json()
    client.credentials(**bearer(issued["access_token"]))
    return issued


def valid_body(endpoint: str, issued: dict[str, Any]) -> dict[str, Any]:
    return {
        "register": {
            "username": "mallory",
            "email": "mallory@example.com",
            "password": "a long and unusual passphrase",
        },
        "login": {"username": "alice", "password": PASSWORD},
        "refresh": {"refresh_token": issued["refresh_token"]},
        "logout": {"refresh_token": issued["refresh_token"]},
        "password": {
            "old_password": PASSWORD,
            "new_password": "a different long passphrase",
        },
    }[endpoint]


def snapshot() -> tuple:
    """What the database holds of accounts and sessions."""
    users = sorted(get_user_model()._default_manager.values_list("pk", "password"))
    sessions = sorted(
        (str(pk), str(revoked))
        for pk, revoked in Session.objects.values_list("pk", "revoked_at")
    )
    tokens = sorted(RefreshToken.objects.values_list("token_hash", "used_at"))
    return users, sessions, tokens


def send(client, endpoint: str, body: bytes, content_type="application/json"):
    return client.generic("POST", ENDPOINTS[endpoint], body, content_type)


def assert_refused(response, status: int | None = None) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.content[:200]
    if status is not None:
        assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body["code"], str)
    assert body["code"]
    return body


every_endpoint = pytest.mark.parametrize("endpoint", list(ENDPOINTS))


@every_endpoint
@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"username": "alice",', b"{'a': 1}", b"\xff\xfe", b"nul\x00"],
    ids=["open-brace", "truncated", "single-quotes", "not-utf8", "nul"],
)
def test_malformed_json_is_a_parse_error(client, signed_in, endpoint, raw):
    before = snapshot()

    body = assert_refused(send(client, endpoint, raw), 400)

    assert body["code"] == "parse_error"
    assert snapshot() == before


@every_endpoint
def test_json_nested_too_deeply_is_a_parse_error(client, signed_in, endpoint):
    before = snapshot()

    body = assert_refused(send(client, endpoint, b"[" * 100_000), 400)

    assert body["code"] == "parse_error"
    assert snapshot() == before


@every_endpoint
@pytest.mark.parametrize("document", [[], ["a"], "alice", 7, 1.5, None, True], ids=repr)
def test_json_that_is_not_an_object_is_refused(client, signed_in, endpoint, document):
    before = snapshot()

    body = assert_refused(send(client, endpoint, json.dumps(document).encode()), 400)

    assert body["code"] == "invalid"
    assert snapshot() == before


@every_endpoint
@pytest.mark.parametrize("value", [True, ["x"], {"x": "y"}, None], ids=repr)
def test_fields_of_the_wrong_type_are_refused(client, signed_in, endpoint, value):
    fields = {name: value for name in valid_body(endpoint, signed_in)}
    before = snapshot()

    body = assert_refused(send(client, endpoint, json.dumps(fields).encode()), 400)

    assert body["code"] == "invalid"
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("value", [12345, 1.5], ids=repr)
def test_numbers_in_text_fields_are_refused(client, signed_in, endpoint, value):
    fields = {name: value for name in valid_body(endpoint, signed_in)}
    before = snapshot()

    assert_refused(send(client, endpoint, json.dumps(fields).encode()))

    assert snapshot() == before


@every_endpoint
def test_fields_with_lone_surrogates_are_refused(client, signed_in, endpoint):
    # A lone surrogate, which json.dumps escapes as \ud800.
    fields = {name: f"ab{chr(0xD800)}cd" for name in valid_body(endpoint, signed_in)}
    raw = json.dumps(fields).encode()
    before = snapshot()

    body = assert_refused(send(client, endpoint, raw), 400)

    assert body["code"] == "invalid"
    assert snapshot() == before


@every_endpoint
def test_fields_with_nul_bytes_are_refused(client, signed_in, endpoint):
    fields = {
        name: f"{value[:4]}\x00{value[4:]}"
        for name, value in valid_body(endpoint, signed_in).items()
    }
    before = snapshot()

    body = assert_refused(send(client, endpoint, json.dumps(fields).encode()), 400)

    assert body["code"] == "invalid"
    assert snapshot() == before


@every_endpoint
def test_fields_of_ten_thousand_characters_are_refused(client, signed_in, endpoint):
    fields = {name: "a" * 10_000 for name in valid_body(endpoint, signed_in)}
    before = snapshot()

    body = assert_refused(send(client, endpoint, json.dumps(fields).encode()), 400)

    assert body["code"] == "invalid"
    assert snapshot() == before


@every_endpoint
def test_a_two_megabyte_body_is_refused(client, signed_in, endpoint):
    fields = {name: "" for name in valid_body(endpoint, signed_in)}
    first = next(iter(fields))
    fields[first] = "a" * (2 * 1024 * 1024 - len(json.dumps(fields)))
    raw = json.dumps(fields).encode()
    assert len(raw) == 2 * 1024 * 1024
    before = snapshot()

    body = assert_refused(send(client, endpoint, raw), 400)

    assert body["code"] == "invalid"
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ["login", "refresh"])
def test_a_body_over_the_upload_limit_is_refused_as_json(
    client, signed_in, endpoint, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    fields = {name: "a" * 2048 for name in valid_body(endpoint, signed_in)}

    assert_refused(send(client, endpoint, json.dumps(fields).encode()), 413)


@every_endpoint
def test_a_form_encoded_body_is_an_unsupported_media_type(client, signed_in, endpoint):
    before = snapshot()

    response = client.post(ENDPOINTS[endpoint], valid_body(endpoint, signed_in))

    body = assert_refused(response, 415)
    assert body["code"] == "unsupported_media_type"
    assert snapshot() == before


@every_endpoint
def test_an_empty_body_lists_the_missing_fields(client, signed_in, endpoint):
    before = snapshot()

    body = assert_refused(send(client, endpoint, b""), 400)

    assert body["code"] == "invalid"
    assert set(body["errors"]) == set(valid_body(endpoint, signed_in))
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ["refresh", "logout"])
def test_a_hundred_kilobyte_refresh_token_is_refused(client, signed_in, endpoint):
    fields = {"refresh_token": "a" * 100_000}
    before = snapshot()

    body = assert_refused(send(client, endpoint, json.dumps(fields).encode()), 400)

    assert list(body["errors"]) == ["refresh_token"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "refresh_token",
    ["!!!!", "%" * 43, "é" * 43, "+/" * 22, "=" * 43],
    ids=["punctuation", "percent", "non-ascii", "standard-base64", "padding"],
)
def test_a_refresh_token_that_is_not_base64_is_an_invalid_grant(
    client, signed_in, refresh_token
):
    fields = {"refresh_token": refresh_token}
    before = snapshot()

    body = assert_refused(send(client, "refresh", json.dumps(fields).encode()), 401)

    assert body["code"] == "invalid_grant"
    assert snapshot() == before


@pytest.mark.parametrize(
    "header",
    [
        "Bearer " + "a" * 100_000,
        "Bearer " + ".".join(["a" * 40_000] * 3),
        "Bearer !!!.@@@.###",
        "Bearer é.é.é",
        "Bearer ...",
        "Bearer a.b",
    ],
    ids=["100kb", "100kb-three-parts", "punctuation", "non-ascii", "dots", "two"],
)
def test_a_bearer_token_that_is_not_a_jwt_is_refused(client, user, header):
    response = client.get("/auth/me/", HTTP_AUTHORIZATION=header)

    body = assert_refused(response, 401)
    assert body["code"] == "token_invalid"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer a b", "Bearer\ta\tb"], ids=["empty", "two", "tabs"]
)
def test_a_malformed_authorization_header_is_an_invalid_request(client, user, header):
    response = client.get("/auth/me/", HTTP_AUTHORIZATION=header)

    body = assert_refused(response, 400)
    assert body["code"] == "invalid_request"


@pytest.mark.django_db
def test_failed_registration_writes_no_user_and_no_session(client):
    response = client.post(
        ENDPOINTS["register"],
        {"username": "mallory", "email": "mallory@example.com", "password": "short"},
        format="json",
    )

    assert response.status_code == 400
    assert not get_user_model()._default_manager.exists()
    assert not Session.objects.exists()
    assert not RefreshToken.objects.exists()
