"""Sessions and their refresh tokens: start, rotate, detect reuse, revoke."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .conf import jwt_settings
from .errors import InvalidGrant
from .models import RefreshToken, Session, storable
from .revocation import mark_revoked
from .signals import refresh_token_reused, sessions_revoked
from .tokens import make_access_token

logger = logging.getLogger(__name__)

# 32 bytes from the CSPRNG: 256 bits, 43 URL-safe characters.
REFRESH_TOKEN_BYTES = 32
MAX_REFRESH_TOKEN_LENGTH = 256


@dataclass(frozen=True)
class IssuedTokens:
    """A fresh access token and refresh token for one session."""

    access_token: str
    expires_in: int
    refresh_token: str
    session: Session

    def as_response(self) -> dict[str, Any]:
        """Return the OAuth 2 token response body (RFC 6749, section 5.1)."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
        }


def hash_refresh_token(raw: str) -> str:
    """Return the stored form of a refresh token.

    A refresh token carries 256 random bits, so one SHA-256 is enough: there
    is nothing to guess that a slow hash would protect.
    """
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _issue(session: Session, now) -> IssuedTokens:
    raw = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    RefreshToken.objects.create(
        session=session,
        token_hash=hash_refresh_token(raw),
        created_at=now,
        expires_at=min(now + jwt_settings.REFRESH_TOKEN_LIFETIME, session.expires_at),
    )
    access, expires_in = make_access_token(
        user_id=session.user_id,
        session_id=session.pk,
        session_expires_at=session.expires_at,
    )
    return IssuedTokens(access, expires_in, raw, session)


def start_session(user: Any, *, user_agent: str = "") -> IssuedTokens:
    """Open a session for ``user`` and return its first pair of tokens."""
    now = timezone.now()
    with transaction.atomic():
        session = Session.objects.create(
            user=user,
            created_at=now,
            last_used_at=now,
            expires_at=now + jwt_settings.SESSION_LIFETIME,
            user_agent=storable(user_agent or "", 255),
        )
        return _issue(session, now)


def rotate_refresh_token(raw: str) -> IssuedTokens:
    """Spend ``raw`` and return the next pair of tokens in its session.

    Exactly one caller can spend a token: the conditional UPDATE is the only
    test, so parallel refreshes of one token produce one winner on any
    database. A token presented after it was spent revokes its session.
    """
    token_hash = hash_refresh_token(raw)
    now = timezone.now()

    with transaction.atomic():
        # Write first: on SQLite this takes the write lock before any read,
        # so a concurrent refresh waits instead of failing to upgrade.
        won = RefreshToken.objects.filter(
            token_hash=token_hash, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if won:
            session = Session.objects.select_related("user").get(
                refresh_tokens__token_hash=token_hash
            )
            if not session.is_active(now) or not session.user.is_active:
                raise InvalidGrant()
            Session.objects.filter(pk=session.pk).update(last_used_at=now)
            return _issue(session, now)

    _handle_unusable(token_hash, now)
    raise InvalidGrant()


def _handle_unusable(token_hash: str, now) -> None:
    token = (
        RefreshToken.objects.select_related("session", "session__user")
        .filter(token_hash=token_hash)
        .first()
    )
    if token is None or token.used_at is None or token.session.revoked_at:
        return  # Unknown, expired, or its session is already revoked.

    grace = jwt_settings.REFRESH_TOKEN_REUSE_GRACE
    if grace and now - token.used_at <= grace:
        return  # A client racing itself; the loser simply gets no tokens.

    session = token.session
    # Not strict: a thief's refresh token must die even while the cache is
    # down; the session's access tokens then end at expiry at the latest.
    revoked = revoke_sessions(
        Session.objects.filter(pk=session.pk),
        Session.RevokeReason.REUSE_DETECTED,
        strict=False,
    )
    if revoked:
        logger.warning(
            "Refresh token reused; session revoked.",
            extra={"user_id": session.user_id, "session_id": str(session.pk)},
        )
        refresh_token_reused.send(sender=Session, session=session, user=session.user)


def revoke_sessions(
    queryset: QuerySet, reason: str, *, strict: bool = True
) -> list[Any]:
    """Revoke the live sessions in ``queryset``; return the ids revoked.

    Their access tokens fail from the next request on, in every process that
    shares the cache. With ``strict``, the cache is marked before the
    transaction commits, and a cache that cannot be written abandons the
    revocation with ``ServiceUnavailable``: a revocation the cache missed
    could be undone by a stale entry when the cache comes back.
    """
    now = timezone.now()
    with transaction.atomic():
        # Update first, then read back what this update touched, so a session
        # opened meanwhile is either revoked and marked, or left alone.
        queryset.filter(revoked_at__isnull=True).update(
            revoked_at=now, revoke_reason=reason
        )
        revoked = list(
            queryset.filter(revoked_at=now, revoke_reason=reason).values_list(
                "pk", "user_id"
            )
        )
        ids = [pk for pk, _ in revoked]
        if strict:
            mark_revoked(ids, strict=True)
        # Again once committed: a request that read the session as live just
        # before the commit may have cached it since the first mark.
        transaction.on_commit(lambda: mark_revoked(ids))

    for user_id in {user_id for _, user_id in revoked}:
        user_ids = [pk for pk, owner in revoked if owner == user_id]
        logger.info(
            "Sessions revoked.",
            extra={
                "user_id": user_id,
                "reason": reason,
                "session_count": len(user_ids),
            },
        )
        sessions_revoked.send(
            sender=Session, session_ids=user_ids, user_id=user_id, reason=reason
        )
    return ids


def revoke_user_sessions(user: Any, reason: str) -> list[Any]:
    """Revoke every live session of ``user``."""
    return revoke_sessions(Session.objects.filter(user=user), reason)


def revoke_refresh_token(raw: str, reason: str = Session.RevokeReason.LOGOUT) -> bool:
    """Revoke the session ``raw`` belongs to; return whether there was one.

    The token may be spent already: logging out with a stale token still
    ends the session (RFC 7009 asks that revocation be this forgiving).
    """
    if len(raw) > MAX_REFRESH_TOKEN_LENGTH:
        return False
    sessions = Session.objects.filter(
        refresh_tokens__token_hash=hash_refresh_token(raw)
    )
    return bool(revoke_sessions(sessions, reason))
