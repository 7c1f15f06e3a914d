"""Delete attempts, ended sessions and spent challenges past retention, in batches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q, QuerySet
from django.utils import timezone

from jwt_auth.conf import jwt_settings
from jwt_auth.models import Attempt, Challenge, RefreshToken, Session


class Command(BaseCommand):
    help = (
        "Delete attempt-log rows, ended sessions with their refresh tokens, and "
        "expired or used challenges older than JWT_AUTH['ATTEMPT_RETENTION']."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            help="Keep this many days instead of the configured retention.",
        )
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: Any, days: int | None, batch_size: int, **options: Any):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if days is not None and days < 0:
            raise CommandError("--days must not be negative.")
        retention = (
            timedelta(days=days) if days is not None else jwt_settings.ATTEMPT_RETENTION
        )
        cutoff = timezone.now() - retention

        self.prune_attempts(cutoff, batch_size)
        self.prune_sessions(cutoff, batch_size)
        self.prune_challenges(cutoff, batch_size)

    def prune_attempts(self, cutoff: datetime, batch_size: int) -> None:
        """Delete the attempts made before ``cutoff``."""
        old = Attempt.objects.filter(created_at__lt=cutoff)
        deleted = 0
        for counts in delete_in_batches(old, batch_size):
            deleted += counts.get(Attempt._meta.label, 0)
            self.stdout.write(
                f"Deleted {deleted} attempts older than {cutoff:%Y-%m-%d %H:%M}."
            )
        self.stdout.write(self.style.SUCCESS(f"Done: {deleted} attempts deleted."))

    def prune_sessions(self, cutoff: datetime, batch_size: int) -> None:
        """Delete the sessions that ended before ``cutoff``, and their tokens.

        A session ends when it is revoked or when it expires, whichever comes
        first. Its refresh tokens go with it by cascade; a live session and
        its tokens are never touched.
        """
        ended = Session.objects.filter(
            Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)
        )
        sessions = tokens = 0
        for counts in delete_in_batches(ended, batch_size):
            sessions += counts.get(Session._meta.label, 0)
            tokens += counts.get(RefreshToken._meta.label, 0)
            self.stdout.write(
                f"Deleted {sessions} sessions that ended before "
                f"{cutoff:%Y-%m-%d %H:%M}, with {tokens} refresh tokens."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {sessions} sessions and {tokens} refresh tokens deleted."
            )
        )

    def prune_challenges(self, cutoff: datetime, batch_size: int) -> None:
        """Delete the challenges that expired or were used before ``cutoff``."""
        spent = Challenge.objects.filter(
            Q(expires_at__lt=cutoff) | Q(used_at__lt=cutoff)
        )
        deleted = 0
        for counts in delete_in_batches(spent, batch_size):
            deleted += counts.get(Challenge._meta.label, 0)
            self.stdout.write(
                f"Deleted {deleted} challenges that ended before "
                f"{cutoff:%Y-%m-%d %H:%M}."
            )
        self.stdout.write(self.style.SUCCESS(f"Done: {deleted} challenges deleted."))


def delete_in_batches(queryset: QuerySet, batch_size: int) -> Iterator[dict[str, int]]:
    """Delete the rows of ``queryset`` a batch at a time.

    Yield, for each batch, the per-model counts that ``QuerySet.delete``
    returns, cascades included.
    """
    last = None
    while True:
        # Small batches keep each transaction, and its locks, short. Walking
        # the primary key onwards from the last batch spares a rescan of the
        # rows that are kept.
        pending = queryset if last is None else queryset.filter(pk__gt=last)
        batch = list(pending.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not batch:
            return
        # The conditions are checked again at deletion, so a row is deleted
        # only if it still qualifies.
        _, counts = queryset.filter(pk__in=batch).delete()
        last = batch[-1]
        yield counts
