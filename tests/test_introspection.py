"""Token introspection: ``POST /auth/introspect/`` as RFC 7662 describes it."""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from django.contrib.auth import get_user_model

from .helpers import PASSWORD, bearer, jwt_auth, login

INTROSPECT = "/auth/introspect/"
CLIENT_ID = "billing"
SECRET = "Zq8vR2kL0pN5tX7yB3mC9dF4gH6jW1sA"


def basic(client_id: str = CLIENT_ID, secret: str = SECRET) -> dict[str, str]:
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {credentials}"}


@pytest.fixture(autouse=True)
def _introspection_client(settings) -> None:
    settings.JWT_AUTH = {
        **settings.JWT_AUTH,
        "INTROSPECTION_CLIENTS": {CLIENT_ID: SECRET},
    }


def form_post(client, body: str, credentials: dict[str, str] | None = None):
    """Post a form-encoded body, as RFC 7662 says; by default as the client."""
    return client.generic(
        "POST",
        INTROSPECT,
        body,
        content_type="application/x-www-form-urlencoded",
        **(basic() if credentials is None else credentials),
    )


def introspect(client, token: Any, credentials: dict[str, str] | None = None):
    body = "" if token is None else urlencode({"token": token})
    return form_post(client, body, credentials)


@pytest.fixture
def staff(db) -> Any:
    return get_user_model()._default_manager.create_user(
        username="carol", email="carol@example.com", password=PASSWORD, is_staff=True
    )


def test_an_active_access_token_is_described_with_its_claims(client, tokens, user):
    access = tokens["access_token"]

    response = form_post(client, f"token={access}")

    assert response.status_code == 200
    claims = jwt.decode(access, options={"verify_signature": False})
    assert response.json() == {
        "active": True,
        **claims,
        "token_type": "Bearer",
        "username": "alice",
    }


def test_a_json_body_is_accepted(client, tokens):
    response = client.post(
        INTROSPECT, {"token": tokens["access_token"]}, format="json", **basic()
    )

    assert response.json()["active"] is True


def test_a_token_type_hint_does_not_change_the_answer(client, tokens):
    body = f"token={tokens['access_token']}&token_type_hint=refresh_token"

    assert form_post(client, body).json()["active"] is True


def test_an_expired_access_token_is_inactive(client, tokens, time_machine):
    exp = jwt.decode(tokens["access_token"], options={"verify_signature": False})["exp"]
    time_machine.move_to(datetime.fromtimestamp(exp + 1, tz=timezone.utc), tick=False)

    response = introspect(client, tokens["access_token"])

    assert response.status_code == 200
    assert response.json() == {"active": False}


@pytest.mark.django_db(transaction=True)
def test_an_access_token_of_a_revoked_session_is_inactive(client, tokens):
    assert introspect(client, tokens["access_token"]).json()["active"] is True
    client.post(
        "/auth/logout/", {"refresh_token": tokens["refresh_token"]}, format="json"
    )

    assert introspect(client, tokens["access_token"]).json() == {"active": False}


def test_a_refresh_token_is_inactive(client, tokens):
    assert introspect(client, tokens["refresh_token"]).json() == {"active": False}


def test_garbage_is_inactive(client, db):
    assert introspect(client, "not.a.token").json() == {"active": False}


def test_a_missing_token_is_inactive(client, db):
    response = introspect(client, None)

    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_a_token_that_is_not_text_is_inactive(client, db):
    response = client.post(INTROSPECT, {"token": 42}, format="json", **basic())

    assert response.json() == {"active": False}


def test_a_token_signed_with_another_key_is_inactive(client, tokens):
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(tokens["access_token"])
    forged = jwt.encode(
        claims,
        "a-secret-the-issuer-has-never-held-0123456789",
        algorithm="HS256",
        headers=header,
    )

    assert introspect(client, forged).json() == {"active": False}


def test_a_caller_without_credentials_is_challenged_for_basic(client, tokens):
    response = form_post(client, f"token={tokens['access_token']}", {})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="api"'
    assert response.json()["code"] == "not_authenticated"


