"""Middleware that extends the app's address bans to every view of the site."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from .clientip import address_key, get_client_ip
from .conf import jwt_settings
from .errors import IPBanned, error_body
from .protection import UNTIL_LIFTED, ban_expiry, retry_after


class BanMiddleware:
    """Answer every request from a banned address with 403 ``ip_banned``.

    A request whose address cannot be determined passes through here; the
    app's own endpoints refuse it, and other views decide for themselves.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        if jwt_settings.PROTECTION:
            ip = get_client_ip(request)
            expiry = ban_expiry(address_key(ip)) if ip else 0
            if expiry:
                exc = IPBanned(wait=retry_after(expiry))
                response = JsonResponse(error_body(exc), status=exc.status_code)
                if expiry != UNTIL_LIFTED:
                    response["Retry-After"] = str(exc.wait)
                return response
        return self.get_response(request)
