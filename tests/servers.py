"""Run the example projects as real server processes, and talk to them over HTTP.

Each server is a separate ``runserver`` process with its own SQLite file, so
requests run in real threads against a real database, as they do in a
deployment.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0
INHERITED_BUT_IGNORED = frozenset({"DATABASE_URL", "REDIS_URL"})

T = TypeVar("T")


class ServerError(RuntimeError):
    """The example server could not be prepared or did not come up."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _manage(*args: str) -> list[str]:
    return [sys.executable, str(PROJECT_ROOT / "manage.py"), *args]


def base_environment(settings_module: str) -> dict[str, str]:
    """Return an environment for a server of ``settings_module`` on SQLite."""
    # pytest-django sets DJANGO_SETTINGS_MODULE for this process; the server
    # must load the example project's settings instead. A database or cache
    # URL from the caller's shell would replace the fresh SQLite file and the
    # per-process cache, so it is not passed on.
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in INHERITED_BUT_IGNORED
    }
    environ.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
            ),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return environ


def migrate(environ: Mapping[str, str], timeout: float = STARTUP_TIMEOUT) -> None:
    """Create the tables of the database ``environ`` points at."""
    result = subprocess.run(
        _manage("migrate", "--noinput"),
        cwd=PROJECT_ROOT,
        env=dict(environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise ServerError(f"migrate failed:\n{result.stdout}{result.stderr}")


class Server:
    """One ``runserver`` process on a loopback port that stays the same.

    The port and the log file are kept across restarts, so a client that
    knows the URL reaches the server again after it starts anew.
    """

    def __init__(
        self,
        name: str,
        probe_path: str,
        log_dir: Path,
        timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self.name = name
        self.probe_path = probe_path
        self.timeout = timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, environ: Mapping[str, str]) -> None:
        """Start the server and return once it answers HTTP."""
        self.stop()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                _manage("runserver", f"127.0.0.1:{self.port}", "--noreload"),
                cwd=PROJECT_ROOT,
                env=dict(environ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_answering()

    def stop(self) -> None:
        """Stop the server; its port refuses connections afterwards."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + self.timeout
        while not self._answers():
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise ServerError(f"{self.name} exited with {code}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{self.name} did not answer within {self.timeout:.0f}s:\n"
                    + self.log()
                )
            # Polling a port that is not open yet; this waits on a real
            # process, not on the clock of the code under test.
            time.sleep(0.1)

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        try:
            connection.request("GET", self.probe_path)
            connection.getresponse().read()
        except OSError:
            return False
        finally:
            connection.close()
        return True


@contextmanager
def example_server(
    env: Mapping[str, str] | None = None, timeout: float = STARTUP_TIMEOUT
) -> Iterator[str]:
    """Migrate a fresh database, serve the example project, yield its base URL.

    ``env`` adds to or overrides the server's environment. The server is
    stopped however the block ends.
    """
    with tempfile.TemporaryDirectory(prefix="jwt_auth-server-") as directory:
        environ = {
            **base_environment("example_project.settings"),
            "SQLITE_PATH": str(Path(directory) / "db.sqlite3"),
            **(env or {}),
        }
        migrate(environ, timeout)

        server = Server("runserver", "/auth/jwks/", Path(directory), timeout)
        try:
            server.start(environ)
            yield server.url
        finally:
            server.stop()


# Clients.


def call(
    url: str,
    method: str = "GET",
    body: Any = None,
    token: str | None = None,
) -> tuple[int, Any]:
    """Send one request; return the status and the JSON body (or the text)."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection(host_port, timeout=10)
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
    finally:
        connection.close()
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST ``body`` as JSON; return the status and the JSON answer.

    An answer that is not JSON comes back as ``{"raw": text}``.
    """
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw) if raw else {}
    except ValueError:
        return status, {"raw": raw.decode(errors="replace")}


def released_together(count: int, send: Callable[[int], T]) -> list[T]:
    """Call ``send(0)`` to ``send(count - 1)`` from threads released at once."""
    start = threading.Barrier(count)

    def send_when_released(number: int) -> T:
        start.wait()
        return send(number)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(send_when_released, range(count)))
