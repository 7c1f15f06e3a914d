"""Signing keys: the HMAC default, asymmetric keys, rotation, kids and the JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.test import override_settings
from jwt.algorithms import RSAAlgorithm

from jwt_auth.keys import derive_hmac_secret, get_key_set, thumbprint

from .helpers import (
    assert_refused,
    b64,
    bearer,
    claims_of,
    header_of,
    jwt_auth,
    login,
    segment,
)
from .keys import new_private_key, private_pem, public_pem

pytestmark = pytest.mark.django_db

HELLO = "/api/hello/"
JWKS_PATHS = ["/auth/jwks/", "/.well-known/jwks.json"]
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

# RFC 7638, section 3.1: an RSA public key and its SHA-256 thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
    "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4"
    "QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO"
    "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF"
    "Cur-kEgU8awapJzKnqDKgw"
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

# RFC 8037, appendices A.1 and A.3: an Ed25519 key pair and its thumbprint.
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@pytest.fixture(scope="module")
def private_keys() -> dict[str, list[Any]]:
    """Two private keys per asymmetric algorithm, made once for the module."""
    return {
        algorithm: [new_private_key(algorithm) for _ in range(2)]
        for algorithm in ("RS256", "ES256", "EdDSA")
    }


def asymmetric(algorithm: str, *entries: dict[str, Any]) -> override_settings:
    return jwt_auth(ALGORITHM=algorithm, SIGNING_KEYS=list(entries))


def sign(claims: dict[str, Any], key: Any, algorithm: str, **header: Any) -> str:
    headers = {"typ": "at+jwt", **header}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """Sign by hand, so the header may hold what PyJWT would not write."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


# The default: HS256 with a key derived from SECRET_KEY.


def test_default_key_is_derived_from_secret_key(tokens):
    derived = derive_hmac_secret(settings.SECRET_KEY)

    claims = jwt.decode(
        tokens["access_token"],
        derived,
        algorithms=["HS256"],
        issuer="https://issuer.test",
    )

    assert derived != settings.SECRET_KEY.encode()
    assert claims["iss"] == "https://issuer.test"


def test_access_token_does_not_verify_with_the_raw_secret_key(tokens):
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tokens["access_token"], settings.SECRET_KEY, algorithms=["HS256"])


def test_a_token_signed_with_the_raw_secret_key_is_refused(client, tokens):
    kid = header_of(tokens["access_token"])["kid"]
    claims = claims_of(tokens["access_token"])
    token = sign(claims, settings.SECRET_KEY, "HS256", kid=kid)

    assert_refused(client.get(HELLO, **bearer(token)))


def test_tokens_made_before_a_secret_key_rotation_still_verify(client, tokens):
    old = settings.SECRET_KEY
    new = "a-new-secret-key-after-rotation-" + "9" * 40

    with override_settings(SECRET_KEY=new, SECRET_KEY_FALLBACKS=[old]):
        response = client.get(HELLO, **bearer(tokens["access_token"]))

    assert response.status_code == 200


def test_tokens_made_before_a_secret_key_rotation_fail_without_the_fallback(
    client, tokens
):
    new = "a-new-secret-key-after-rotation-" + "9" * 40

    with override_settings(SECRET_KEY=new, SECRET_KEY_FALLBACKS=[]):
        response = client.get(HELLO, **bearer(tokens["access_token"]))

    assert_refused(response)


