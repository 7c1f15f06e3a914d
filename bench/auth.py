"""What one ``authenticate()`` costs: jwt_auth, simplejwt and a bare decode."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import jwt
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import (
    JWTAuthentication as SimpleJWTAuthentication,
)
from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken

from jwt_auth.authentication import JWTAuthentication
from jwt_auth.conf import jwt_settings
from jwt_auth.errors import TokenRevoked
from jwt_auth.keys import get_key_set
from jwt_auth.models import Session
from jwt_auth.sessions import revoke_sessions, start_session
from jwt_auth.tokens import ACCESS_TOKEN_TYPE

from .environment import Environment
from .profiling import print_profile
from .timing import compare, print_ratio, print_table

OURS = "jwt_auth (warm cache)"
SIMPLEJWT = "simplejwt"
BARE = "bare jwt.decode"

# The largest ratio of our median to the other contender's that meets its target.
TARGET_VS_SIMPLEJWT = 0.25
TARGET_VS_BARE = 2.0


def bearer_request(token: str) -> Request:
    """Return a DRF request carrying ``token`` in its Authorization header."""
    return Request(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}"))


def ours(user: Any) -> tuple[Callable[[], Any], Session]:
    """Return our authenticate call, its cache already filled, and its session."""
    issued = start_session(user)
    call = partial(
        JWTAuthentication().authenticate, bearer_request(issued.access_token)
    )

    # The first call reads the database and fills the cache; the rest do not.
    authenticated, _ = call()
    assert authenticated.pk == user.pk
    return call, issued.session


def simplejwt(user: Any) -> Callable[[], Any]:
    """Return simplejwt's authenticate call on a token it issued for ``user``."""
    token = str(SimpleAccessToken.for_user(user))
    call = partial(SimpleJWTAuthentication().authenticate, bearer_request(token))
    authenticated, _ = call()
    assert authenticated.pk == user.pk
    return call


def bare(user: Any) -> Callable[[], Any]:
    """Return PyJWT's decode of a token shaped like ours, under the same key."""
    key = get_key_set().signing_key
    now = int(user.date_joined.timestamp())
    claims = {
        "iss": jwt_settings.ISSUER,
        "sub": str(user.pk),
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "sid": str(uuid.uuid4()),
    }
    headers = {"typ": ACCESS_TOKEN_TYPE, "kid": key.kid}
    token = jwt.encode(claims, key.signing, algorithm=key.algorithm, headers=headers)
    call = partial(jwt.decode, token, key.signing, algorithms=[key.algorithm])
    assert call()["sub"] == str(user.pk)
    return call


def check_revocation(call: Callable[[], Any], session: Session) -> tuple[bool, int]:
    """Revoke ``session``; return whether the next call is refused, and its queries.

    The refusal has to come from the cache, so it should cost no query.
    """
    revoke_sessions(Session.objects.filter(pk=session.pk), Session.RevokeReason.ADMIN)
    with CaptureQueriesContext(connection) as context:
        try:
            call()
        except TokenRevoked:
            refused = True
        else:
            refused = False
    return refused, len(context.captured_queries)


def section(env: Environment) -> None:
    """Print the median cost of one authentication, three ways."""
    our_call, session = ours(env.user)
    contenders = {
        OURS: our_call,
        SIMPLEJWT: simplejwt(env.user),
        BARE: bare(env.user),
    }

    results = {
        result.name: result
        for result in compare(contenders, rounds=env.rounds, calls=env.calls)
    }
    print_table("authenticate(): one call, per contender", results.values())
    print("Ratios of medians:")
    print_ratio(
        "jwt_auth / simplejwt",
        results[OURS].median / results[SIMPLEJWT].median,
        TARGET_VS_SIMPLEJWT,
    )
    print_ratio(
        "jwt_auth / bare jwt.decode",
        results[OURS].median / results[BARE].median,
        TARGET_VS_BARE,
    )

    if env.profile:
        print()
        print_profile(f"Profile of {OURS}:", our_call, calls=env.calls)

    refused, queries = check_revocation(our_call, session)
    print(
        f"After revoking its session, the next jwt_auth call was "
        f"{'refused' if refused else 'ACCEPTED'} ({queries} queries)."
    )
