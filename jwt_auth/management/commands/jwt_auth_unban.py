"""Lift the bans on an address or an IPv6 prefix."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jwt_auth.models import Ban
from jwt_auth.protection import lift_bans, normalize_key


class Command(BaseCommand):
    help = "Lift every active ban on an IP address or prefix."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "ip", help="An IP address, or a prefix such as 2001:db8::/64"
        )

    def handle(self, *args: Any, ip: str, **options: Any) -> None:
        try:
            key = normalize_key(ip)
        except ValueError:
            raise CommandError(f"{ip!r} is not an IP address or prefix.") from None
        lifted = lift_bans(Ban.objects.filter(ip=key))
        if lifted:
            self.stdout.write(self.style.SUCCESS(f"Lifted {lifted} ban(s) on {key}."))
        else:
            self.stdout.write(f"No active ban on {key}.")
