"""System checks for the ``JWT_AUTH`` settings (``jwt_auth.E001`` and on)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .conf import COUNTS, DEFAULTS, DURATIONS, OPTIONAL_DURATIONS
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
    for name in sorted(OPTIONAL_DURATIONS & set(user)):
        if user[name] is not None:
            errors.extend(_check_duration(name, user[name]))
    errors.extend(_check_protection(user))
    errors.extend(_check_single_sign_on(user))

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


THROTTLE_SCOPES = frozenset({"register", "login", "refresh", "otp"})


def _protection_error(message: str) -> Error:
    return Error(f"JWT_AUTH {message}", id="jwt_auth.E008")


def _check_protection(user: dict[str, Any]) -> list:
    errors = []
    for name in sorted(COUNTS & set(user)):
        value = user[name]
        if name == "ACCOUNT_FAILURE_LIMIT" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(_protection_error(f"{name} must be a positive integer."))
    length = user.get("OTP_LENGTH", DEFAULTS["OTP_LENGTH"])
    # A length that is no integer at all was reported with the counts above.
    if _is_int(length) and not 4 <= length <= 10:
        errors.append(_protection_error("OTP_LENGTH must be from 4 to 10."))

    prefix = user.get("IPV6_PREFIX", DEFAULTS["IPV6_PREFIX"])
    if (
        isinstance(prefix, bool)
        or not isinstance(prefix, int)
        or not 1 <= prefix <= 128
    ):
        errors.append(_protection_error("IPV6_PREFIX must be from 1 to 128."))

    proxies = user.get("TRUSTED_PROXIES", [])
    if not isinstance(proxies, (list, tuple)):
        # A bare string would be read one character at a time.
        errors.append(_protection_error("TRUSTED_PROXIES must be a list of CIDRs."))
        proxies = []
    for cidr in proxies:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except (TypeError, ValueError):
            errors.append(_protection_error(f"TRUSTED_PROXIES: {cidr!r} is no CIDR."))

    rates = user.get("THROTTLE_RATES", DEFAULTS["THROTTLE_RATES"])
    if not isinstance(rates, dict):
        return [*errors, _protection_error("THROTTLE_RATES must be a dict.")]
    for scope in sorted(set(rates) - THROTTLE_SCOPES):
        errors.append(_protection_error(f"THROTTLE_RATES has no scope {scope!r}."))
    for scope, rate in rates.items():
        if rate is not None and not _valid_rate(rate):
            errors.append(
                _protection_error(f"THROTTLE_RATES[{scope!r}] {rate!r} is no rate.")
            )
    return errors


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_single_sign_on(user: dict[str, Any]) -> list:
    errors = []
    url = user.get("JWKS_URL")
    if url is not None and not (
        isinstance(url, str) and url.lower().startswith(("http://", "https://"))
    ):
        errors.append(
            Error("JWT_AUTH JWKS_URL must be an http(s) URL.", id="jwt_auth.E009")
        )
    clients = user.get("INTROSPECTION_CLIENTS", {})
    if not isinstance(clients, dict) or not all(
        isinstance(client_id, str) and isinstance(secret, str) and secret
        for client_id, secret in clients.items()
    ):
        errors.append(
            Error(
                "JWT_AUTH INTROSPECTION_CLIENTS must map client ids to secrets.",
                hint='For example {"billing": os.environ["BILLING_SECRET"]}.',
                id="jwt_auth.E009",
            )
        )
    return errors


def _valid_rate(rate: Any) -> bool:
    """Return whether ``rate`` reads as django-ratelimit's "N/unit"."""
    if not isinstance(rate, str) or "/" not in rate:
        return False
    count, _, period = rate.partition("/")
    unit = period.lstrip("0123456789")
    # "5/0m" would be a window of no length, which divides by zero.
    multiple = period[: len(period) - len(unit)]
    return (
        count.isdigit()
        and int(count) > 0
        and unit in ("s", "m", "h", "d")
        and (not multiple or int(multiple) > 0)
    )


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
