"""Coarse per-address request rates on the auth endpoints, by django-ratelimit.

These are fixed windows, cheap and approximate: a burst at a window's edge
can pass up to twice the rate. The exact limits (bans, codes after failed
logins) are sliding windows over the attempt log, in ``protection``.
"""

from __future__ import annotations

import logging
from typing import Any

from django_ratelimit.core import get_usage
from rest_framework.exceptions import Throttled

from .conf import DEFAULTS, jwt_settings

logger = logging.getLogger(__name__)


def _rate(scope: str) -> str | None:
    # A scope left out of the setting keeps its default; only an explicit
    # None switches it off, so naming one rate cannot drop the others.
    rates = jwt_settings.THROTTLE_RATES
    return rates[scope] if scope in rates else DEFAULTS["THROTTLE_RATES"].get(scope)


def throttle(request: Any, scope: str, key: str, *, count: bool = True) -> None:
    """Count this request against ``scope``'s rate; raise ``Throttled`` past it.

    With ``count=False`` the rate is only checked: the caller counts just
    the requests that deserve it, such as failures.

    A cache that cannot be reached lets the request through: these rates
    are a first line only, and the attempt log still holds the exact limits.
    """
    rate = _rate(scope)
    if not rate:
        return
    try:
        usage = get_usage(
            request,
            group=f"jwt_auth.{scope}",
            key=lambda group, request: key,
            rate=rate,
            increment=count,
        )
    except Exception:
        logger.warning("Rate-limit cache unavailable; %s not throttled.", scope)
        return
    if usage and usage["should_limit"]:
        raise Throttled(wait=max(usage["time_left"], 1))
