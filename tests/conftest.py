"""Fixtures shared by the test suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.dispatch import Signal
from rest_framework.test import APIClient

from .helpers import PASSWORD, START, login


@pytest.fixture(autouse=True)
def _clear_caches():
    for cache in caches.all():
        cache.clear()
    return


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(db) -> Any:
    return get_user_model()._default_manager.create_user(
        username="alice", email="alice@example.com", password=PASSWORD
    )


@pytest.fixture
def tokens(client, user) -> dict[str, Any]:
    """A fresh token response for ``user``."""
    response = login(client)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Time frozen at ``START``; move it with ``clock.shift``."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def received() -> Iterator[Callable[[Signal], mock.Mock]]:
    """Connect a mock to a signal for the rest of the test; return the mock."""
    connected = []

    def connect(signal: Signal) -> mock.Mock:
        receiver = mock.Mock()
        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return receiver

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)
