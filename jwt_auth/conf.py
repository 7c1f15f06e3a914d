"""The app's settings: the ``JWT_AUTH`` dict in settings.py over the defaults here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    # Tokens and sessions.
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=14),
    "SESSION_LIFETIME": timedelta(days=30),
    "REFRESH_TOKEN_REUSE_GRACE": timedelta(0),
    "ALGORITHM": "HS256",
    "SIGNING_KEYS": [],
    "ISSUER": "jwt_auth",
    "AUDIENCE": None,
    "LEEWAY": timedelta(0),
    "AUTH_HEADER_REALM": "api",
    "MAX_TOKEN_LENGTH": 8192,
    # Where session state and protection state are cached between requests.
    "CACHE": "default",
    "SESSION_CACHE_TIMEOUT": timedelta(minutes=5),
    # IP protection: attempt log, registration bans, codes after failures.
    "PROTECTION": True,
    "TRUSTED_PROXIES": [],
    "IPV6_PREFIX": 64,
    "REGISTER_LIMIT": 3,
    "REGISTER_WINDOW": timedelta(minutes=5),
    "REGISTER_BAN_DURATION": timedelta(hours=1),
    "LOGIN_FAILURE_LIMIT": 3,
    "LOGIN_FAILURE_WINDOW": timedelta(minutes=5),
    "ACCOUNT_FAILURE_LIMIT": 10,
    "ACCOUNT_FAILURE_WINDOW": timedelta(minutes=15),
    "OTP_LENGTH": 6,
    "OTP_TTL": timedelta(minutes=5),
    "OTP_MAX_ATTEMPTS": 5,
    "OTP_RESEND_COOLDOWN": timedelta(seconds=60),
    "OTP_SENDER": "jwt_auth.otp.send_code_by_email",
    "THROTTLE_RATES": {
        "register": "20/m",
        "login": "20/m",
        "refresh": "60/m",
        "otp": "10/m",
    },
    "ATTEMPT_RETENTION": timedelta(days=30),
    # Resource servers: where the issuer's public keys are read from.
    "JWKS_URL": None,
    "JWKS_TIMEOUT": timedelta(seconds=2),
    "JWKS_CACHE_LIFETIME": timedelta(minutes=5),
    "JWKS_REFETCH_INTERVAL": timedelta(seconds=30),
    # Introspection: client id -> secret of the services that may ask.
    "INTROSPECTION_CLIENTS": {},
}

# Settings whose values are dotted paths, imported on first use.
IMPORT_STRINGS: frozenset[str] = frozenset({"OTP_SENDER"})

DURATIONS = frozenset(
    {
        "ACCESS_TOKEN_LIFETIME",
        "REFRESH_TOKEN_LIFETIME",
        "SESSION_LIFETIME",
        "REFRESH_TOKEN_REUSE_GRACE",
        "LEEWAY",
        "SESSION_CACHE_TIMEOUT",
        "REGISTER_WINDOW",
        "LOGIN_FAILURE_WINDOW",
        "ACCOUNT_FAILURE_WINDOW",
        "OTP_TTL",
        "OTP_RESEND_COOLDOWN",
        "ATTEMPT_RETENTION",
        "JWKS_TIMEOUT",
        "JWKS_CACHE_LIFETIME",
        "JWKS_REFETCH_INTERVAL",
    }
)

# Durations that may also be None, meaning "until lifted".
OPTIONAL_DURATIONS = frozenset({"REGISTER_BAN_DURATION"})

# Counts that must be positive integers; None switches ACCOUNT_FAILURE_LIMIT off.
COUNTS = frozenset(
    {
        "REGISTER_LIMIT",
        "LOGIN_FAILURE_LIMIT",
        "ACCOUNT_FAILURE_LIMIT",
        "OTP_LENGTH",
        "OTP_MAX_ATTEMPTS",
    }
)


class JWTAuthSettings:
    """Read ``settings.JWT_AUTH`` lazily, falling back to ``DEFAULTS``.

    Values are cached on first access and dropped when the setting changes,
    so ``override_settings(JWT_AUTH=...)`` takes effect in tests.
    """

    def __init__(self) -> None:
        self._cached: dict[str, Any] = {}
        self._listeners: list = []

    @property
    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, "JWT_AUTH", None)
        return value if isinstance(value, dict) else {}

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown JWT_AUTH setting: {name!r}")
        try:
            return self._cached[name]
        except KeyError:
            pass
        value = self.user_settings.get(name, DEFAULTS[name])
        if name in IMPORT_STRINGS and isinstance(value, str):
            value = import_string(value)
        self._cached[name] = value
        return value

    def on_reload(self, listener) -> None:
        """Call ``listener()`` whenever the settings are reloaded."""
        self._listeners.append(listener)

    def reload(self) -> None:
        self._cached.clear()
        for listener in self._listeners:
            listener()


jwt_settings = JWTAuthSettings()


@receiver(setting_changed)
def _reload_jwt_settings(*, setting: str, **kwargs: Any) -> None:
    if setting in ("JWT_AUTH", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "CACHES"):
        jwt_settings.reload()


def get_cache() -> BaseCache:
    """Return the cache named by ``JWT_AUTH["CACHE"]``."""
    return caches[jwt_settings.CACHE]
