"""Settings for the benchmarks: one SQLite file, a local-memory cache.

``python -m bench`` names a fresh temporary database in ``BENCH_SQLITE_NAME``
before Django starts, and migrates it.
"""

import os

SECRET_KEY = "bench-secret-key-that-is-long-enough-for-hmac-derivation-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "django_ratelimit",
    # Only here, as the contender the benchmark compares against.
    "rest_framework_simplejwt",
    "jwt_auth",
]

MIDDLEWARE: list[str] = []

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_SQLITE_NAME", ":memory:"),
    }
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# As in the test settings: every limit counts by the address the app decides
# on, and one process on the per-process cache is all a benchmark needs.
RATELIMIT_IP_META_KEY = "jwt_auth.clientip.ratelimit_ip"
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

AUTH_USER_MODEL = "jwt_auth.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["jwt_auth.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "jwt_auth.errors.exception_handler",
}

ISSUER = "https://issuer.bench"

JWT_AUTH = {"ISSUER": ISSUER}

# The same algorithm and the same issuer check as jwt_auth, so that both
# classes do comparable work on the token itself.
SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": "bench-simplejwt-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ISSUER": ISSUER,
}
