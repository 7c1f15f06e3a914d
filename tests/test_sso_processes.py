"""Single sign-on across processes: the example issuer and resource server.

The issuer signs with RS256 keys made here; the resource server reads them
from the issuer's JWKS over HTTP and holds no user table.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from .keys import public_pem_of, rsa_private_pem
from .servers import Server, base_environment, call, migrate

ISSUER = "http://127.0.0.1:8000"
PASSWORD = "correct horse battery staple"


KEY_1 = rsa_private_pem()
KEY_2 = rsa_private_pem()
FORGER = rsa_private_pem()


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each issuer so each starts empty."""
    path = tmp_path_factory.mktemp("sso") / "template.sqlite3"
    migrate({**base_environment("example_project.settings"), "SQLITE_PATH": str(path)})
    return path


class Issuer:
    """The example project, signing with keys given as a keys file."""

    def __init__(self, directory: Path, database: Path) -> None:
        self.directory = directory
        self.database = directory / "issuer.sqlite3"
        shutil.copy(database, self.database)
        self.server = Server("issuer", "/auth/jwks/", directory)
        self.url = self.server.url
        self.jwks_url = f"{self.url}/auth/jwks/"

    def start(self, keys: list[dict[str, str]]) -> None:
        keys_file = self.directory / f"keys-{uuid.uuid4().hex}.json"
        keys_file.write_text(json.dumps(keys))
        self.server.start(
            {
                **base_environment("example_project.settings"),
                "SQLITE_PATH": str(self.database),
                "JWT_AUTH_ALGORITHM": "RS256",
                "JWT_AUTH_SIGNING_KEYS_FILE": str(keys_file),
            }
        )

    def stop(self) -> None:
        self.server.stop()

    def register(self, username: str = "alice") -> dict[str, Any]:
        status, body = call(
            f"{self.url}/auth/register/",
            "POST",
            {
                "username": username,
                "email": f"{username}@example.com",
                "password": PASSWORD,
            },
        )
        assert status == 201, (body, self.server.log())
        return body

    def login(self, username: str = "alice") -> dict[str, Any]:
        status, body = call(
            f"{self.url}/auth/login/",
            "POST",
            {"username": username, "password": PASSWORD},
        )
        assert status == 200, (body, self.server.log())
        return body


class ResourceServer:
    """The example resource server, reading the issuer's JWKS."""

    def __init__(self, directory: Path, jwks_url: str, name: str = "resource"):
        self.server = Server(name, "/api/hello/", directory)
        self.jwks_url = jwks_url

    def start(self) -> None:
        self.server.start(
            {
                **base_environment("example_resource.settings"),
                "JWT_AUTH_JWKS_URL": self.jwks_url,
                "JWT_AUTH_ISSUER": ISSUER,
                "JWT_AUTH_ALGORITHM": "RS256",
                # Each unknown kid may fetch again at once, so a rotation is
                # seen however fast the issuer restarts. The limit itself is
                # specified in test_resource_server.
                "JWT_AUTH_JWKS_REFETCH_INTERVAL": "0.001",
            }
        )

    def stop(self) -> None:
        self.server.stop()

    def hello(self, token: str) -> tuple[int, Any]:
        return call(f"{self.server.url}/api/hello/", token=token)


@pytest.fixture
def issuer(tmp_path, migrated_database) -> Iterator[Issuer]:
    issuer = Issuer(tmp_path, migrated_database)
    issuer.start([{"kid": "key-1", "private_key": KEY_1}])
    yield issuer
    issuer.stop()


@pytest.fixture
def resource(tmp_path, issuer) -> Iterator[ResourceServer]:
    resource = ResourceServer(tmp_path, issuer.jwks_url)
    resource.start()
    yield resource
    resource.stop()


def forge(token: str, pem: str, kid: str) -> str:
    """Return ``token``'s claims signed with ``pem`` under ``kid``."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(
        claims, pem, algorithm="RS256", headers={"typ": "at+jwt", "kid": kid}
    )


def test_a_token_from_the_issuer_is_accepted_by_the_resource_server(issuer, resource):
    tokens = issuer.register()

    status, body = resource.hello(tokens["access_token"])

    assert status == 200, body
    assert body["sub"] == str(tokens["user"]["id"])


def test_a_forged_token_is_refused_by_the_resource_server(issuer, resource):
    tokens = issuer.register()

    status, body = resource.hello(forge(tokens["access_token"], FORGER, "key-1"))

    assert status == 401
    assert body["code"] == "token_invalid"


def test_a_token_signed_after_a_key_rotation_is_accepted(issuer, resource):
    before = issuer.register()["access_token"]
    assert resource.hello(before)[0] == 200

    issuer.stop()
    issuer.start(
        [
            {"kid": "key-2", "private_key": KEY_2},
            {"kid": "key-1", "public_key": public_pem_of(KEY_1)},
        ]
    )
    after = issuer.login()["access_token"]

    assert jwt.get_unverified_header(after)["kid"] == "key-2"
    assert resource.hello(after)[0] == 200
    assert resource.hello(before)[0] == 200


def test_a_token_of_a_dropped_key_is_refused_after_rotation(issuer, resource, tmp_path):
    before = issuer.register()["access_token"]

    issuer.stop()
    issuer.start([{"kid": "key-2", "private_key": KEY_2}])
    fresh = ResourceServer(tmp_path, issuer.jwks_url, name="fresh-resource")
    fresh.start()
    try:
        status, body = fresh.hello(before)
    finally:
        fresh.stop()

    assert status == 401
    assert body["code"] == "token_invalid"


def test_a_cached_keys_token_is_accepted_while_the_issuer_is_down(issuer, resource):
    token = issuer.register()["access_token"]
    assert resource.hello(token)[0] == 200

    issuer.stop()
    status, body = resource.hello(token)

    assert status == 200, body


def test_an_unknown_kid_is_refused_while_the_issuer_is_down(issuer, resource):
    token = issuer.register()["access_token"]
    assert resource.hello(token)[0] == 200

    issuer.stop()
    status, body = resource.hello(forge(token, FORGER, "key-unknown"))

    assert status == 401
    assert body["code"] == "token_invalid"


def test_a_resource_server_without_keys_answers_503_while_the_issuer_is_down(
    issuer, tmp_path
):
    token = issuer.register()["access_token"]
    issuer.stop()
    resource = ResourceServer(tmp_path, issuer.jwks_url)
    resource.start()
    try:
        status, body = resource.hello(token)
    finally:
        resource.stop()

    assert status == 503
    assert body["code"] == "keys_unavailable"
