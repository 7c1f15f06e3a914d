"""Settings for the example resource server: no database, keys from the issuer.

Run it beside the example project, which must sign with an asymmetric key:

    DJANGO_SETTINGS_MODULE=example_resource.settings \\
        python manage.py runserver 127.0.0.1:8001

``JWT_AUTH_JWKS_URL``, ``JWT_AUTH_ISSUER`` and ``JWT_AUTH_ALGORITHM`` say
where the issuer publishes its keys, what it writes in ``iss`` and how it
signs; ``JWT_AUTH_JWKS_REFETCH_INTERVAL`` (seconds) how often an unknown
key id may fetch the keys again.
"""

import os
from datetime import timedelta

# For local use only; nothing here signs with it.
SECRET_KEY = "example-resource-insecure-secret-key-change-me-in-production-0123"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# No database and no user table: request.user is built from the token.
INSTALLED_APPS = ["rest_framework"]
DATABASES = {}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "example_resource.urls"
WSGI_APPLICATION = "example_resource.wsgi.application"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "jwt_auth.resource.ResourceServerAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "jwt_auth.errors.exception_handler",
    # Django's AnonymousUser lives beside the auth models, which are not
    # installed here; an anonymous request.user is None instead.
    "UNAUTHENTICATED_USER": None,
}

JWT_AUTH = {
    "JWKS_URL": os.environ.get("JWT_AUTH_JWKS_URL", "http://127.0.0.1:8000/auth/jwks/"),
    "ISSUER": os.environ.get("JWT_AUTH_ISSUER", "http://127.0.0.1:8000"),
    "ALGORITHM": os.environ.get("JWT_AUTH_ALGORITHM", "RS256"),
}
if os.environ.get("JWT_AUTH_JWKS_REFETCH_INTERVAL"):
    JWT_AUTH["JWKS_REFETCH_INTERVAL"] = timedelta(
        seconds=float(os.environ["JWT_AUTH_JWKS_REFETCH_INTERVAL"])
    )

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"jwt_auth": {"handlers": ["console"], "level": "INFO"}},
}
