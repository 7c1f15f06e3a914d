"""Keep the session cache true when users and sessions change elsewhere."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .models import Session
from .revocation import mark_revoked, refresh_user
from .sessions import revoke_sessions

# Fields whose change does not alter what a request may do.
_HARMLESS_FIELDS = frozenset({"last_login"})


def user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Revoke a deactivated user's sessions; refresh a changed user's cache."""
    if created:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields and set(update_fields) <= _HARMLESS_FIELDS:
        return
    if not instance.is_active:
        revoke_sessions(
            Session.objects.filter(user=instance),
            Session.RevokeReason.DEACTIVATED,
            strict=False,
        )
    user_id = instance.pk
    transaction.on_commit(lambda: refresh_user(user_id))


def session_deleted(sender: Any, instance: Session, **kwargs: Any) -> None:
    """A deleted session, with its user or alone, is revoked from then on."""
    session_id = instance.pk
    transaction.on_commit(lambda: mark_revoked([session_id]))


def connect() -> None:
    post_save.connect(user_saved, sender=get_user_model(), dispatch_uid="jwt_auth")
    post_delete.connect(session_deleted, sender=Session, dispatch_uid="jwt_auth")
