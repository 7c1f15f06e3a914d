"""Fixtures shared by the test suite."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from rest_framework.test import APIClient

PASSWORD = "correct horse battery staple"


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


def login(client: APIClient, username: str = "alice", password: str = PASSWORD):
    return client.post(
        "/auth/login/", {"username": username, "password": password}, format="json"
    )


@pytest.fixture
def tokens(client, user) -> dict[str, Any]:
    """A fresh token response for ``user``."""
    response = login(client)
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access_token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}
