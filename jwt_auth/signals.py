"""Signals a project can connect to, to alert on or audit security events."""

from django.dispatch import Signal

# Sent with ``user`` and ``request`` when an account is created through the API.
user_registered = Signal()

# Sent with ``session_ids``, ``user_id`` and ``reason`` after sessions are revoked.
sessions_revoked = Signal()

# Sent with ``session`` and ``user`` when a spent refresh token is presented
# again; the session has already been revoked when receivers run.
refresh_token_reused = Signal()

# Sent with ``request``, ``username``, ``user`` (None when unknown) and
# ``address`` after a login fails.
login_failed = Signal()

# Sent with ``request``, ``username`` and ``address`` when a login is answered
# with otp_required.
otp_required = Signal()

# Sent with ``ban`` and ``reason`` when an address is banned.
ip_banned = Signal()

# Sent with ``ip`` and ``lifted_by`` (a user or None) when bans are lifted.
ban_lifted = Signal()
