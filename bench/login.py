"""What the IP protection adds to one login: the login view with it on and off."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import RequestFactory, override_settings

from jwt_auth.conf import DEFAULTS
from jwt_auth.models import Attempt, Session
from jwt_auth.views import LoginView

from .environment import Environment
from .profiling import print_profile
from .timing import Result, count_queries, print_ratio, print_table, time_batch

ON = "protection on"
OFF = "protection off"

# The largest ratio of the median login with protection to one without it.
TARGET_ON_VS_OFF = 1.15

USERNAME = "bench-login"
PASSWORD = "bench-login-password"
CLIENT_IP = "192.0.2.10"

# A hasher this fast leaves the rest of the login to be measured; with the
# default PBKDF2 it would be most of the time, on and off alike.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# High enough that no request in the run is throttled: the counters are
# still read and incremented, which is part of what protection costs.
UNTHROTTLED = {scope: "1000000/m" for scope in DEFAULTS["THROTTLE_RATES"]}


def settings_for(protection: bool) -> AbstractContextManager:
    """Return the settings one contender logs in under."""
    jwt_auth = {
        **settings.JWT_AUTH,
        "THROTTLE_RATES": UNTHROTTLED,
        "PROTECTION": protection,
    }
    return override_settings(PASSWORD_HASHERS=FAST_HASHERS, JWT_AUTH=jwt_auth)


def login_user() -> Any:
    """Create the user who logs in, with a password under the fast hasher."""
    with settings_for(True):
        return get_user_model()._default_manager.create_user(
            username=USERNAME, email="bench-login@example.com", password=PASSWORD
        )


def login_call(statuses: Counter) -> Callable[[], Any]:
    """Return one POST of the user's credentials to the login view.

    The response is rendered, as the handler would, and its status counted.
    """
    factory = RequestFactory()
    view = LoginView.as_view()
    body = json.dumps({"username": USERNAME, "password": PASSWORD})

    def call() -> Any:
        request = factory.post(
            "/auth/login/", body, content_type="application/json", REMOTE_ADDR=CLIENT_IP
        )
        response = view(request)
        response.render()
        statuses[response.status_code] += 1
        return response

    return call


def forget_logins(user: Any) -> None:
    """Delete what the logins wrote, so late rounds meet no bigger tables."""
    Session.objects.filter(user=user).delete()
    Attempt.objects.filter(user=user).delete()


def rotations(names: list[str], rounds: int) -> Iterator[list[str]]:
    """Yield each round's order of ``names``, rotated by one every round."""
    for round_number in range(rounds):
        shift = round_number % len(names)
        yield names[shift:] + names[:shift]


def compare_logins(
    call: Callable[[], Any], user: Any, *, rounds: int, calls: int
) -> list[Result]:
    """Time ``call`` under each contender's settings, taking turns every round.

    Like ``timing.compare``, but each batch runs inside its contender's
    settings, and the rows the logins wrote are deleted between batches,
    outside the timed loop.
    """
    contenders = {ON: True, OFF: False}
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in rotations(list(contenders), rounds):
        for name in order:
            with settings_for(contenders[name]):
                samples[name].append(time_batch(call, calls))
            forget_logins(user)

    results = []
    for name, protection in contenders.items():
        with settings_for(protection):
            queries = count_queries(call)
        forget_logins(user)
        results.append(Result(name, samples[name], queries))
    return results


def section(env: Environment) -> None:
    """Print the median time of one login with protection on and off."""
    user = login_user()
    statuses: Counter = Counter()
    call = login_call(statuses)

    # One login each way first, so that neither pays for a cold start.
    for protection in (True, False):
        with settings_for(protection):
            call()
    forget_logins(user)

    calls = max(env.calls // 20, 10)
    results = {
        result.name: result
        for result in compare_logins(call, user, rounds=env.rounds, calls=calls)
    }
    print_table(
        f"POST to the login view, {calls} logins per round, MD5 hasher:",
        results.values(),
    )
    print("Ratio of medians:")
    print_ratio(
        "protection on / off",
        results[ON].median / results[OFF].median,
        TARGET_ON_VS_OFF,
    )
    refused = {status: n for status, n in statuses.items() if status != 200}
    if refused:
        print(f"  Some logins were not answered 200: {refused}; figures suspect.")
    else:
        print(f"  All {statuses[200]} logins were answered 200.")

    if env.profile:
        print()
        with settings_for(True):
            print_profile(f"Profile of a login, {ON}:", call, calls=calls * 10)
        forget_logins(user)
