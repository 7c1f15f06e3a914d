"""Settings for the example project: SQLite, a per-process cache, console mail."""

import json
import os
from datetime import timedelta
from pathlib import Path

from .env import cache_from_url, database_from_url

BASE_DIR = Path(__file__).resolve().parent.parent

# For local use only. A real deployment reads its secret from the environment.
SECRET_KEY = "example-project-insecure-secret-key-change-me-in-production-0123456789"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_ratelimit",
    "jwt_auth",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jwt_auth.middleware.BanMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", BASE_DIR / "db.sqlite3"),
            # IMMEDIATE transactions take the write lock when they begin, so
            # concurrent writers queue (up to the timeout) instead of failing.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

if os.environ.get("REDIS_URL"):
    CACHES = {"default": cache_from_url(os.environ["REDIS_URL"])}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Every limit counts by the one client address the app decides on.
RATELIMIT_IP_META_KEY = "jwt_auth.clientip.ratelimit_ip"
# django-ratelimit wants a cache shared by all processes. Without REDIS_URL
# this project runs one process on the embedded per-process cache, which
# serves it; with several workers, REDIS_URL points every one at Redis.
if not os.environ.get("REDIS_URL"):
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

AUTH_USER_MODEL = "jwt_auth.User"

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["jwt_auth.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "jwt_auth.errors.exception_handler",
}

JWT_AUTH = {
    "ISSUER": "http://127.0.0.1:8000",
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=14),
    "SESSION_LIFETIME": timedelta(days=30),
}

# Behind a proxy: the proxies' networks, comma-separated (e.g. "10.0.0.0/8").
if os.environ.get("JWT_AUTH_TRUSTED_PROXIES"):
    JWT_AUTH["TRUSTED_PROXIES"] = os.environ["JWT_AUTH_TRUSTED_PROXIES"].split(",")

# Signing for other services: JWT_AUTH_ALGORITHM (RS256, ES256, EdDSA, ...)
# and JWT_AUTH_SIGNING_KEYS_FILE, a JSON list of {"kid", "private_key"} or
# {"kid", "public_key"} entries holding PEM text, the signing key first.
# Unset, tokens are signed with HS256 under a key derived from SECRET_KEY.
if os.environ.get("JWT_AUTH_ALGORITHM"):
    JWT_AUTH["ALGORITHM"] = os.environ["JWT_AUTH_ALGORITHM"]
if os.environ.get("JWT_AUTH_SIGNING_KEYS_FILE"):
    with open(os.environ["JWT_AUTH_SIGNING_KEYS_FILE"]) as keys_file:
        JWT_AUTH["SIGNING_KEYS"] = json.load(keys_file)

# Services that may introspect tokens: "client-id:secret,other-id:secret".
if os.environ.get("JWT_AUTH_INTROSPECTION_CLIENTS"):
    JWT_AUTH["INTROSPECTION_CLIENTS"] = dict(
        pair.split(":", 1)
        for pair in os.environ["JWT_AUTH_INTROSPECTION_CLIENTS"].split(",")
    )

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
if os.environ.get("EMAIL_FILE_PATH"):
    # Each message becomes a file in this folder.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
DEFAULT_FROM_EMAIL = "accounts@example.com"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"jwt_auth": {"handlers": ["console"], "level": "INFO"}},
}
