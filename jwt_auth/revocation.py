"""The per-request check that an access token's session is still live.

The database is the source of truth. The cache (``JWT_AUTH["CACHE"]``) holds
each session's state and its user's fields so that a request needs no query.
It keeps the next-request promise because the two writers never race it
into a stale state:

* a request that read the database fills the cache with ``add``, which never
  overwrites an entry that is already there;
* a revocation, after its transaction commits, writes a ``REVOKED`` marker
  with ``set``, which replaces whatever a fill put there.

Whichever order they run in, the marker wins. Every process that shares the
cache sees it; processes that each have their own cache (``LocMemCache``)
do not, which is why the system checks warn about such a cache.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import router
from django.utils import timezone

from .conf import get_cache, jwt_settings
from .errors import ServiceUnavailable, TokenInvalid, TokenRevoked
from .models import Session

logger = logging.getLogger(__name__)

REVOKED = "revoked"
# A marker only has to outlast the access tokens it stops; this margin covers
# a token signed just before the revocation committed.
_MARKER_MARGIN = timedelta(minutes=1)


def session_key(session_id: Any) -> str:
    return f"jwt_auth:session:{session_id}"


def user_key(user_id: Any) -> str:
    return f"jwt_auth:user:{user_id}"


@functools.cache
def _cached_fields(model: type) -> tuple[str, ...]:
    # The password hash never leaves the database: it is left deferred, so
    # a view that saves the cached user cannot overwrite it either.
    return tuple(
        f.attname for f in model._meta.concrete_fields if f.attname != "password"
    )


def _user_fields() -> tuple[str, ...]:
    return _cached_fields(get_user_model())


def _user_from_values(values: tuple) -> Any:
    model = get_user_model()
    return model.from_db(router.db_for_read(model), _cached_fields(model), values)


def _user_values(user: Any) -> tuple:
    return tuple(getattr(user, name) for name in _user_fields())


def _marker_timeout() -> int:
    lifetime = jwt_settings.ACCESS_TOKEN_LIFETIME + jwt_settings.LEEWAY
    return int((lifetime + _MARKER_MARGIN).total_seconds())


def get_session_user(session_id: str, user_id: str) -> Any:
    """Return the user of a live session, or raise ``TokenRevoked``."""
    skey, ukey = session_key(session_id), user_key(user_id)
    try:
        cached = get_cache().get_many([skey, ukey])
    except Exception:
        logger.warning("Session cache unavailable; reading the database.")
        cached = {}

    state, values = cached.get(skey), cached.get(ukey)
    if state == REVOKED:
        raise TokenRevoked()
    if state is not None and values is not None:
        owner, expires_at = state
        if owner != user_id:
            raise TokenInvalid()
        if expires_at <= timezone.now().timestamp():
            raise TokenRevoked()
        return _user_from_values(values)
    return _load_session_user(session_id, user_id)


def _load_session_user(session_id: str, user_id: str) -> Any:
    try:
        uuid.UUID(session_id)
    except (TypeError, ValueError, AttributeError):
        raise TokenInvalid() from None

    session = Session.objects.select_related("user").filter(pk=session_id).first()
    if session is None:
        # A deleted session is as good as revoked.
        raise TokenRevoked()
    if str(session.user_id) != user_id:
        raise TokenInvalid()

    now = timezone.now()
    user = session.user
    if not session.is_active(now) or not user.is_active:
        _cache_add({session_key(session_id): REVOKED}, _marker_timeout())
        raise TokenRevoked()

    remaining = (session.expires_at - now).total_seconds()
    timeout = int(min(jwt_settings.SESSION_CACHE_TIMEOUT.total_seconds(), remaining))
    _cache_add(
        {
            session_key(session_id): (user_id, session.expires_at.timestamp()),
            user_key(user_id): _user_values(user),
        },
        max(timeout, 1),
    )
    return user


def _cache_add(entries: dict[str, Any], timeout: int) -> None:
    try:
        cache = get_cache()
        for key, value in entries.items():
            cache.add(key, value, timeout)
    except Exception:
        logger.warning("Session cache unavailable; state not cached.")


def mark_revoked(session_ids: Iterable[Any], *, strict: bool = False) -> None:
    """Record in the cache that these sessions are revoked.

    With ``strict``, a cache that cannot be written raises
    ``ServiceUnavailable``, so the caller can abandon the revocation rather
    than leave a "live" entry behind to outlast it.
    """
    entries = {session_key(sid): REVOKED for sid in session_ids}
    if not entries:
        return
    try:
        get_cache().set_many(entries, _marker_timeout())
    except Exception:
        logger.error(
            "Session cache unavailable; revoked sessions not marked.",
            extra={"session_count": len(entries)},
        )
        if strict:
            raise ServiceUnavailable() from None


def refresh_user(user_id: Any) -> None:
    """Replace the cached fields of a user with what the database holds now."""
    model = get_user_model()
    user = model._default_manager.only(*_user_fields()).filter(pk=user_id).first()
    try:
        if user is None:
            get_cache().delete(user_key(user_id))
        else:
            get_cache().set(
                user_key(user_id),
                _user_values(user),
                int(jwt_settings.SESSION_CACHE_TIMEOUT.total_seconds()),
            )
    except Exception:
        logger.error("Session cache unavailable; cached user fields may be stale.")
