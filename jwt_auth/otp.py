"""One-time codes: make, deliver, and check a challenge's code."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from .conf import jwt_settings
from .models import Challenge

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A code could not be delivered to its user."""


def make_code() -> str:
    """Return a fresh code of ``OTP_LENGTH`` digits from the CSPRNG."""
    length = jwt_settings.OTP_LENGTH
    return f"{secrets.randbelow(10**length):0{length}d}"


def hash_code(user_id: Any, code: str) -> str:
    """Return the stored form of a code.

    A six-digit code is a million guesses away, so a plain hash of it would
    fall to anyone who reads the table; a keyed HMAC does not.
    """
    return salted_hmac(
        "jwt_auth.otp", f"{user_id}:{code}", algorithm="sha256"
    ).hexdigest()


def send_code_by_email(*, user: Any, code: str, request: Any = None) -> None:
    """Deliver ``code`` to the user's e-mail address (the default sender)."""
    address = getattr(user, user.get_email_field_name(), "")
    if not address:
        raise DeliveryError("The account has no e-mail address.")
    minutes = int(jwt_settings.OTP_TTL.total_seconds() // 60) or 1
    send_mail(
        subject=_("Your sign-in code"),
        message=_(
            "Your sign-in code is %(code)s. It expires in %(minutes)d minutes.\n\n"
            "If you did not just try to sign in, someone else knows your "
            "password: change it now."
        )
        % {"code": code, "minutes": minutes},
        from_email=None,
        recipient_list=[address],
    )


def issue_challenge(user: Any, *, request: Any = None) -> None:
    """Send ``user`` a new code, unless one was sent within the cooldown.

    Delivery failures are logged, never shown: the client's answer is the
    same whether or not a code went out.
    """
    now = timezone.now()
    unused = Challenge.objects.filter(user=user, used_at__isnull=True)
    # The cooldown counts codes that were guessed to death as well: else
    # five wrong guesses would buy a fresh code, and five more guesses, at
    # once. Only a code that signed someone in makes way for a new one.
    if unused.filter(created_at__gt=now - jwt_settings.OTP_RESEND_COOLDOWN).exists():
        return
    live = unused.filter(expires_at__gt=now, attempts__lt=jwt_settings.OTP_MAX_ATTEMPTS)

    code = make_code()
    # Only the newest code counts: earlier ones end here.
    live.update(expires_at=now)
    Challenge.objects.create(
        user=user,
        code_hash=hash_code(user.pk, code),
        created_at=now,
        expires_at=now + jwt_settings.OTP_TTL,
    )
    try:
        jwt_settings.OTP_SENDER(user=user, code=code, request=request)
    except Exception as exc:
        logger.error(
            "Sign-in code not delivered: %s.",
            type(exc).__name__,
            extra={"user_id": user.pk},
        )


def check_code(user: Any, code: str) -> bool:
    """Return whether ``code`` is the user's live code, and spend it if so.

    Each guess is counted by a conditional UPDATE before the comparison, so
    the attempt cap holds across processes; a right guess is spent the same
    way, so a code works once.
    """
    now = timezone.now()
    challenge = (
        Challenge.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if challenge is None:
        return False

    counted = Challenge.objects.filter(
        pk=challenge.pk,
        used_at__isnull=True,
        attempts__lt=jwt_settings.OTP_MAX_ATTEMPTS,
    ).update(attempts=F("attempts") + 1)
    if not counted:
        return False
    if not constant_time_compare(challenge.code_hash, hash_code(user.pk, code)):
        return False
    return bool(
        Challenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(
            used_at=now
        )
    )
