"""jwt_auth.User: case-insensitive uniqueness in the database, and swappability."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from jwt_auth.models import User

jwt_auth_user_only = pytest.mark.skipif(
    settings.AUTH_USER_MODEL != "jwt_auth.User",
    reason="these constraints belong to jwt_auth.User",
)


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user(
        username="Alice", email="Alice@Example.com", password="irrelevant"
    )


@jwt_auth_user_only
@pytest.mark.parametrize("username", ["alice", "ALICE", "Alice"])
def test_username_is_unique_whatever_its_case(alice, username):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username=username, email="other@example.com")


@jwt_auth_user_only
@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@EXAMPLE.COM"])
def test_email_is_unique_whatever_its_case(alice, email):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="other", email=email)


@jwt_auth_user_only
def test_usernames_that_differ_beyond_case_can_coexist(alice):
    User.objects.create(username="alice2", email="alice2@example.com")

    assert User.objects.count() == 2


@jwt_auth_user_only
def test_natural_key_lookup_ignores_case(alice):
    assert User.objects.get_by_natural_key("ALICE") == alice


@jwt_auth_user_only
@pytest.mark.django_db
def test_jwt_auth_user_is_the_active_user_model_with_a_table():
    assert get_user_model() is User
    assert User._meta.db_table in connection.introspection.table_names()


@pytest.mark.skipif(
    settings.AUTH_USER_MODEL != "auth.User",
    reason="only a project that swaps jwt_auth.User out lacks its table",
)
@pytest.mark.django_db
def test_jwt_auth_user_has_no_table_when_swapped_out():
    tables = connection.introspection.table_names()

    assert User._meta.swapped == "auth.User"
    assert User._meta.db_table not in tables
    assert get_user_model()._meta.db_table in tables


@pytest.mark.django_db
def test_sessions_belong_to_the_active_user_model():
    from jwt_auth.models import Session

    assert Session._meta.get_field("user").related_model is get_user_model()
