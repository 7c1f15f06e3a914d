"""The resource-server authentication: keys from the issuer's JWKS, no user table."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from jwt_auth.checks import check_settings
from jwt_auth.keys import KeyConfigurationError, KeySet
from jwt_auth.resource import (
    ResourceServerAuthentication,
    TokenUser,
    get_resource_verifier,
)
from jwt_auth.tokens import make_access_token

from .keys import public_pem_of, rsa_private_pem

ISSUER = "https://issuer.test"
START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


KEY_A = rsa_private_pem()
KEY_B = rsa_private_pem()
FORGER = rsa_private_pem()


def jwks_of(*entries: tuple[str, str]) -> dict[str, Any]:
    """Return the JWKS the issuer publishes for these (kid, private PEM) keys."""
    key_set = KeySet(
        "RS256", [{"kid": kid, "private_key": pem} for kid, pem in entries]
    )
    return key_set.jwks


def mint(pem: str, kid: str | None = "a", *, header: Any = None, **claims: Any) -> str:
    """Return an access token shaped as the issuer makes them, signed with ``pem``."""
    now = int(datetime.now(timezone.utc).timestamp())
    payload = {
        "iss": ISSUER,
        "sub": "42",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "sid": str(uuid.uuid4()),
        **claims,
    }
    headers = {"typ": "at+jwt", **({"kid": kid} if kid else {}), **(header or {})}
    return jwt.encode(payload, pem, algorithm="RS256", headers=headers)


class JWKSServer:
    """The issuer's JWKS served over real HTTP from a thread; counts fetches.

    Inside ``held()``, each fetch is answered only once the test opens the
    gate, so a test can act while a fetch is in flight.
    """

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.fetches = 0
        self.arrived = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                owner.arrived.set()
                owner.gate.wait(timeout=60)
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/auth/jwks/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @contextmanager
    def held(self) -> Iterator[threading.Event]:
        """Hold fetches until the yielded gate is set, or the block ends."""
        self.arrived.clear()
        self.gate.clear()
        try:
            yield self.gate
        finally:
            self.gate.set()

    def stop(self) -> None:
        """Take the issuer down: the port refuses connections from now on."""
        self.gate.set()
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join()
        self.server.server_close()


@pytest.fixture
def jwks() -> Iterator[JWKSServer]:
    server = JWKSServer(jwks_of(("a", KEY_A)))
    yield server
    server.stop()


@pytest.fixture
def resource_settings(settings, jwks) -> dict[str, Any]:
    settings.JWT_AUTH = {
        "ISSUER": ISSUER,
        "ALGORITHM": "RS256",
        "JWKS_URL": jwks.url,
        "JWKS_TIMEOUT": timedelta(seconds=2),
        "JWKS_CACHE_LIFETIME": timedelta(minutes=5),
        "JWKS_REFETCH_INTERVAL": timedelta(seconds=30),
    }
    return settings.JWT_AUTH


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


class HelloView(APIView):
    authentication_classes = [ResourceServerAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Any) -> Response:
        return Response({"sub": request.user.pk, "type": type(request.user).__name__})


def call(token: str | None) -> Response:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    request = APIRequestFactory().get("/api/hello/", **headers)
    response = HelloView.as_view()(request)
    response.render()
    return response


def test_a_token_signed_with_a_published_key_authenticates_its_subject(
    resource_settings, clock
):
    response = call(mint(KEY_A, sub="42"))

    assert response.status_code == 200
    assert response.data == {"sub": "42", "type": "TokenUser"}


def test_a_token_made_by_the_issuer_is_accepted(settings, resource_settings, clock):
    settings.JWT_AUTH = {
        **resource_settings,
        "SIGNING_KEYS": [{"kid": "a", "private_key": KEY_A}],
    }
    token, _ = make_access_token(
        user_id=7, session_id=uuid.uuid4(), session_expires_at=START + timedelta(1)
    )

    assert call(token).data["sub"] == "7"


def test_the_token_user_is_authenticated_and_holds_no_permissions(
    resource_settings, clock
):
    token = get_resource_verifier().verify(mint(KEY_A, sub="42"))
    user = TokenUser(token)

    assert (user.pk, user.id, user.get_username()) == ("42", "42", "42")
    assert user.is_authenticated
    assert not user.is_anonymous
    assert not user.is_staff
    assert not user.has_perm("app.change_thing")
    assert user.claims["iss"] == ISSUER


def test_the_jwks_is_fetched_once_for_many_requests(resource_settings, jwks, clock):
    for _ in range(5):
        assert call(mint(KEY_A)).status_code == 200

    assert jwks.fetches == 1


def test_a_key_added_on_the_issuer_is_fetched_when_its_kid_first_appears(
    resource_settings, jwks, clock
):
    assert call(mint(KEY_A)).status_code == 200
    jwks.document = jwks_of(("b", KEY_B), ("a", KEY_A))

    response = call(mint(KEY_B, kid="b"))

    assert response.status_code == 200
    assert jwks.fetches == 2


def test_unknown_kids_fetch_the_jwks_at_most_once_per_interval(
    resource_settings, jwks, clock
):
    assert call(mint(KEY_A)).status_code == 200

    codes = [call(mint(FORGER, kid=f"bogus-{n}")).status_code for n in range(20)]

    assert codes == [401] * 20
    assert jwks.fetches == 2


def test_an_unknown_kid_fetches_again_once_the_interval_has_passed(
    resource_settings, jwks, clock
):
    call(mint(KEY_A))
    call(mint(FORGER, kid="bogus"))
    clock.shift(timedelta(seconds=29))
    call(mint(FORGER, kid="bogus"))
    assert jwks.fetches == 2

    clock.shift(timedelta(seconds=1))
    call(mint(FORGER, kid="bogus"))

    assert jwks.fetches == 3


def test_the_first_fetch_does_not_delay_a_rotated_kid(resource_settings, jwks, clock):
    call(mint(FORGER, kid="bogus"))
    jwks.document = jwks_of(("b", KEY_B))

    assert call(mint(KEY_B, kid="b")).status_code == 200


def test_concurrent_unknown_kids_fetch_the_jwks_once(resource_settings, jwks, clock):
    assert call(mint(KEY_A)).status_code == 200
    tokens = [mint(FORGER, kid=f"bogus-{n}") for n in range(8)]
    barrier = threading.Barrier(len(tokens))
    codes: list[int] = []

    def attack(token: str) -> None:
        barrier.wait()
        codes.append(call(token).status_code)

    threads = [threading.Thread(target=attack, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert codes == [401] * len(tokens)
    assert jwks.fetches == 2


@pytest.fixture
def slow_issuer_settings(settings, resource_settings) -> dict[str, Any]:
    """Settings whose fetch timeout outlasts every wait in the test."""
    settings.JWT_AUTH = {**resource_settings, "JWKS_TIMEOUT": timedelta(seconds=60)}
    return settings.JWT_AUTH


def test_a_known_kid_is_answered_while_a_fetch_for_an_unknown_kid_is_in_flight(
    slow_issuer_settings, jwks, clock
):
    assert call(mint(KEY_A)).status_code == 200

    with ThreadPoolExecutor(max_workers=2) as pool, jwks.held() as gate:
        unknown = pool.submit(call, mint(FORGER, kid="bogus"))
        assert jwks.arrived.wait(timeout=10)

        known = pool.submit(call, mint(KEY_A))

        assert known.result(timeout=10).status_code == 200
        assert not unknown.done()
        gate.set()
        assert unknown.result(timeout=10).status_code == 401


def test_a_known_kid_is_answered_with_the_held_keys_while_they_are_refreshed(
    slow_issuer_settings, jwks, clock
):
    assert call(mint(KEY_A)).status_code == 200
    clock.shift(timedelta(minutes=5))

    with ThreadPoolExecutor(max_workers=2) as pool, jwks.held() as gate:
        refreshing = pool.submit(call, mint(KEY_A))
        assert jwks.arrived.wait(timeout=10)

        other = pool.submit(call, mint(KEY_A))

        assert other.result(timeout=10).status_code == 200
        assert not refreshing.done()
        gate.set()
        assert refreshing.result(timeout=10).status_code == 200
    assert jwks.fetches == 2


def test_the_jwks_is_fetched_again_after_the_cache_lifetime(
    resource_settings, jwks, clock
):
    call(mint(KEY_A))
    clock.shift(timedelta(minutes=5))

    assert call(mint(KEY_A)).status_code == 200
    assert jwks.fetches == 2


def test_a_key_dropped_from_the_jwks_stops_verifying_after_the_cache_lifetime(
    resource_settings, jwks, clock
):
    call(mint(KEY_A))
    jwks.document = jwks_of(("b", KEY_B))
    clock.shift(timedelta(minutes=5))

    assert call(mint(KEY_A)).status_code == 401


def test_cached_keys_keep_verifying_while_the_issuer_is_down(
    resource_settings, jwks, clock
):
    call(mint(KEY_A))
    jwks.stop()
    clock.shift(timedelta(minutes=10))

    assert call(mint(KEY_A)).status_code == 200


def test_an_unknown_kid_while_the_issuer_is_down_is_refused_as_invalid(
    resource_settings, jwks, clock
):
    call(mint(KEY_A))
    jwks.stop()

    response = call(mint(FORGER, kid="new"))

    assert response.status_code == 401
    assert response.data["code"] == "token_invalid"


def test_no_keys_at_all_answers_503_keys_unavailable(resource_settings, jwks, clock):
    jwks.stop()

    response = call(mint(KEY_A))

    assert response.status_code == 503
    assert response.data["code"] == "keys_unavailable"
    assert response["Retry-After"] == "30"


def test_a_failed_fetch_is_not_tried_again_within_the_interval(
    resource_settings, jwks, clock
):
    jwks.document = {"keys": []}
    assert call(mint(KEY_A)).status_code == 503
    jwks.document = jwks_of(("a", KEY_A))

    assert call(mint(KEY_A)).status_code == 503
    assert jwks.fetches == 1


def test_the_issuer_coming_back_ends_the_503_after_the_interval(
    resource_settings, jwks, clock
):
    jwks.document = {"keys": []}
    call(mint(KEY_A))
    jwks.document = jwks_of(("a", KEY_A))
    clock.shift(timedelta(seconds=30))

    assert call(mint(KEY_A)).status_code == 200


def test_a_jwk_published_for_another_algorithm_is_not_used(
    resource_settings, jwks, clock
):
    document = jwks_of(("a", KEY_A))
    document["keys"][0]["alg"] = "RS384"
    jwks.document = document

    assert call(mint(KEY_A)).status_code == 503


def test_a_jwk_holding_private_members_is_not_used(resource_settings, jwks, clock):
    key = serialization.load_pem_private_key(KEY_A.encode(), password=None)
    private = jwt.algorithms.RSAAlgorithm.to_jwk(key, as_dict=True)
    jwks.document = {"keys": [{**private, "kid": "a", "alg": "RS256"}]}

    assert call(mint(KEY_A)).status_code == 503


def test_a_token_for_another_algorithm_is_refused_without_a_fetch(
    resource_settings, jwks, clock
):
    token = jwt.encode(
        {"iss": ISSUER, "sub": "42"},
        "a-shared-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
        headers={"typ": "at+jwt", "kid": "a"},
    )

    assert call(token).status_code == 401
    assert jwks.fetches == 0


def test_a_token_without_a_kid_is_refused(resource_settings, clock):
    assert call(mint(KEY_A, kid=None)).status_code == 401


def test_a_forged_signature_under_a_known_kid_is_refused(resource_settings, clock):
    response = call(mint(FORGER, kid="a"))

    assert response.status_code == 401
    assert response.data["code"] == "token_invalid"


def test_a_refusal_carries_the_bearer_challenge(resource_settings, clock):
    response = call(mint(FORGER, kid="a"))

    assert response["WWW-Authenticate"].startswith('Bearer realm="api"')
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_token_from_another_issuer_is_refused(resource_settings, clock):
    assert call(mint(KEY_A, iss="https://elsewhere.test")).status_code == 401


def test_a_token_for_another_audience_is_refused(settings, resource_settings, clock):
    settings.JWT_AUTH = {**resource_settings, "AUDIENCE": "https://api.test"}

    assert call(mint(KEY_A, aud="https://other.test")).status_code == 401


def test_a_token_of_another_type_is_refused(resource_settings, clock):
    assert call(mint(KEY_A, header={"typ": "JWT"})).status_code == 401


def test_an_expired_token_is_refused_as_expired(resource_settings, clock):
    token = mint(KEY_A)
    clock.shift(timedelta(seconds=301))

    response = call(token)

    assert response.status_code == 401
    assert response.data["code"] == "token_expired"


def test_a_request_without_a_token_is_asked_for_one(resource_settings, jwks, clock):
    response = call(None)

    assert response.status_code == 401
    assert response.data["code"] == "not_authenticated"
    assert jwks.fetches == 0


def test_configured_public_keys_verify_without_a_jwks(settings, clock):
    settings.JWT_AUTH = {
        "ISSUER": ISSUER,
        "ALGORITHM": "RS256",
        "SIGNING_KEYS": [
            {"kid": "b", "public_key": public_pem_of(KEY_B)},
            {"kid": "a", "public_key": public_pem_of(KEY_A)},
        ],
    }

    assert call(mint(KEY_A, kid="a")).status_code == 200
    assert call(mint(KEY_B, kid="b")).status_code == 200
    assert call(mint(FORGER, kid="a")).status_code == 401


def test_the_issuer_still_needs_a_first_key_that_signs():
    with pytest.raises(KeyConfigurationError):
        KeySet("RS256", [{"kid": "a", "public_key": public_pem_of(KEY_A)}])


def test_a_jwks_url_needs_an_asymmetric_algorithm(settings):
    settings.JWT_AUTH = {"ALGORITHM": "HS256", "JWKS_URL": "http://127.0.0.1:1/"}

    with pytest.raises(ImproperlyConfigured):
        get_resource_verifier()


def test_a_jwks_url_must_be_http(settings):
    settings.JWT_AUTH = {"ALGORITHM": "RS256", "JWKS_URL": "file:///etc/passwd"}

    with pytest.raises(ImproperlyConfigured):
        get_resource_verifier()


def test_the_resource_server_imports_no_models_of_this_app():
    script = (
        "import sys, django; django.setup(); "
        "import example_resource.urls, jwt_auth.resource; "
        "loaded = [m for m in sys.modules if m.startswith('jwt_auth.models')]; "
        "print(loaded)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(PROJECT_ROOT),
            "DJANGO_SETTINGS_MODULE": "example_resource.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def check_ids(settings, **jwt_auth: Any) -> list[str]:
    settings.JWT_AUTH = jwt_auth
    return [error.id for error in check_settings()]


def test_the_checks_refuse_a_jwks_url_that_is_not_http(settings):
    assert "jwt_auth.E009" in check_ids(settings, JWKS_URL="ftp://issuer.test/")


def test_the_checks_refuse_an_introspection_client_without_a_secret(settings):
    assert "jwt_auth.E009" in check_ids(settings, INTROSPECTION_CLIENTS={"a": ""})


def test_the_checks_accept_the_resource_server_settings(settings):
    ids = check_ids(
        settings,
        JWKS_URL="https://issuer.test/auth/jwks/",
        JWKS_REFETCH_INTERVAL=timedelta(seconds=10),
        INTROSPECTION_CLIENTS={"billing": "secret"},
    )

    assert ids == []
