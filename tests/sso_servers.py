"""Run the example issuer and the example resource server as real processes.

Unlike ``tests.servers.example_server``, a server here keeps its port and its
database across restarts: the resource server's JWKS URL must still reach the
issuer after the issuer restarts with new keys.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .servers import PROJECT_ROOT, ServerError, free_port

STARTUP_TIMEOUT = 30.0


def base_environment(settings_module: str) -> dict[str, str]:
    """Return an environment for a server of ``settings_module`` on SQLite."""
    environ = {
        key: value
        for key, value in os.environ.items()
        # A fresh SQLite file and a per-process cache, whatever the suite uses.
        if key not in ("DATABASE_URL", "REDIS_URL")
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


def migrate(environ: Mapping[str, str]) -> None:
    """Create the tables of the database ``environ`` points at."""
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "migrate", "--noinput"],
        cwd=PROJECT_ROOT,
        env=dict(environ),
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise ServerError(f"migrate failed:\n{result.stdout}{result.stderr}")


class Server:
    """One ``runserver`` process on a loopback port that stays the same."""

    def __init__(self, name: str, probe_path: str, log_dir: Path) -> None:
        self.name = name
        self.probe_path = probe_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, environ: Mapping[str, str]) -> None:
        """Start the server and return once it answers HTTP."""
        self.stop()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    str(PROJECT_ROOT / "manage.py"),
                    "runserver",
                    f"127.0.0.1:{self.port}",
                    "--noreload",
                ],
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
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._answers():
            if self.process is None or self.process.poll() is not None:
                raise ServerError(f"{self.name} exited:\n{self.log()}")
            if time.monotonic() > deadline:
                raise ServerError(f"{self.name} did not answer:\n{self.log()}")
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
