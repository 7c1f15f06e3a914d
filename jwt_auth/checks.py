"""System checks for the ``JWT_AUTH`` settings (``jwt_auth.E001`` and on)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .conf import DEFAULTS, DURATIONS
from .keys import (
    ALLOWED_ALGORITHMS,
    HMAC_ALGORITHMS,
    MIN_HMAC_KEY_BYTES,
    KeyConfigurationError,
    KeySet,
)

# A cache each process keeps to itself. (DummyCache is safe: it holds nothing,
# so every request reads the database.)
PER_PROCESS_CACHES = ("django.core.cache.backends.locmem.LocMemCache",)


@register(Tags.security)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list:
    user = getattr(settings, "JWT_AUTH", {})
    if not isinstance(user, dict):
        return [Error("JWT_AUTH must be a dict.", id="jwt_auth.E000")]

    errors: list = []
    for name in sorted(set(user) - set(DEFAULTS)):
        errors.append(
            Error(
                f"Unknown JWT_AUTH setting {name!r}.",
                hint="Check the spelling against the settings table in the README.",
                id="jwt_auth.E001",
            )
        )
    for name in sorted(DURATIONS & set(user)):
        errors.extend(_check_duration(name, user[name]))

    algorithm = user.get("ALGORITHM", DEFAULTS["ALGORITHM"])
    if algorithm not in ALLOWED_ALGORITHMS:
        errors.append(
            Error(
                f"JWT_AUTH ALGORITHM {algorithm!r} is not allowed.",
                hint=f"Use one of: {', '.join(sorted(ALLOWED_ALGORITHMS))}.",
                id="jwt_auth.E005",
            )
        )
        return errors
    errors.extend(_check_keys(algorithm, user.get("SIGNING_KEYS", [])))
    return errors


def _check_duration(name: str, value: Any) -> list:
    if not isinstance(value, timedelta):
        return [
            Error(
                f"JWT_AUTH {name} must be a datetime.timedelta.",
                hint="A bare number has no unit; write timedelta(minutes=5).",
                id="jwt_auth.E004",
            )
        ]
    may_be_zero = name in ("LEEWAY", "REFRESH_TOKEN_REUSE_GRACE")
    if value < timedelta(0) or (value == timedelta(0) and not may_be_zero):
        return [Error(f"JWT_AUTH {name} must be positive.", id="jwt_auth.E004")]
    return []


def _check_keys(algorithm: str, entries: Any) -> list:
    if not isinstance(entries, (list, tuple)) or not all(
        isinstance(entry, dict) for entry in entries
    ):
        return [
            Error("JWT_AUTH SIGNING_KEYS must be a list of dicts.", id="jwt_auth.E006")
        ]
    if algorithm in HMAC_ALGORITHMS:
        for entry in entries:
            secret = entry.get("key") or b""
            if len(secret.encode() if isinstance(secret, str) else secret) < (
                MIN_HMAC_KEY_BYTES
            ):
                return [
                    Error(
                        f"An HMAC key must be at least {MIN_HMAC_KEY_BYTES} bytes.",
                        id="jwt_auth.E002",
                    )
                ]
    elif not entries:
        return [
            Error(
                f"ALGORITHM {algorithm} needs SIGNING_KEYS with a private_key.",
                hint="Generate a key pair and put the private key's PEM here.",
                id="jwt_auth.E003",
            )
        ]
    try:
        KeySet(algorithm, list(entries))
    except KeyConfigurationError as exc:
        return [Error(f"JWT_AUTH SIGNING_KEYS: {exc}", id="jwt_auth.E006")]
    return []


@register(Tags.caches)
def check_cache_alias(app_configs: Any = None, **kwargs: Any) -> list:
    alias = _cache_alias()
    if alias not in settings.CACHES:
        return [
            Error(
                f"JWT_AUTH CACHE {alias!r} is not in CACHES.",
                id="jwt_auth.E007",
            )
        ]
    return []


@register(Tags.caches, deploy=True)
def check_cache_is_shared(app_configs: Any = None, **kwargs: Any) -> list:
    alias = _cache_alias()
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        return [
            Warning(
                f"The cache {alias!r} is private to each process.",
                hint=(
                    "With several processes, a revoked session stays usable in "
                    "the others until its cache entry expires. Point "
                    "JWT_AUTH['CACHE'] at a shared cache such as Redis."
                ),
                id="jwt_auth.W001",
            )
        ]
    return []


def _cache_alias() -> str:
    user = getattr(settings, "JWT_AUTH", {})
    return user.get("CACHE", DEFAULTS["CACHE"]) if isinstance(user, dict) else "default"
