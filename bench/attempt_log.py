"""How the sliding-window checks scale as the attempt log grows to a million rows."""

from __future__ import annotations

import random
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jwt_auth import protection
from jwt_auth.clientip import ClientAddress
from jwt_auth.conf import jwt_settings
from jwt_auth.models import Attempt, Ban

from .environment import Environment
from .timing import count_queries, print_ratio, time_batch

SIZES = (1_000, 10_000, 100_000, 1_000_000)
BATCH = 10_000

# The largest ratio of a check's median at the largest size to the smallest.
TARGET_LARGEST_VS_SMALLEST = 1.5

# The address and account whose windows are checked. They have a history in
# the log that grows with it, all of it older than their windows, plus a few
# attempts inside them, placed afresh before each measurement.
PROBE_IP = "198.51.100.7"
PROBE_USERNAME = "bench-window"
HISTORY_EVERY = 1_000
HISTORY_AGE = (timedelta(days=1), timedelta(days=30))
FAILURES_IN_WINDOW = 2
REGISTRATIONS_IN_WINDOW = 1

# Everyone else: this many addresses and accounts, over the retention period.
ADDRESSES = 65_536
ACCOUNTS = 1_000
LOG_SPAN = timedelta(days=30)
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) bench"

LOGIN_OUTCOMES = (
    [Attempt.Outcome.SUCCESS] * 70
    + [Attempt.Outcome.FAILURE] * 20
    + [Attempt.Outcome.OTP_REQUIRED] * 5
    + [Attempt.Outcome.OTP_FAILED] * 2
    + [Attempt.Outcome.THROTTLED] * 2
    + [Attempt.Outcome.BANNED] * 1
)
REGISTER_OUTCOMES = (
    [Attempt.Outcome.SUCCESS] * 90
    + [Attempt.Outcome.THROTTLED] * 5
    + [Attempt.Outcome.BANNED] * 5
)

BY_ADDRESS = "failures by address"
BY_ADDRESS_AND_ACCOUNT = "failures by address+account"
REGISTRATIONS = "registrations by address"

# The queries the checks make, in the order they make them, with the index
# each should search.
PLANS_OF_CODE_REQUIRED = (
    ("failed logins by address", "jwt_auth_attempt_ip_window"),
    ("failed logins by account", "jwt_auth_attempt_user_window"),
)
PLANS_OF_REGISTRATION = (
    ("last lifted ban of the address", "jwt_auth_ban_ip"),
    ("registrations by address", "jwt_auth_attempt_ip_window"),
)


class AttemptLog:
    """Appends made-up attempts to the log, many addresses and accounts over
    a month, in batches of plain INSERTs."""

    COLUMNS = ("ip", "kind", "outcome", "username", "user", "user_agent", "created_at")

    def __init__(self, probe_user: Any, accounts: list[Any]) -> None:
        self.random = random.Random(0)
        self.probe_user = probe_user
        self.accounts = [(user.pk, user.get_username()) for user in accounts]
        self.adapt = connection.ops.adapt_datetimefield_value
        self.rows = 0

        meta = Attempt._meta
        columns = [meta.get_field(name).column for name in self.COLUMNS]
        self.insert = "INSERT INTO {} ({}) VALUES ({})".format(
            connection.ops.quote_name(meta.db_table),
            ", ".join(connection.ops.quote_name(column) for column in columns),
            ", ".join(["%s"] * len(columns)),
        )

    def row(self, now: datetime) -> tuple:
        draw = self.random
        self.rows += 1
        if self.rows % HISTORY_EVERY == 0:
            return self.probe_row(now)

        number = draw.randrange(ADDRESSES)
        ip = f"10.0.{number >> 8}.{number & 255}"
        if draw.random() < 0.9:
            kind, outcome = Attempt.Kind.LOGIN, draw.choice(LOGIN_OUTCOMES)
        else:
            kind, outcome = Attempt.Kind.REGISTER, draw.choice(REGISTER_OUTCOMES)
        user_id, username = draw.choice(self.accounts)
        # A failure is as often for a name that has no account.
        if outcome != Attempt.Outcome.SUCCESS and draw.random() < 0.5:
            user_id, username = None, f"nobody-{number}"
        created_at = now - draw.random() * LOG_SPAN
        return (
            ip,
            kind,
            outcome,
            username,
            user_id,
            USER_AGENT,
            self.adapt(created_at),
        )

    def probe_row(self, now: datetime) -> tuple:
        draw = self.random
        kind = draw.choice([Attempt.Kind.LOGIN, Attempt.Kind.REGISTER])
        outcome = draw.choice([Attempt.Outcome.SUCCESS, Attempt.Outcome.FAILURE])
        oldest, newest = HISTORY_AGE
        created_at = now - newest - draw.random() * (oldest - newest)
        return (
            PROBE_IP,
            kind,
            outcome,
            PROBE_USERNAME,
            self.probe_user.pk,
            USER_AGENT,
            self.adapt(created_at),
        )

    def grow(self, count: int) -> None:
        """Append ``count`` rows.

        The indexes are dropped first and built again after, as a bulk load
        would: kept up row by row at random places, they would make the load
        several times slower. A built index is packed tighter than a grown
        one, which favours no size in particular.
        """
        indexes = Attempt._meta.indexes
        with connection.schema_editor() as editor:
            for index in indexes:
                editor.remove_index(Attempt, index)

        now = timezone.now()
        with connection.cursor() as cursor:
            for start in range(0, count, BATCH):
                rows = [self.row(now) for _ in range(min(BATCH, count - start))]
                with transaction.atomic():
                    cursor.executemany(self.insert, rows)

        with connection.schema_editor() as editor:
            for index in indexes:
                editor.add_index(Attempt, index)