def test_a_wrong_client_secret_is_refused(client, tokens):
    response = introspect(client, tokens["access_token"], basic(secret="wrong"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="api"'
    assert response.json()["code"] == "invalid_client"


def test_an_unknown_client_is_refused(client, tokens):
    response = introspect(client, tokens["access_token"], basic("stranger"))

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"


@pytest.mark.parametrize("credentials", ["", "%%%", "bm8tY29sb24=", "//79"])
def test_malformed_basic_credentials_are_refused(client, db, credentials):
    response = introspect(
        client, "anything", {"HTTP_AUTHORIZATION": f"Basic {credentials}"}
    )

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"


def test_a_failed_client_authentication_is_logged_without_the_secret(
    client, db, caplog
):
    with caplog.at_level(logging.WARNING, logger="jwt_auth"):
        introspect(client, "anything", basic(secret="guessed-secret"))

    [record] = [r for r in caplog.records if r.name == "jwt_auth.introspection"]
    assert record.client_id == CLIENT_ID
    assert "guessed-secret" not in record.getMessage()
    assert "guessed-secret" not in str(record.__dict__)


def test_a_staff_user_may_introspect_with_a_bearer_token(client, tokens, staff):
    staff_access = login(client, "carol").json()["access_token"]

    response = form_post(
        client, f"token={tokens['access_token']}", bearer(staff_access)
    )

    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_a_user_who_is_not_staff_may_not_introspect(client, tokens):
    response = form_post(
        client, f"token={tokens['access_token']}", bearer(tokens["access_token"])
    )

    assert response.status_code == 403
    assert response.json()["code"] == "introspection_forbidden"


def test_an_invalid_bearer_token_is_challenged_for_bearer(client, db):
    response = form_post(client, "token=x", bearer("not.a.token"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="api", ')
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.django_db(transaction=True)
def test_a_revoked_bearer_token_is_challenged_for_bearer(client, tokens, staff):
    staff_tokens = login(client, "carol").json()
    client.post(
        "/auth/logout/", {"refresh_token": staff_tokens["refresh_token"]}, format="json"
    )

    response = form_post(
        client, f"token={tokens['access_token']}", bearer(staff_tokens["access_token"])
    )

    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_failed_client_authentications_are_throttled_per_address(client, db):
    with jwt_auth(THROTTLE_RATES={"login": "2/m"}):
        answers = [introspect(client, "x", basic(secret="wrong")) for _ in range(3)]

    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[-1].json()["code"] == "throttled"


def test_malformed_client_credentials_count_as_failures(client, db):
    malformed = {"HTTP_AUTHORIZATION": "Basic %%%"}

    with jwt_auth(THROTTLE_RATES={"login": "2/m"}):
        answers = [introspect(client, "x", malformed) for _ in range(3)]

    assert [a.status_code for a in answers] == [401, 401, 429]


def test_a_throttled_address_is_refused_even_with_the_right_secret(client, tokens):
    with jwt_auth(THROTTLE_RATES={"login": "2/m"}):
        for _ in range(3):
            introspect(client, "x", basic(secret="wrong"))

        response = introspect(client, tokens["access_token"])

    assert response.status_code == 429
    assert "active" not in response.json()


def test_a_throttled_address_may_introspect_again_once_the_window_has_passed(
    client, db, time_machine
):
    time_machine.move_to(datetime(2030, 6, 1, 12, 0, tzinfo=timezone.utc), tick=False)
    with jwt_auth(THROTTLE_RATES={"login": "2/m"}):
        for _ in range(3):
            introspect(client, "x", basic(secret="wrong"))
        time_machine.shift(60)

        response = introspect(client, "x")

    assert response.status_code == 200


def test_successful_client_authentications_are_not_throttled(client, tokens):
    with jwt_auth(THROTTLE_RATES={"login": "2/m"}):
        answers = [introspect(client, tokens["access_token"]) for _ in range(5)]

    assert [a.status_code for a in answers] == [200] * 5


def test_failed_client_authentications_are_not_throttled_without_protection(client, db):
    with jwt_auth(PROTECTION=False, THROTTLE_RATES={"login": "2/m"}):
        answers = [introspect(client, "x", basic(secret="wrong")) for _ in range(4)]

    assert [a.status_code for a in answers] == [401] * 4


@pytest.mark.parametrize("authenticated", [True, False])
def test_answers_are_never_stored(client, tokens, authenticated):
    credentials = basic() if authenticated else basic(secret="wrong")

    response = introspect(client, tokens["access_token"], credentials)

    assert response["Cache-Control"] == "no-store"


def test_introspection_takes_posts_only(client, db):
    response = client.get(INTROSPECT, {"token": "x"}, **basic())

    assert response.status_code == 405
