"""Signals a project can connect to, to alert on or audit security events."""

from django.dispatch import Signal

# Sent with ``user`` and ``request`` when an account is created through the API.
user_registered = Signal()

# Sent with ``session_ids``, ``user_id`` and ``reason`` after sessions are revoked.
sessions_revoked = Signal()

# Sent with ``session`` and ``user`` when a spent refresh token is presented
# again; the session has already been revoked when receivers run.
refresh_token_reused = Signal()
