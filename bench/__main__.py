"""Run every benchmark section in one process: ``python -m bench``."""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from .environment import Environment, describe, set_up, tear_down

Section = Callable[[Environment], None]


def sections() -> list[Section]:
    """Return the sections to run, in order; each prints its own figures."""
    # Imported here: the sections import models, which needs Django set up.
    from . import attempt_log, auth, login

    return [auth.section, login.section, attempt_log.section]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="rounds per contender")
    parser.add_argument("--calls", type=int, default=2000, help="calls per round")
    parser.add_argument(
        "--profile", action="store_true", help="also print where jwt_auth's time goes"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Print every section's figures; always succeed, as these are not tests."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jwt_auth-bench-") as directory:
        env = set_up(
            Path(directory) / "bench.sqlite3",
            rounds=args.rounds,
            calls=args.calls,
            profile=args.profile,
        )
        try:
            print(describe(env))
            for section in sections():
                print()
                try:
                    section(env)
                except Exception:
                    # One broken section must not hide the figures of the rest.
                    traceback.print_exc(file=sys.stdout)
        finally:
            tear_down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
