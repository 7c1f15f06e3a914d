"""Accounts: registration, the credential check at login, password changes."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model, user_logged_in, user_login_failed
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from .models import Session
from .sessions import IssuedTokens, revoke_user_sessions, start_session
from .signals import user_registered

logger = logging.getLogger(__name__)

USERNAME_TAKEN = _("A user with that username already exists.")
EMAIL_TAKEN = _("A user with that email address already exists.")
WRONG_PASSWORD = _("The password is incorrect.")


def user_data(user: Any) -> dict[str, Any]:
    """Return the public representation of ``user``."""
    return {
        "id": user.pk,
        "username": user.get_username(),
        "email": getattr(user, user.get_email_field_name(), "") or "",
    }


def _user_agent(request: Any) -> str:
    return request.META.get("HTTP_USER_AGENT", "")


def _lookup(field: str, value: str) -> Q:
    return Q(**{f"{field}__iexact": value})


def register(
    *, username: str, email: str, password: str, request: Any
) -> tuple[Any, IssuedTokens]:
    """Create an account and its first session, both or neither."""
    model = get_user_model()
    manager = model._default_manager
    username_field, email_field = model.USERNAME_FIELD, model.get_email_field_name()

    errors = {}
    if manager.filter(_lookup(username_field, username)).exists():
        errors["username"] = [USERNAME_TAKEN]
    if manager.filter(_lookup(email_field, email)).exists():
        errors["email"] = [EMAIL_TAKEN]
    if errors:
        raise ValidationError(errors)

    try:
        with transaction.atomic():
            user = manager.create_user(
                **{username_field: username, email_field: email}, password=password
            )
            issued = start_session(user, user_agent=_user_agent(request))
    except IntegrityError:
        # Another request registered the same name between the check above
        # and this insert; the unique constraints caught it.
        raise ValidationError({"username": [USERNAME_TAKEN]}) from None

    logger.info("User registered.", extra={"user_id": user.pk})
    user_registered.send(sender=user.__class__, user=user, request=request)
    return user, issued


def find_user(identifier: str) -> Any | None:
    """Return the one user whose username or e-mail is ``identifier``.

    Both match case-insensitively. Where that is ambiguous (a user model
    that allows "Bob" and "bob"), an exact username match wins; otherwise
    nobody matches, rather than the wrong account.
    """
    model = get_user_model()
    username_field, email_field = model.USERNAME_FIELD, model.get_email_field_name()
    query = _lookup(username_field, identifier)
    if "@" in identifier:
        query |= _lookup(email_field, identifier)

    candidates = list(model._default_manager.filter(query)[:10])
    if len(candidates) == 1:
        return candidates[0]
    exact = [u for u in candidates if u.get_username() == identifier]
    return exact[0] if len(exact) == 1 else None


def check_credentials(identifier: str, password: str) -> Any | None:
    """Return the active user these credentials belong to, else ``None``.

    An unknown user, a wrong password and an inactive account look the
    same from outside, in the answer and in the time it takes: the password
    hasher runs in every case.
    """
    user = find_user(identifier)
    if user is None or not user.has_usable_password():
        make_password(password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def login_succeeded(user: Any, *, request: Any) -> IssuedTokens:
    """Start a session for a user whose credentials checked out."""
    issued = start_session(user, user_agent=_user_agent(request))
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    logger.info("Login succeeded.", extra={"user_id": user.pk})
    return issued


def login_failed(identifier: str, *, request: Any) -> None:
    """Record a failed login, for the log and for listeners such as auditors."""
    user_login_failed.send(
        sender=__name__, credentials={"username": identifier}, request=request
    )
    logger.info("Login failed.", extra={"username": identifier[:150]})


def change_password(
    user: Any, *, old_password: str, new_password: str, request: Any
) -> IssuedTokens:
    """Set a new password, revoke every session, and open a fresh one."""
    model = get_user_model()
    with transaction.atomic():
        current = model._default_manager.select_for_update().get(pk=user.pk)
        if not current.check_password(old_password):
            raise ValidationError({"old_password": [WRONG_PASSWORD]})
        current.set_password(new_password)
        current.save(update_fields=["password"])
        revoke_user_sessions(current, Session.RevokeReason.PASSWORD_CHANGE)
        issued = start_session(current, user_agent=_user_agent(request))

    logger.info("Password changed.", extra={"user_id": current.pk})
    return issued
