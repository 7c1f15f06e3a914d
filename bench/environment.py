"""What every section shares: Django set up on a fresh database, and one user."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import django

DISTRIBUTIONS = (
    "Django",
    "djangorestframework",
    "PyJWT",
    "djangorestframework-simplejwt",
)


@dataclass(frozen=True)
class Environment:
    """The user every section authenticates, and how long to measure."""

    user: Any
    rounds: int
    calls: int
    profile: bool = False


def set_up(database: Path, *, rounds: int, calls: int, profile: bool) -> Environment:
    """Start Django on a new SQLite file, migrate it and create the user."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["BENCH_SQLITE_NAME"] = str(database)
    django.setup()

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model()._default_manager.create_user(
        username="bench", email="bench@example.com"
    )
    return Environment(user=user, rounds=rounds, calls=calls, profile=profile)


def tear_down() -> None:
    """Close the database connections, so the file can be removed."""
    from django.db import connections

    connections.close_all()


def describe(env: Environment) -> str:
    """Return one line naming the interpreter, the libraries and the run size."""
    versions = ", ".join(f"{name} {version(name)}" for name in DISTRIBUTIONS)
    return (
        f"Python {platform.python_version()}, {versions}; "
        f"{env.rounds} rounds x {env.calls} calls per contender"
    )
