"""IP protection: the attempt log, bans, and the sliding-window limits over it.

Deciding reads the attempt log and bans, which live in the database and are
exact. The cache only lets the common case skip queries, with the same rule
as session revocation: readers fill it with ``add``, writers overwrite it
with ``set`` once their change is committed, so a stale "all clear" never
outlives a ban or a failure.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from rest_framework.exceptions import Throttled

from .clientip import ClientAddress, address_key, get_client_address
from .conf import get_cache, jwt_settings
from .errors import IPBanned
from .models import AddressLock, Attempt, Ban, storable
from .signals import ban_lifted, ip_banned
from .throttling import throttle

logger = logging.getLogger(__name__)

NOT_BANNED = 0.0
UNTIL_LIFTED = math.inf
CLEAN = "clean"
DIRTY = "dirty"
FAILED_OUTCOMES = (Attempt.Outcome.FAILURE, Attempt.Outcome.OTP_FAILED)


def _ban_key(key: str) -> str:
    return f"jwt_auth:ban:{key}"


def _clean_ip_key(key: str) -> str:
    return f"jwt_auth:clean:ip:{key}"


def _clean_user_key(user_id: Any) -> str:
    return f"jwt_auth:clean:user:{user_id}"


def _seconds(duration: timedelta) -> int:
    return max(int(duration.total_seconds()), 1)


def _cache_call(method: str, *args: Any) -> Any:
    try:
        return getattr(get_cache(), method)(*args)
    except Exception:
        logger.warning("Protection cache unavailable; reading the database.")
        return None


# Screening a request -------------------------------------------------------


def screen(
    request: Any, kind: str, username: str = "", *, code_given: bool = False
) -> ClientAddress | None:
    """Refuse a request from an unknown, throttled or banned address.

    A login that carries a code also counts against the ``otp`` rate.
    Return the client's address, or ``None`` when protection is switched off.
    """
    if not jwt_settings.PROTECTION:
        return None
    address = get_client_address(request)
    try:
        throttle(request, kind, address.key)
        if code_given:
            throttle(request, "otp", address.key)
    except Throttled:
        record_refusal(address, kind, Attempt.Outcome.THROTTLED, request, username)
        raise
    expiry = ban_expiry(address.key)
    if expiry:
        record_refusal(address, kind, Attempt.Outcome.BANNED, request, username)
        raise IPBanned(wait=retry_after(expiry))
    return address


def throttle_address(request: Any, scope: str, *, count: bool = True) -> str | None:
    """Hold the client's address to ``scope``'s rate; return its key.

    ``None`` when protection is switched off. For endpoints that keep no
    attempt log; register and login go through ``screen``.
    """
    if not jwt_settings.PROTECTION:
        return None
    key = get_client_address(request).key
    throttle(request, scope, key, count=count)
    return key


def record_refusal(
    address: ClientAddress, kind: str, outcome: str, request: Any, username: str
) -> None:
    """Log a throttled or banned attempt: one row per address, kind, outcome
    and minute, so that a flood of refused requests is no flood of writes."""
    minute = int(timezone.now().timestamp() // 60)
    flag = f"jwt_auth:refused:{outcome}:{kind}:{address.key}:{minute}"
    if _cache_call("add", flag, 1, 60) is not False:
        record(address, kind, outcome, request=request, username=username)


def retry_after(expiry: float) -> int | None:
    if expiry == UNTIL_LIFTED:
        return None
    return max(math.ceil(expiry - timezone.now().timestamp()), 1)


def record(
    address: ClientAddress,
    kind: str,
    outcome: str,
    *,
    request: Any,
    username: str = "",
    user: Any = None,
) -> Attempt:
    """Write one row of the attempt log."""
    return Attempt.objects.create(
        ip=address.key,
        kind=kind,
        outcome=outcome,
        username=storable(username, 150),
        user=user,
        user_agent=storable(request.META.get("HTTP_USER_AGENT", ""), 255),
        created_at=timezone.now(),
    )


# Bans ----------------------------------------------------------------------


def ban_expiry(key: str) -> float:
    """Return when the ban on ``key`` ends: ``NOT_BANNED``, a timestamp, or
    ``UNTIL_LIFTED``."""
    now = timezone.now().timestamp()
    cached = _cache_call("get", _ban_key(key))
    if cached is not None:
        return cached if cached > now else NOT_BANNED

    expiry = _ban_expiry_from_db(key)
    timeout = _seconds(jwt_settings.SESSION_CACHE_TIMEOUT)
    if expiry not in (NOT_BANNED, UNTIL_LIFTED):
        timeout = min(timeout, max(math.ceil(expiry - now), 1))
    _cache_call("add", _ban_key(key), expiry, timeout)
    return expiry


def _ban_expiry_from_db(key: str) -> float:
    now = timezone.now()
    ends = list(
        Ban.objects.filter(ip=key, lifted_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("expires_at", flat=True)
    )
    if not ends:
        return NOT_BANNED
    if None in ends:
        return UNTIL_LIFTED
    return max(ends).timestamp()


def ban(key: str, *, reason: str, duration: timedelta | None) -> Ban:
    """Ban ``key`` for ``duration`` (``None``: until lifted)."""
    now = timezone.now()
    entry = Ban.objects.create(
        ip=key,
        reason=reason[:255],
        created_at=now,
        expires_at=now + duration if duration else None,
    )
    expiry = entry.expires_at.timestamp() if entry.expires_at else UNTIL_LIFTED
    timeout = _seconds(duration) if duration else None

    def announce() -> None:
        _cache_call("set", _ban_key(key), expiry, timeout)
        logger.warning("Address banned.", extra={"ip": key, "reason": reason})
        ip_banned.send(sender=Ban, ban=entry, reason=reason)

    transaction.on_commit(announce)
    return entry


def normalize_key(value: str) -> str:
    """Return the ban key for an address or a prefix as an operator types it."""
    if "/" in value:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    return address_key(value.strip())


def lift_bans(queryset: QuerySet, *, lifted_by: Any = None) -> int:
    """Lift the active bans in ``queryset``; return how many were lifted."""
    now = timezone.now()
    with transaction.atomic():
        keys = set(queryset.filter(lifted_at__isnull=True).values_list("ip", flat=True))
        lifted = queryset.filter(lifted_at__isnull=True).update(
            lifted_at=now, lifted_by=lifted_by
        )

        def announce() -> None:
            for key in keys:
                _cache_call(
                    "set",
                    _ban_key(key),
                    NOT_BANNED,
                    _seconds(jwt_settings.SESSION_CACHE_TIMEOUT),
                )
                logger.info("Ban lifted.", extra={"ip": key})
                ban_lifted.send(sender=Ban, ip=key, lifted_by=lifted_by)

        transaction.on_commit(announce)
    return lifted


# Registrations -------------------------------------------------------------


def lock_address(key: str) -> None:
    """Hold ``key``'s lock row until the current transaction ends.

    The first statement writes, so SQLite takes its write lock at once and
    PostgreSQL locks the row: concurrent registrations from one address
    queue here, and each sees the ones before it.
    """
    now = timezone.now()
    if AddressLock.objects.filter(ip=key).update(locked_at=now):
        return
    try:
        with transaction.atomic():
            AddressLock.objects.create(ip=key, locked_at=now)
    except IntegrityError:
        AddressLock.objects.filter(ip=key).update(locked_at=now)


def admit_registration(address: ClientAddress) -> None:
    """Lock the address and refuse it if it is banned; call inside a transaction."""
    lock_address(address.key)
    expiry = _ban_expiry_from_db(address.key)
    if expiry:
        raise IPBanned(wait=retry_after(expiry))


def registration_succeeded(address: ClientAddress, user: Any, *, request: Any) -> None:
    """Log a registration, and ban the address once it reaches the limit.

    Call under ``admit_registration``'s lock, in the same transaction.
    """
    record(
        address,
        Attempt.Kind.REGISTER,
        Attempt.Outcome.SUCCESS,
        request=request,
        username=user.get_username(),
        user=user,
    )
    now = timezone.now()
    since = now - jwt_settings.REGISTER_WINDOW
    last_lift = Ban.objects.filter(ip=address.key).aggregate(Max("lifted_at"))
    # Registrations before an operator lifted a ban do not count again.
    if last_lift["lifted_at__max"]:
        since = max(since, last_lift["lifted_at__max"])
    count = Attempt.objects.filter(
        ip=address.key,
        kind=Attempt.Kind.REGISTER,
        outcome=Attempt.Outcome.SUCCESS,
        created_at__gt=since,
    ).count()
    if count >= jwt_settings.REGISTER_LIMIT:
        ban(
            address.key,
            reason=f"{count} registrations within {jwt_settings.REGISTER_WINDOW}",
            duration=jwt_settings.REGISTER_BAN_DURATION,
        )


# Failed logins -------------------------------------------------------------


IN_FLIGHT_TIMEOUT = 60


def _in_flight_ip_key(key: str) -> str:
    return f"jwt_auth:in_flight:ip:{key}"


def _in_flight_user_key(user_id: Any) -> str:
    return f"jwt_auth:in_flight:user:{user_id}"


@contextmanager
def login_in_flight(
    address: ClientAddress | None, user: Any
) -> Iterator[tuple[int, int]]:
    """Count a login as undecided until its outcome is in the attempt log.

    Yield how many other logins from the same address, and to the same
    account, are undecided too. ``code_required`` counts them as failures
    to come, so a burst of parallel guesses gets no more answers than the
    limit allows: each guess is counted either here or in the log.
    """
    if address is None:
        yield (0, 0)
        return
    keys = [_in_flight_ip_key(address.key)]
    if user is not None:
        keys.append(_in_flight_user_key(user.pk))
    others = [_enter(key) for key in keys]
    try:
        yield (others[0], others[1] if len(others) > 1 else 0)
    finally:
        for key in keys:
            _cache_call("decr", key)


def _enter(key: str) -> int:
    _cache_call("add", key, 0, IN_FLIGHT_TIMEOUT)
    count = _cache_call("incr", key)
    # No count (the cache is down) is no evidence either way.
    return max(count - 1, 0) if isinstance(count, int) else 0


def code_required(
    address: ClientAddress, user: Any, in_flight: tuple[int, int] = (0, 0)
) -> bool:
    """Return whether a login from ``address`` to ``user`` must carry a code.

    It must once the address, or the account from anywhere, has had too
    many failed logins within its sliding window, counting the undecided
    logins of ``login_in_flight`` as failures.
    """
    if _over_limit(
        _clean_ip_key(address.key),
        {"ip": address.key},
        jwt_settings.LOGIN_FAILURE_LIMIT,
        jwt_settings.LOGIN_FAILURE_WINDOW,
        in_flight[0],
    ):
        return True
    if user is None or not jwt_settings.ACCOUNT_FAILURE_LIMIT:
        return False
    return _over_limit(
        _clean_user_key(user.pk),
        {"user": user},
        jwt_settings.ACCOUNT_FAILURE_LIMIT,
        jwt_settings.ACCOUNT_FAILURE_WINDOW,
        in_flight[1],
    )


def _over_limit(
    clean_key: str,
    owner: dict[str, Any],
    limit: int,
    window: timedelta,
    pending: int,
) -> bool:
    if pending >= limit:
        return True
    # The all-clear answers most logins, so it is read before any query is
    # built: building one costs more than the cache lookup.
    if _cache_call("get", clean_key) == CLEAN:
        return False
    since: datetime = timezone.now() - window
    recent = Attempt.objects.filter(
        **owner,
        kind=Attempt.Kind.LOGIN,
        outcome__in=FAILED_OUTCOMES,
        created_at__gt=since,
    )
    # Counting stops at the limit, so a flood of failures costs no more; no
    # ordering, so the index range is read as it lies, not sorted first.
    count = len(recent.order_by().values_list("pk", flat=True)[: limit - pending])
    if count == 0:
        _cache_call("add", clean_key, CLEAN, _seconds(window))
    return count + pending >= limit


def login_failed(
    address: ClientAddress,
    outcome: str,
    *,
    request: Any,
    username: str,
    user: Any = None,
) -> None:
    """Log a failed login; the address and account lose their all-clear."""
    keys = [_clean_ip_key(address.key)]
    windows = [jwt_settings.LOGIN_FAILURE_WINDOW]
    if user is not None:
        keys.append(_clean_user_key(user.pk))
        windows.append(jwt_settings.ACCOUNT_FAILURE_WINDOW)

    def mark_dirty() -> None:
        for key, window in zip(keys, windows, strict=True):
            _cache_call("set", key, DIRTY, _seconds(window))

    # Marked before the write as well as after it, so a crash in between
    # leaves the cache cautious rather than stale.
    mark_dirty()
    record(
        address,
        Attempt.Kind.LOGIN,
        outcome,
        request=request,
        username=username,
        user=user,
    )
    transaction.on_commit(mark_dirty)