def create_accounts() -> tuple[Any, list[Any]]:
    """Create the probe's account and the others the log is spread over."""
    manager = get_user_model()._default_manager
    probe = manager.create_user(
        username=PROBE_USERNAME, email="bench-window@example.com"
    )
    model = get_user_model()
    others = manager.bulk_create(
        model(
            username=f"bench-account-{number}",
            email=f"bench-account-{number}@example.com",
            password="!",
        )
        for number in range(ACCOUNTS)
    )
    return probe, others


def place_recent_attempts(probe_user: Any) -> None:
    """Give the probe a few attempts inside its windows, as of now.

    Below every limit, so no check stops early and none leaves an all-clear
    in the cache: each one counts in the database every time.
    """
    now = timezone.now()
    Attempt.objects.filter(ip=PROBE_IP, created_at__gt=now - HISTORY_AGE[0]).delete()
    recent = [
        Attempt(
            ip=PROBE_IP,
            kind=Attempt.Kind.LOGIN,
            outcome=Attempt.Outcome.FAILURE,
            username=PROBE_USERNAME,
            user=probe_user,
            created_at=now - timedelta(seconds=30 * (number + 1)),
        )
        for number in range(FAILURES_IN_WINDOW)
    ]
    recent += [
        Attempt(
            ip=PROBE_IP,
            kind=Attempt.Kind.REGISTER,
            outcome=Attempt.Outcome.SUCCESS,
            username=PROBE_USERNAME,
            user=probe_user,
            created_at=now - timedelta(seconds=30 * (number + 1)),
        )
        for number in range(REGISTRATIONS_IN_WINDOW)
    ]
    Attempt.objects.bulk_create(recent)


def registrations_in_window(key: str) -> int:
    """Count ``key``'s registrations as ``registration_succeeded`` does."""
    since = timezone.now() - jwt_settings.REGISTER_WINDOW
    last_lift = Ban.objects.filter(ip=key).aggregate(Max("lifted_at"))
    if last_lift["lifted_at__max"]:
        since = max(since, last_lift["lifted_at__max"])
    return Attempt.objects.filter(
        ip=key,
        kind=Attempt.Kind.REGISTER,
        outcome=Attempt.Outcome.SUCCESS,
        created_at__gt=since,
    ).count()


def checks(address: ClientAddress, probe_user: Any) -> dict[str, Callable[[], Any]]:
    """Return the window checks to time, each answered from the database."""
    return {
        BY_ADDRESS: lambda: protection.code_required(address, None),
        BY_ADDRESS_AND_ACCOUNT: lambda: protection.code_required(address, probe_user),
        REGISTRATIONS: lambda: registrations_in_window(address.key),
    }


def selects(call: Callable[[], Any]) -> list[str]:
    """Return the SQL of the SELECTs ``call()`` makes, parameters filled in."""
    with CaptureQueriesContext(connection) as context:
        call()
    return [
        query["sql"]
        for query in context.captured_queries
        if query["sql"].lstrip().upper().startswith("SELECT")
    ]


def registration_selects(address: ClientAddress, probe_user: Any) -> list[str]:
    """Return the SELECTs of a real ``registration_succeeded``, rolled back."""
    request = RequestFactory().post("/", REMOTE_ADDR=address.ip)

    def register() -> None:
        with transaction.atomic():
            protection.registration_succeeded(address, probe_user, request=request)
            transaction.set_rollback(True)

    return selects(register)


