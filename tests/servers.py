"""Run the example project under ``runserver`` for tests that need a real server.

The server is a separate process with its own SQLite file, so requests run in
real threads against a real database, as they do in a deployment.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0
INHERITED_BUT_IGNORED = frozenset({"DATABASE_URL", "REDIS_URL"})


class ServerError(RuntimeError):
    """The example server could not be prepared or did not come up."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=1)
    try:
        connection.request("GET", "/auth/jwks/")
        connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return True


def _manage(*args: str) -> list[str]:
    return [sys.executable, str(PROJECT_ROOT / "manage.py"), *args]


@contextmanager
def example_server(
    env: Mapping[str, str] | None = None, timeout: float = STARTUP_TIMEOUT
) -> Iterator[str]:
    """Migrate a fresh database, serve the example project, yield its base URL.

    ``env`` adds to or overrides the server's environment. The server is
    stopped however the block ends.
    """
    with tempfile.TemporaryDirectory(prefix="jwt_auth-server-") as directory:
        # pytest-django sets DJANGO_SETTINGS_MODULE for this process; the
        # server must load the example project's settings instead. A database
        # or cache URL from the caller's shell would replace the fresh SQLite
        # file, so only ``env`` may name one.
        inherited = {
            name: value
            for name, value in os.environ.items()
            if name not in INHERITED_BUT_IGNORED
        }
        environ = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
            "SQLITE_PATH": str(Path(directory) / "db.sqlite3"),
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
            ),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        log_path = Path(directory) / "server.log"

        migrated = subprocess.run(
            _manage("migrate", "--noinput"),
            cwd=PROJECT_ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if migrated.returncode != 0:
            raise ServerError(f"migrate failed:\n{migrated.stdout}{migrated.stderr}")

        port = free_port()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                _manage("runserver", f"127.0.0.1:{port}", "--noreload"),
                cwd=PROJECT_ROOT,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_answering(process, port, timeout, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(process)


def _wait_until_answering(
    process: subprocess.Popen, port: int, timeout: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    while not _answers("127.0.0.1", port):
        if process.poll() is not None:
            raise ServerError(
                f"runserver exited with {process.returncode}:\n"
                + log_path.read_text(errors="replace")
            )
        if time.monotonic() > deadline:
            raise ServerError(
                f"runserver did not answer within {timeout:.0f}s:\n"
                + log_path.read_text(errors="replace")
            )
        # Polling a port that is not open yet; this waits on a real process,
        # not on the clock of the code under test.
        time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
