"""Delete attempt-log rows older than the retention period, in batches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from jwt_auth.conf import jwt_settings
from jwt_auth.models import Attempt


class Command(BaseCommand):
    help = "Delete attempt-log rows older than JWT_AUTH['ATTEMPT_RETENTION']."

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
        old = Attempt.objects.filter(created_at__lt=cutoff)

        deleted = 0
        while True:
            # Small batches keep each transaction, and its locks, short.
            batch = list(old.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not batch:
                break
            count, _ = Attempt.objects.filter(pk__in=batch).delete()
            deleted += count
            self.stdout.write(
                f"Deleted {deleted} attempts older than {cutoff:%Y-%m-%d %H:%M}."
            )
        self.stdout.write(self.style.SUCCESS(f"Done: {deleted} attempts deleted."))
