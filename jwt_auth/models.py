"""Accounts, sign-in sessions and the refresh tokens that renew them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def storable(text: str, length: int) -> str:
    """Return ``text`` cut to ``length``, as any database can store it.

    What a client typed is written before it is validated: a NUL byte or a
    lone surrogate would make the INSERT fail.
    """
    cleaned = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return cleaned[:length]


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


class Attempt(models.Model):
    """One register or login attempt, as the protection saw it."""

    class Kind(models.TextChoices):
        REGISTER = "register", _("Register")
        LOGIN = "login", _("Login")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")
        OTP_REQUIRED = "otp_required", _("Code required")
        OTP_FAILED = "otp_failed", _("Code failed")
        BANNED = "banned", _("Banned")
        THROTTLED = "throttled", _("Throttled")

    ip = models.CharField(_("IP address or prefix"), max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    username = models.CharField(max_length=150, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jwt_attempts",
        # jwt_auth_attempt_user_window starts with the user: a second index
        # would only cost a write on every attempt.
        db_index=False,
    )
    user_agent = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["-created_at"]
        indexes = [
            # The sliding-window counts: per address, and per account.
            models.Index(
                fields=["ip", "kind", "outcome", "created_at"],
                name="jwt_auth_attempt_ip_window",
            ),
            models.Index(
                fields=["user", "kind", "outcome", "created_at"],
                name="jwt_auth_attempt_user_window",
            ),
            models.Index(fields=["created_at"], name="jwt_auth_attempt_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.outcome} from {self.ip}"


class Ban(models.Model):
    """An address or IPv6 prefix refused from ``created_at`` until it expires."""

    ip = models.CharField(_("IP address or prefix"), max_length=64)
    reason = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Empty means until lifted.")
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("ban")
        verbose_name_plural = _("bans")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["ip", "lifted_at"], name="jwt_auth_ban_ip")]

    def __str__(self) -> str:
        return self.ip

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.lifted_at is None and (
            self.expires_at is None or self.expires_at > now
        )


class AddressLock(models.Model):
    """A row per address, locked to serialise that address's registrations."""

    ip = models.CharField(max_length=64, primary_key=True)
    locked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("address lock")
        verbose_name_plural = _("address locks")

    def __str__(self) -> str:
        return self.ip


class Challenge(models.Model):
    """A one-time code sent to a user; only an HMAC of the code is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        indexes = [
            models.Index(fields=["user", "created_at"], name="jwt_auth_challenge_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.created_at:%Y-%m-%d %H:%M:%S}"
