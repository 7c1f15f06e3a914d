"""The app's configuration: wires the checks and the signal receivers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JWTAuthConfig(AppConfig):
    name = "jwt_auth"
    verbose_name = _("JWT authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, receivers  # noqa: F401

        receivers.connect()
