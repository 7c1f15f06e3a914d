"""Accounts, sign-in sessions and the refresh tokens that renew them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CaseInsensitiveUserManager(UserManager):
    def get_by_natural_key(self, username: str):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser):
    """A user whose username and e-mail address are unique regardless of case.

    Swappable like ``auth.User``: it has a table only when
    ``AUTH_USER_MODEL = "jwt_auth.User"``.
    """

    email = models.EmailField(_("email address"))

    objects = CaseInsensitiveUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="jwt_auth_user_username_ci_unique",
                violation_error_message=_("A user with that username already exists."),
            ),
            models.UniqueConstraint(
                Lower("email"),
                name="jwt_auth_user_email_ci_unique",
                violation_error_message=_(
                    "A user with that email address already exists."
                ),
            ),
        ]


class Session(models.Model):
    """One sign-in: the family of refresh tokens that descend from it.

    Every access token names its session, so revoking the session ends the
    access tokens and the refresh tokens together.
    """

    class RevokeReason(models.TextChoices):
        LOGOUT = "logout", _("Logged out")
        LOGOUT_ALL = "logout_all", _("Logged out everywhere")
        PASSWORD_CHANGE = "password_change", _("Password changed")
        DEACTIVATED = "deactivated", _("User deactivated")
        REUSE_DETECTED = "reuse_detected", _("Refresh token reused")
        ADMIN = "admin", _("Revoked by an administrator")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="jwt_sessions",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(
        max_length=32, choices=RevokeReason.choices, blank=True
    )
    user_agent = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return str(self.id)

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class RefreshToken(models.Model):
    """A single-use refresh token, stored only as the SHA-256 of its value."""

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("refresh token")
        verbose_name_plural = _("refresh tokens")

    def __str__(self) -> str:
        return f"{self.session_id}:{self.pk}"
