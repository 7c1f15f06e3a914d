"""The admin: sessions can be listed and revoked; jwt_auth.User can be managed."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from jwt_auth.models import Session
from jwt_auth.sessions import hash_refresh_token

from .helpers import PASSWORD, bearer, login, refresh

SESSIONS = "/admin/jwt_auth/session/"

jwt_auth_user_only = pytest.mark.skipif(
    settings.AUTH_USER_MODEL != "jwt_auth.User",
    reason="the user admin is registered only for jwt_auth.User",
)


@pytest.fixture(autouse=True)
def _static_url(settings):
    # The admin's templates link their stylesheets under STATIC_URL.
    settings.STATIC_URL = "/static/"


@pytest.fixture
def admin_client(db) -> Client:
    admin = get_user_model()._default_manager.create_superuser(
        username="root", email="root@example.com", password=PASSWORD
    )
    browser = Client()
    browser.force_login(admin)
    return browser


def test_session_changelist_loads(admin_client, tokens):
    response = admin_client.get(SESSIONS)

    assert response.status_code == 200
    assert str(Session.objects.get().pk) in response.content.decode()


@pytest.mark.parametrize("state", ["live", "revoked", "expired"])
def test_session_changelist_filters_by_state(admin_client, tokens, state):
    response = admin_client.get(SESSIONS, {"state": state})

    assert response.status_code == 200
    listed = str(Session.objects.get().pk) in response.content.decode()
    assert listed == (state == "live")


def test_session_change_page_loads(admin_client, tokens):
    session = Session.objects.get()

    response = admin_client.get(f"{SESSIONS}{session.pk}/change/")

    assert response.status_code == 200


def test_session_admin_offers_no_add_page(admin_client):
    response = admin_client.get(f"{SESSIONS}add/")

    assert response.status_code == 403


def revoke(admin_client, sessions):
    return admin_client.post(
        SESSIONS,
        {"action": "revoke", "_selected_action": [str(s.pk) for s in sessions]},
        follow=True,
    )


def session_of(refresh_token: str) -> Session:
    return Session.objects.get(
        refresh_tokens__token_hash=hash_refresh_token(refresh_token)
    )


def test_revoke_action_revokes_only_the_selected_sessions(admin_client, client, user):
    kept, chosen = login(client).json(), login(client).json()

    response = revoke(admin_client, [session_of(chosen["refresh_token"])])

    assert response.status_code == 200
    assert session_of(chosen["refresh_token"]).revoke_reason == "admin"
    assert refresh(client, chosen["refresh_token"]).status_code == 401
    assert refresh(client, kept["refresh_token"]).status_code == 200


# Revocation reaches the session cache when its transaction commits.
@pytest.mark.django_db(transaction=True)
def test_revoked_sessions_access_token_fails_on_its_next_request(
    admin_client, client, tokens
):
    assert client.get("/auth/me/", **bearer(tokens["access_token"])).status_code == 200

    revoke(admin_client, Session.objects.all())

    response = client.get("/auth/me/", **bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_revoke_action_reports_how_many_sessions_it_revoked(admin_client, client, user):
    login(client)
    login(client)

    response = revoke(admin_client, Session.objects.all())

    assert "Revoked 2 sessions." in response.content.decode()


def test_revoke_action_leaves_an_already_revoked_session_as_it_was(
    admin_client, client, tokens
):
    client.post(
        "/auth/logout/", {"refresh_token": tokens["refresh_token"]}, format="json"
    )
    session = Session.objects.get()

    response = revoke(admin_client, [session])

    assert "Revoked 0 sessions." in response.content.decode()
    session.refresh_from_db()
    assert session.revoke_reason == "logout"


@jwt_auth_user_only
def test_user_changelist_loads(admin_client, user):
    response = admin_client.get("/admin/jwt_auth/user/")

    assert response.status_code == 200
    assert "alice" in response.content.decode()


@jwt_auth_user_only
def test_user_change_page_loads(admin_client, user):
    response = admin_client.get(f"/admin/jwt_auth/user/{user.pk}/change/")

    assert response.status_code == 200


@jwt_auth_user_only
def test_user_add_page_asks_for_an_email(admin_client):
    response = admin_client.get("/admin/jwt_auth/user/add/")

    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()
