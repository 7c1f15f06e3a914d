"""The app's settings: the ``JWT_AUTH`` dict in settings.py over the defaults here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
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
    # Where session state is cached between requests.
    "CACHE": "default",
    "SESSION_CACHE_TIMEOUT": timedelta(minutes=5),
}

# Settings whose values are dotted paths, imported on first use.
IMPORT_STRINGS: frozenset[str] = frozenset()

DURATIONS = frozenset(
    {
        "ACCESS_TOKEN_LIFETIME",
        "REFRESH_TOKEN_LIFETIME",
        "SESSION_LIFETIME",
        "REFRESH_TOKEN_REUSE_GRACE",
        "LEEWAY",
        "SESSION_CACHE_TIMEOUT",
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
