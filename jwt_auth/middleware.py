"""Middleware that extends the app's address bans to every view of the site."""

from __future__ import annotations

from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from .clientip import address_key, get_client_ip
from .conf import jwt_settings
from .errors import IPBanned, ServiceUnavailable, error_body
from .protection import UNTIL_LIFTED, ban_expiry, retry_after


class BanMiddleware:
    """Answer every request from a banned address with 403 ``ip_banned``.

    Views that screen for bans themselves (``screens_bans = True``: the
    app's register and login) are let through, so their refusals are
    written to the attempt log. A request whose address cannot be
    determined passes too; the app's own endpoints refuse it, and other
    views decide for themselves.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self.refuse(request) if jwt_settings.PROTECTION else None
        return refusal or self.get_response(request)

    def refuse(self, request: HttpRequest) -> HttpResponse | None:
        """Return the answer for a banned address, or ``None`` to go on."""
        if _screens_bans(request):
            return None

        ip = get_client_ip(request)
        try:
            expiry = ban_expiry(address_key(ip)) if ip else 0
        except (OperationalError, InterfaceError):
            exc = ServiceUnavailable()
            return JsonResponse(error_body(exc), status=exc.status_code)
        if not expiry:
            return None

        exc = IPBanned(wait=retry_after(expiry))
        response = JsonResponse(error_body(exc), status=exc.status_code)
        if expiry != UNTIL_LIFTED:
            response["Retry-After"] = str(exc.wait)
        return response


def _screens_bans(request: HttpRequest) -> bool:
    # Resolved here rather than in process_view, so a banned address is
    # refused on paths that match no view as well.
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return getattr(getattr(match.func, "view_class", None), "screens_bans", False)
