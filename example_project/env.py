"""Read the database and cache from DATABASE_URL and REDIS_URL, if they are set."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


def database_from_url(url: str) -> dict[str, Any]:
    """Return a Django DATABASES entry for a ``postgres://`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"Unsupported DATABASE_URL scheme: {parts.scheme!r}")
    options = dict(parse_qsl(parts.query))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(parts.port or ""),
        # A database that is down should answer fast, as a 503, not hang.
        "OPTIONS": {
            "connect_timeout": int(options.pop("connect_timeout", 3)),
            **options,
        },
    }


def cache_from_url(url: str) -> dict[str, Any]:
    """Return a Django CACHES entry for a ``redis://`` URL, through django-redis."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {
            # A Redis that is down should fail fast; the app then reads the
            # database instead.
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