def query_plan(sql: str) -> list[str]:
    """Return SQLite's plan for ``sql``, one step per line."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [row[-1] for row in cursor.fetchall()]


def print_plans(title: str, queries: list[str], expected: tuple) -> None:
    """Print each query, its plan, and whether it searches the expected index."""
    print(title)
    if len(queries) != len(expected):
        print(f"  Expected {len(expected)} SELECTs, saw {len(queries)}:")
        expected = tuple((f"query {n + 1}", "") for n in range(len(queries)))
    for sql, (label, index) in zip(queries, expected, strict=True):
        plan = query_plan(sql)
        print(f"  {label}:")
        print(f"    {sql}")
        for step in plan:
            print(f"      {step}")
        searched = any(step.startswith("SEARCH") and index in step for step in plan)
        if searched:
            print(f"    -> uses index {index}")
        else:
            print(f"    -> DOES NOT USE index {index or '(none expected)'}")


@contextmanager
def database(path: Path) -> Iterator[None]:
    """Point the default connection at the SQLite file ``path`` for a while."""
    settings = connection.settings_dict
    previous = settings["NAME"]
    connection.close()
    settings["NAME"] = str(path)
    try:
        yield
    finally:
        connection.close()
        settings["NAME"] = previous


def build_logs(probe_user: Any, accounts: list[Any]) -> tuple[dict[int, Path], float]:
    """Copy the database once per size and fill each copy's log to its size.

    Return the copies, and the seconds the filling took.
    """
    original = Path(connection.settings_dict["NAME"])
    connection.close()
    copies = {}
    for size in SIZES:
        copies[size] = original.with_name(f"attempts-{size}.sqlite3")
        shutil.copyfile(original, copies[size])

    seconds = 0.0
    for size, path in copies.items():
        with database(path):
            started = time.perf_counter()
            AttemptLog(probe_user, accounts).grow(size - Attempt.objects.count())
            seconds += time.perf_counter() - started
            place_recent_attempts(probe_user)
    return copies, seconds


def time_sizes(
    copies: dict[int, Path], address: ClientAddress, probe_user: Any, env: Environment
) -> tuple[dict[int, dict[str, list[float]]], int, int]:
    """Time every check on every copy, the copies taking turns round by round.

    Return each size's per-call times by check, and the rounds and calls.
    """
    # Many short rounds: the sizes cannot share one round, so the median
    # needs enough of them to see past a busy patch of the machine.
    calls = max(env.calls // 20, 20)
    rounds = max(env.rounds // 2, 3)
    contenders = checks(address, probe_user)
    samples = {size: {name: [] for name in contenders} for size in copies}
    sizes = list(copies)
    for round_number in range(rounds):
        shift = round_number % len(sizes)
        for size in sizes[shift:] + sizes[:shift]:
            with database(copies[size]):
                for name, call in contenders.items():
                    # A fresh connection starts with an empty page cache.
                    call()
                    samples[size][name].append(time_batch(call, calls))
    return samples, rounds, calls


def print_sizes(samples: dict[int, dict[str, list[float]]], title: str) -> None:
    """Print one row per size: each check's median and fastest round."""
    names = list(next(iter(samples.values())))
    print(title)
    print(f"  {'rows':>9}  " + "  ".join(f"{name:>27}" for name in names))
    for size, by_name in samples.items():
        figures = "  ".join(
            f"{statistics.median(by_name[name]):>14.2f} "
            f"(min {min(by_name[name]):>7.2f})"
            for name in names
        )
        print(f"  {size:>9,}  {figures}")


def section(env: Environment) -> None:
    """Print the time of each window check at each size of the attempt log."""
    if connection.vendor != "sqlite":
        print("The attempt-log section copies SQLite files; skipped.")
        return

    probe_user, accounts = create_accounts()
    address = ClientAddress(ip=PROBE_IP, key=PROBE_IP)
    copies, fill_seconds = build_logs(probe_user, accounts)
    samples, rounds, calls = time_sizes(copies, address, probe_user, env)

    print_sizes(
        samples,
        f"Window checks by size of the attempt log: median µs per call and "
        f"fastest round, {rounds} rounds x {calls} calls, sizes taking turns",
    )
    largest, smallest = SIZES[-1], SIZES[0]
    with database(copies[largest]):
        queries = {
            name: count_queries(call)
            for name, call in checks(address, probe_user).items()
        }
    print(
        "  queries per call: "
        + ", ".join(f"{name} {count:g}" for name, count in queries.items())
    )
    total = sum(SIZES)
    print(
        f"  (filled {total:,} rows in {fill_seconds:.1f} s, "
        f"{total / fill_seconds:,.0f} rows/s: INSERTs in batches of {BATCH:,}, "
        f"indexes built after)"
    )

    print(f"Ratios of medians, {largest:,} rows / {smallest:,} rows:")
    for name in queries:
        print_ratio(
            name,
            statistics.median(samples[largest][name])
            / statistics.median(samples[smallest][name]),
            TARGET_LARGEST_VS_SMALLEST,
        )

    print()
    with database(copies[largest]):
        place_recent_attempts(probe_user)
        print_plans(
            f"Query plans at {largest:,} rows, code_required (address and account):",
            selects(lambda: protection.code_required(address, probe_user)),
            PLANS_OF_CODE_REQUIRED,
        )
        print_plans(
            "Query plans of registration_succeeded (run and rolled back):",
            registration_selects(address, probe_user),
            PLANS_OF_REGISTRATION,
        )