def test_after_a_secret_key_rotation_new_tokens_are_signed_with_the_new_key(
    client, user
):
    old = settings.SECRET_KEY
    new = "a-new-secret-key-after-rotation-" + "9" * 40

    with override_settings(SECRET_KEY=new, SECRET_KEY_FALLBACKS=[old]):
        access = login(client).json()["access_token"]

    jwt.decode(access, derive_hmac_secret(new), algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(access, derive_hmac_secret(old), algorithms=["HS256"])


@pytest.mark.parametrize("path", JWKS_PATHS)
def test_under_hmac_the_jwks_is_empty(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.json() == {"keys": []}


# Asymmetric algorithms.


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_asymmetric_access_token_is_signed_with_the_private_key(
    client, user, private_keys, algorithm
):
    key = private_keys[algorithm][0]

    with asymmetric(algorithm, {"private_key": private_pem(key)}):
        access = login(client).json()["access_token"]
        response = client.get(HELLO, **bearer(access))

    assert header_of(access)["alg"] == algorithm
    jwt.decode(
        access, key.public_key(), algorithms=[algorithm], issuer="https://issuer.test"
    )
    assert response.status_code == 200


def test_the_first_of_several_keys_signs(client, user, private_keys):
    first, second = private_keys["RS256"]
    entries = [
        {"kid": "new", "private_key": private_pem(first)},
        {"kid": "old", "private_key": private_pem(second)},
    ]

    with asymmetric("RS256", *entries):
        access = login(client).json()["access_token"]

    assert header_of(access)["kid"] == "new"
    jwt.decode(access, first.public_key(), algorithms=["RS256"])


def test_every_one_of_several_keys_verifies(client, tokens, private_keys):
    first, second = private_keys["RS256"]
    entries = [
        {"kid": "new", "private_key": private_pem(first)},
        {"kid": "old", "private_key": private_pem(second)},
    ]
    claims = claims_of(tokens["access_token"])

    with asymmetric("RS256", *entries):
        for kid, key in (("new", first), ("old", second)):
            token = sign(claims, key, "RS256", kid=kid)

            assert client.get(HELLO, **bearer(token)).status_code == 200


def test_a_key_is_only_accepted_under_its_own_kid(client, tokens, private_keys):
    first, second = private_keys["RS256"]
    entries = [
        {"kid": "new", "private_key": private_pem(first)},
        {"kid": "old", "private_key": private_pem(second)},
    ]
    token = sign(claims_of(tokens["access_token"]), second, "RS256", kid="new")

    with asymmetric("RS256", *entries):
        response = client.get(HELLO, **bearer(token))

    assert_refused(response)


def test_each_of_several_keys_has_its_own_kid(private_keys):
    entries = [{"private_key": private_pem(key)} for key in private_keys["ES256"]]

    with asymmetric("ES256", *entries):
        kids = [key.kid for key in get_key_set().keys]

    assert all(kids)
    assert len(set(kids)) == 2


def test_a_verify_only_key_verifies_tokens_it_signed_before(
    client, tokens, private_keys
):
    current, retired = private_keys["RS256"]
    entries = [
        {"private_key": private_pem(current)},
        {"kid": "retired", "public_key": public_pem(retired)},
    ]
    token = sign(claims_of(tokens["access_token"]), retired, "RS256", kid="retired")

    with asymmetric("RS256", *entries):
        response = client.get(HELLO, **bearer(token))

    assert response.status_code == 200


def test_a_verify_only_key_never_signs(client, user, private_keys):
    current, retired = private_keys["RS256"]
    entries = [
        {"kid": "current", "private_key": private_pem(current)},
        {"kid": "retired", "public_key": public_pem(retired)},
    ]

    with asymmetric("RS256", *entries):
        access = login(client).json()["access_token"]

    assert header_of(access)["kid"] == "current"


# Key ids.


def test_thumbprint_matches_the_rfc_7638_example():
    assert thumbprint({"kty": "RSA", "n": RFC7638_N, "e": "AQAB"}) == (
        RFC7638_THUMBPRINT
    )


def test_kid_of_a_verify_only_rsa_key_defaults_to_its_thumbprint(private_keys):
    numbers = rsa.RSAPublicNumbers(
        e=65537, n=int.from_bytes(b64decode(RFC7638_N), "big")
    )
    rfc_key_pem = (
        numbers.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )
    entries = [
        {"private_key": private_pem(private_keys["RS256"][0])},
        {"public_key": rfc_key_pem},
    ]

    with asymmetric("RS256", *entries):
        kids = [key.kid for key in get_key_set().keys]

    assert kids[1] == RFC7638_THUMBPRINT


def test_kid_of_an_ed25519_signing_key_defaults_to_its_thumbprint(client, user):
    key = ed25519.Ed25519PrivateKey.from_private_bytes(b64decode(RFC8037_D))

    with asymmetric("EdDSA", {"private_key": private_pem(key)}):
        access = login(client).json()["access_token"]

    assert header_of(access)["kid"] == RFC8037_THUMBPRINT


def test_a_configured_kid_wins_over_the_thumbprint(client, user, private_keys):
    key = private_keys["ES256"][0]

    with asymmetric("ES256", {"kid": "2030-01", "private_key": private_pem(key)}):
        access = login(client).json()["access_token"]

    assert header_of(access)["kid"] == "2030-01"


# The JWKS.


@pytest.mark.parametrize("path", JWKS_PATHS)
@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_jwks_lists_only_public_key_members(client, private_keys, path, algorithm):
    entries = [{"private_key": private_pem(key)} for key in private_keys[algorithm]]

    with asymmetric(algorithm, *entries):
        jwks = client.get(path).json()

    assert len(jwks["keys"]) == 2
    for jwk in jwks["keys"]:
        assert not PRIVATE_JWK_MEMBERS & set(jwk), jwk
        assert jwk["kid"]
        assert jwk["alg"] == algorithm
        assert jwk["use"] == "sig"


@pytest.mark.parametrize("path", JWKS_PATHS)
@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_an_access_token_verifies_with_the_served_jwk(
    client, user, private_keys, path, algorithm
):
    entries = [{"private_key": private_pem(key)} for key in private_keys[algorithm]]

    with asymmetric(algorithm, *entries):
        access = login(client).json()["access_token"]
        jwks = client.get(path).json()

    served = {jwk["kid"]: jwk for jwk in jwks["keys"]}[header_of(access)["kid"]]
    claims = jwt.decode(
        access,
        jwt.PyJWK(served),
        algorithms=[algorithm],
        issuer="https://issuer.test",
    )
    assert claims["sub"] == str(user.pk)


def test_jwks_lists_verify_only_keys(client, private_keys):
    current, retired = private_keys["RS256"]
    entries = [
        {"kid": "current", "private_key": private_pem(current)},
        {"kid": "retired", "public_key": public_pem(retired)},
    ]

    with asymmetric("RS256", *entries):
        jwks = client.get("/.well-known/jwks.json").json()

    retired_jwk = {jwk["kid"]: jwk for jwk in jwks["keys"]}["retired"]
    assert RSAAlgorithm.from_jwk(retired_jwk).public_numbers() == (
        retired.public_key().public_numbers()
    )


# Attacks on the choice of key.


def test_hs256_signed_with_the_rsa_public_key_is_refused(client, tokens, private_keys):
    key = private_keys["RS256"][0]
    pem = public_pem(key).encode()

    with asymmetric("RS256", {"private_key": private_pem(key)}):
        kid = get_key_set().signing_key.kid
        header = {"alg": "HS256", "typ": "at+jwt", "kid": kid}
        token = hs256(header, claims_of(tokens["access_token"]), pem)
        response = client.get(HELLO, **bearer(token))

    assert_refused(response)


@pytest.mark.parametrize(
    "kid",
    [
        "../../etc/passwd",
        "' OR 1=1 --",
        "/dev/null",
        "",
        "a\x00b",
        1,
        ["a"],
        {"kid": "a"},
        None,
    ],
)
def test_an_unknown_kid_is_refused_under_several_keys(client, tokens, kid):
    entries = [{"kid": "a", "key": "a" * 32}, {"kid": "b", "key": "b" * 32}]
    claims = claims_of(tokens["access_token"])

    with jwt_auth(SIGNING_KEYS=entries):
        header = {"alg": "HS256", "typ": "at+jwt", "kid": kid}
        token = hs256(header, claims, b"a" * 32)
        response = client.get(HELLO, **bearer(token))

    assert_refused(response)


@pytest.mark.parametrize("kid", ["../../etc/passwd", "' OR 1=1 --", None])
def test_an_unknown_kid_is_refused_under_a_single_key(client, tokens, kid):
    header = {**header_of(tokens["access_token"]), "kid": kid}
    token = hs256(
        header, claims_of(tokens["access_token"]), get_key_set().signing_key.signing
    )

    assert_refused(client.get(HELLO, **bearer(token)))


def test_a_known_kid_is_accepted_under_several_keys(client, tokens):
    entries = [{"kid": "a", "key": "a" * 32}, {"kid": "b", "key": "b" * 32}]
    claims = claims_of(tokens["access_token"])

    with jwt_auth(SIGNING_KEYS=entries):
        header = {"alg": "HS256", "typ": "at+jwt", "kid": "b"}
        token = hs256(header, claims, b"b" * 32)
        response = client.get(HELLO, **bearer(token))

    assert response.status_code == 200


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return new_private_key("RS256")


def self_signed_certificate(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.test")])
    now = datetime.now(timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode("ascii")


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_a_key_named_in_the_token_header_is_ignored(
    client, tokens, private_keys, attacker_key, member
):
    embedded = {
        "jwk": RSAAlgorithm.to_jwk(attacker_key.public_key(), as_dict=True),
        "jku": "https://attacker.test/jwks.json",
        "x5u": "https://attacker.test/cert.pem",
        "x5c": [self_signed_certificate(attacker_key)],
    }[member]
    server_key = private_keys["RS256"][0]

    with asymmetric("RS256", {"private_key": private_pem(server_key)}):
        kid = get_key_set().signing_key.kid
        claims = claims_of(tokens["access_token"])
        token = sign(claims, attacker_key, "RS256", kid=kid, **{member: embedded})
        response = client.get(HELLO, **bearer(token))

    assert_refused(response)
