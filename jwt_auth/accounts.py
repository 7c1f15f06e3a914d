"""Accounts: registration, login with its protection, password changes."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model, user_logged_in, user_login_failed
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from . import otp as codes
from . import protection
from .clientip import ClientAddress
from .errors import InvalidCredentials, InvalidOTP, IPBanned, OTPRequired
from .models import Attempt, Session
from .sessions import IssuedTokens, revoke_user_sessions, start_session
from .signals import login_failed, otp_required, user_registered

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


# Registration --------------------------------------------------------------


def register(
    *,
    username: str,
    email: str,
    password: str,
    request: Any,
    address: ClientAddress | None = None,
) -> tuple[Any, IssuedTokens]:
    """Create an account and its first session, both or neither.

    With an ``address``, registrations from it are serialised, counted and
    banned at the limit, all in the same transaction as the account.
    """
    try:
        with transaction.atomic():
            if address is not None:
                protection.admit_registration(address)
            user = _create_user(username, email, password)
            issued = start_session(user, user_agent=_user_agent(request))
            if address is not None:
                protection.registration_succeeded(address, user, request=request)
    except IPBanned:
        protection.record_refusal(
            address, Attempt.Kind.REGISTER, Attempt.Outcome.BANNED, request, username
        )
        raise

    logger.info("User registered.", extra={"user_id": user.pk})
    user_registered.send(sender=user.__class__, user=user, request=request)
    return user, issued


def _create_user(username: str, email: str, password: str) -> Any:
    model = get_user_model()
    manager = model._default_manager
    username_field, email_field = model.USERNAME_FIELD, model.get_email_field_name()

    # A username may look like an address: it must not be another account's
    # e-mail, nor an e-mail another's username, or logging in by one would
    # find the other.
    errors = {}
    if manager.filter(
        _lookup(username_field, username) | _lookup(email_field, username)
    ).exists():
        errors["username"] = [USERNAME_TAKEN]
    if manager.filter(
        _lookup(email_field, email) | _lookup(username_field, email)
    ).exists():
        errors["email"] = [EMAIL_TAKEN]
    if errors:
        raise ValidationError(errors)

    try:
        with transaction.atomic():
            return manager.create_user(
                **{username_field: username, email_field: email}, password=password
            )
    except IntegrityError:
        # Another request took the name between the check above and this
        # insert; the unique constraints caught it.
        raise ValidationError({"username": [USERNAME_TAKEN]}) from None


# Login ---------------------------------------------------------------------


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


def password_matches(user: Any | None, password: str) -> bool:
    """Return whether ``user`` is active and ``password`` is theirs.

    An unknown user, a wrong password and an inactive account look the
    same from outside, in the answer and in the time it takes: the password
    hasher runs in every case.
    """
    if user is None or not user.has_usable_password():
        make_password(password)
        return False
    return user.check_password(password) and user.is_active


def login(
    *,
    username: str,
    password: str,
    otp: str | None = None,
    request: Any,
    address: ClientAddress | None = None,
) -> tuple[Any, IssuedTokens]:
    """Check a login and return its user and tokens.

    ``address`` is the client's, as ``protection.screen`` admitted it, or
    ``None`` when protection is off. Once a code is required, every failure
    answers alike, whether the password or the code was wrong, so the code
    step is no password oracle.
    """
    user = find_user(username)
    with protection.login_in_flight(address, user) as in_flight:
        correct = password_matches(user, password)
        if address is not None and protection.code_required(address, user, in_flight):
            _check_code(address, username, user, correct, otp, request)
        elif not correct:
            _failed(address, username, user, request)
            raise InvalidCredentials()

        issued = _succeeded(address, username, user, request)
        if issued is None:
            # The password changed while this login was being checked.
            _failed(address, username, user, request)
            raise InvalidCredentials()
    return user, issued


def _check_code(
    address: ClientAddress,
    username: str,
    user: Any | None,
    correct: bool,
    otp: str | None,
    request: Any,
) -> None:
    """Pass a login that needs a code and carries the right one; else raise."""
    if otp is None:
        _code_requested(address, username, user, correct, request)
        raise OTPRequired()
    if not correct:
        _failed(address, username, user, request)
        raise InvalidOTP()
    if not codes.check_code(user, otp):
        _failed(address, username, user, request, Attempt.Outcome.OTP_FAILED)
        raise InvalidOTP()


def _code_requested(
    address: ClientAddress,
    username: str,
    user: Any | None,
    correct: bool,
    request: Any,
) -> None:
    # Only the password's owner gets a code: nobody can flood an inbox
    # without knowing the password.
    if correct:
        codes.issue_challenge(user, request=request)
        protection.record(
            address,
            Attempt.Kind.LOGIN,
            Attempt.Outcome.OTP_REQUIRED,
            request=request,
            username=username,
            user=user,
        )
    else:
        _failed(address, username, user, request)
    logger.info("Login needs a code.", extra={"ip": address.key})
    otp_required.send(
        sender=__name__, request=request, username=username, address=address
    )


def _failed(
    address: ClientAddress | None,
    username: str,
    user: Any | None,
    request: Any,
    outcome: str = Attempt.Outcome.FAILURE,
) -> None:
    if address is not None:
        protection.login_failed(
            address, outcome, request=request, username=username, user=user
        )
    user_login_failed.send(
        sender=__name__, credentials={"username": username}, request=request
    )
    login_failed.send(
        sender=__name__,
        request=request,
        username=username,
        user=user,
        address=address,
    )
    logger.info(
        "Login failed.",
        extra={"username": username[:150], "ip": address.key if address else None},
    )


def _succeeded(
    address: ClientAddress | None, username: str, user: Any, request: Any
) -> IssuedTokens | None:
    """Open the session of a login that checked out; ``None`` if it is stale.

    The user's row is read again, locked, after the session is written: a
    password change or a deactivation that committed while the password
    was being hashed wins, and one that comes later finds this session and
    revokes it.
    """
    with transaction.atomic():
        issued = start_session(user, user_agent=_user_agent(request))
        if _credentials_now(user) != (user.password, True):
            transaction.set_rollback(True)
            return None
        if address is not None:
            protection.record(
                address,
                Attempt.Kind.LOGIN,
                Attempt.Outcome.SUCCESS,
                request=request,
                username=username,
                user=user,
            )
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    logger.info(
        "Login succeeded.",
        extra={"user_id": user.pk, "ip": address.key if address else None},
    )
    return issued


def _credentials_now(user: Any) -> tuple[str, bool] | None:
    # FOR NO KEY UPDATE where the database has it: the session just written
    # holds a key-share lock on the same row, which this does not conflict
    # with, so two logins of one user queue instead of deadlocking.
    no_key = connection.features.has_select_for_no_key_update
    return (
        get_user_model()
        ._default_manager.select_for_update(no_key=no_key)
        .filter(pk=user.pk)
        .values_list("password", "is_active")
        .first()
    )


# Password changes ----------------------------------------------------------


def change_password(
    user: Any,
    *,
    old_password: str,
    new_password: str,
    request: Any,
    address: ClientAddress | None = None,
) -> IssuedTokens:
    """Set a new password, revoke every session, and open a fresh one.

    A wrong old password counts as a failed login from ``address``: a stolen
    access token must not buy unlimited guesses at the password.
    """
    model = get_user_model()
    with transaction.atomic():
        current = model._default_manager.select_for_update().get(pk=user.pk)
        correct = current.check_password(old_password)
        if correct:
            current.set_password(new_password)
            current.save(update_fields=["password"])
            revoke_user_sessions(current, Session.RevokeReason.PASSWORD_CHANGE)
            issued = start_session(current, user_agent=_user_agent(request))

    if not correct:
        _failed(address, current.get_username(), current, request)
        raise ValidationError({"old_password": [WRONG_PASSWORD]})
    logger.info("Password changed.", extra={"user_id": current.pk})
    return issued
