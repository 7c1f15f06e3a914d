"""Two gunicorn servers of the example project sharing PostgreSQL and Redis.

These checks run under ``make test-distributed``, which starts the services
and sets ``JWT_AUTH_DISTRIBUTED``; elsewhere they are skipped.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
STARTUP_DEADLINE = 30.0

pytestmark = pytest.mark.integration


def pytest_collection_modifyitems(config, items):
    if os.environ.get("JWT_AUTH_DISTRIBUTED"):
        return
    skip = pytest.mark.skip(reason="needs make test-distributed")
    for item in items:
        if "distributed" in item.nodeid:
            item.add_marker(skip)


@dataclass
class Reply:
    status: int
    body: dict
    headers: dict


def call(base: str, method: str, path: str, body=None, *, ip: str, token=None):
    """Send one request as the client at ``ip`` (through the trusted proxy)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("X-Forwarded-For", ip)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw, status, headers = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, headers = error.read(), error.code, error.headers
    return Reply(status, json.loads(raw) if raw else {}, dict(headers))


def register(base: str, name: str, ip: str) -> Reply:
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    return call(base, "POST", "/auth/register/", body, ip=ip)


def login(base: str, name: str, ip: str, password: str = PASSWORD, **extra) -> Reply:
    body = {"username": name, "password": password, **extra}
    return call(base, "POST", "/auth/login/", body, ip=ip)


def refresh(base: str, refresh_token: str, ip: str) -> Reply:
    body = {"refresh_token": refresh_token}
    return call(base, "POST", "/auth/refresh/", body, ip=ip)


def logout(base: str, refresh_token: str, ip: str) -> Reply:
    body = {"refresh_token": refresh_token}
    return call(base, "POST", "/auth/logout/", body, ip=ip)


def hello(base: str, access_token: str, ip: str) -> Reply:
    return call(base, "GET", "/api/hello/", ip=ip, token=access_token)


def parallel(calls: list[Callable[[], Reply]]) -> list[Reply]:
    """Make the calls at once, one thread each; return the replies in order."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda fn: fn(), calls))


def sql(query: str, *params) -> list[tuple]:
    """Run ``query`` on the cluster's PostgreSQL database; return every row."""
    # Imported here: only a distributed run needs PostgreSQL and its driver.
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
        return connection.execute(query, params).fetchall()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def run_shell(variable: str) -> None:
    """Run the service command the test-distributed script exported."""
    subprocess.run(shlex.split(os.environ[variable]), check=True, capture_output=True)


@dataclass
class Cluster:
    a: str
    b: str
    mail_dir: Path

    def both(self) -> list[str]:
        return [self.a, self.b]


_addresses = count(1)


@pytest.fixture
def ip() -> str:
    """A client address of its own for each test, so limits never collide."""
    return f"198.51.100.{next(_addresses)}"


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    mail_dir = Path(tempfile.mkdtemp(prefix="jwt_auth-mail-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "JWT_AUTH_TRUSTED_PROXIES": "127.0.0.1/32",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    processes, bases = [], []
    try:
        for _ in range(2):
            port = _free_port()
            process = subprocess.Popen(
                [
                    str(Path(python).with_name("gunicorn")),
                    "example_project.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "--timeout",
                    "60",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            processes.append(process)
            _wait_until_serving(port, process)
            bases.append(f"http://127.0.0.1:{port}")
        yield Cluster(a=bases[0], b=bases[1], mail_dir=mail_dir)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
