"""The client's address: ``REMOTE_ADDR``, trusted proxies, and IPv6 prefixes."""

from __future__ import annotations

import logging

import pytest
from django.test import RequestFactory
from django_ratelimit.core import get_usage
from rest_framework.test import APIClient

from jwt_auth.clientip import address_key, get_client_ip, ratelimit_ip
from jwt_auth.models import Attempt, Ban
from jwt_auth.views import RegisterView

from .helpers import PASSWORD, jwt_auth, register

PROXIES = ["10.0.0.0/8", "fd00::/8"]


def request_from(remote_addr: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


# Deciding the address ------------------------------------------------------


def test_the_client_address_is_remote_addr_by_default():
    assert get_client_ip(request_from("203.0.113.7")) == "203.0.113.7"


def test_x_forwarded_for_is_ignored_without_trusted_proxies():
    request = request_from("203.0.113.7", "198.51.100.1")

    assert get_client_ip(request) == "203.0.113.7"


@jwt_auth(TRUSTED_PROXIES=PROXIES)
def test_x_forwarded_for_is_ignored_when_the_peer_is_not_a_trusted_proxy():
    request = request_from("203.0.113.7", "198.51.100.1")

    assert get_client_ip(request) == "203.0.113.7"


@jwt_auth(TRUSTED_PROXIES=PROXIES)
def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client():
    request = request_from("10.0.0.1", "203.0.113.5")

    assert get_client_ip(request) == "203.0.113.5"


@jwt_auth(TRUSTED_PROXIES=PROXIES)
def test_x_forwarded_for_is_walked_from_the_right_past_every_trusted_hop():
    request = request_from("10.0.0.1", "198.51.100.9, 203.0.113.5, 10.1.1.1, 10.2.2.2")

    assert get_client_ip(request) == "203.0.113.5"


@jwt_auth(TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize("spoofed", ["198.51.100.66", "10.9.9.9", "127.0.0.1"])
def test_a_spoofed_left_most_forwarded_address_is_never_used(spoofed):
    request = request_from("10.0.0.1", f"{spoofed}, 203.0.113.5")

    assert get_client_ip(request) == "203.0.113.5"


@jwt_auth(TRUSTED_PROXIES=PROXIES)
def test_garbage_left_of_the_client_in_x_forwarded_for_is_ignored():
    request = request_from("10.0.0.1", "not-an-address, 203.0.113.5")

    assert get_client_ip(request) == "203.0.113.5"


@jwt_auth(TRUSTED_PROXIES=PROXIES)
def test_when_every_hop_is_trusted_the_left_most_hop_is_the_client():
    request = request_from("10.0.0.1", "10.3.3.3, 10.2.2.2")

    assert get_client_ip(request) == "10.3.3.3"


@jwt_auth(TRUSTED_PROXIES=PROXIES)
def test_a_trusted_peer_without_x_forwarded_for_is_itself_the_client():
    assert get_client_ip(request_from("10.0.0.1")) == "10.0.0.1"


@jwt_auth(TRUSTED_PROXIES=PROXIES)
def test_trusted_proxies_may_be_ipv6_networks():
    request = request_from("fd00::1", "2001:db8::5")

    assert get_client_ip(request) == "2001:db8::5"


def test_an_ipv4_mapped_ipv6_remote_addr_is_read_as_ipv4():
    assert get_client_ip(request_from("::ffff:203.0.113.7")) == "203.0.113.7"


@jwt_auth(TRUSTED_PROXIES=PROXIES)
def test_an_ipv4_mapped_forwarded_address_is_read_as_ipv4():
    request = request_from("::ffff:10.0.0.1", "::ffff:203.0.113.5")

    assert get_client_ip(request) == "203.0.113.5"


# The key an address is counted under ---------------------------------------


def test_an_ipv4_address_is_counted_under_itself():
    assert address_key("203.0.113.7") == "203.0.113.7"


def test_an_ipv6_address_is_counted_under_its_64_prefix_by_default():
    assert address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"


@jwt_auth(IPV6_PREFIX=48)
def test_the_ipv6_prefix_is_configurable():
    assert address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1::/48"


@pytest.mark.django_db(transaction=True)
def test_attempts_from_one_ipv6_prefix_are_logged_under_the_prefix():
    register(APIClient(REMOTE_ADDR="2001:db8:0:7::1"), "bob")

    assert Attempt.objects.get().ip == "2001:db8:0:7::/64"


@pytest.mark.django_db(transaction=True)
def test_registrations_from_one_ipv6_prefix_share_one_count_and_one_ban():
    for number in range(3):
        register(APIClient(REMOTE_ADDR=f"2001:db8::{number + 1}"), f"user{number}")

    response = register(APIClient(REMOTE_ADDR="2001:db8::ffff"), "dave")

    assert response.status_code == 403
    assert response.json()["code"] == "ip_banned"
    assert Ban.objects.get().ip == "2001:db8::/64"


@pytest.mark.django_db(transaction=True)
def test_a_ban_on_one_ipv6_prefix_spares_the_neighbouring_prefix():
    for number in range(3):
        register(APIClient(REMOTE_ADDR=f"2001:db8::{number + 1}"), f"user{number}")

    response = register(APIClient(REMOTE_ADDR="2001:db8:0:1::1"), "dave")

    assert response.status_code == 201


@pytest.mark.django_db(transaction=True)
@jwt_auth(IPV6_PREFIX=128)
def test_with_a_128_prefix_each_ipv6_address_is_counted_alone():
    for number in range(3):
        register(APIClient(REMOTE_ADDR=f"2001:db8::{number + 1}"), f"user{number}")

    response = register(APIClient(REMOTE_ADDR="2001:db8::ffff"), "dave")

    assert response.status_code == 201


# An address that cannot be known -------------------------------------------

ENDPOINTS = [
    ("/auth/register/", {"username": "bob", "email": "b@example.com"}),
    ("/auth/login/", {"username": "alice", "password": PASSWORD}),
    ("/auth/refresh/", {"refresh_token": "x" * 40}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("remote_addr", ["", "not-an-address", "203.0.113"])
@pytest.mark.parametrize(("path", "body"), ENDPOINTS)
def test_an_unusable_remote_addr_is_refused_with_client_ip_unknown(
    remote_addr, path, body
):
    client = APIClient(REMOTE_ADDR=remote_addr)

    response = client.post(path, body, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "client_ip_unknown"


@pytest.mark.django_db
def test_a_request_without_remote_addr_is_refused_with_client_ip_unknown():
    request = RequestFactory().post(
        "/auth/register/", {}, content_type="application/json"
    )
    del request.META["REMOTE_ADDR"]

    response = RegisterView.as_view()(request)

    assert response.status_code == 403
    assert response.data["code"] == "client_ip_unknown"


@pytest.mark.django_db
@jwt_auth(TRUSTED_PROXIES=PROXIES)
def test_garbage_in_the_trusted_part_of_x_forwarded_for_is_refused():
    client = APIClient(
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5, garbage"
    )

    response = client.post("/auth/login/", ENDPOINTS[1][1], format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "client_ip_unknown"


@pytest.mark.django_db
def test_an_unknown_address_is_logged_at_error(caplog):
    client = APIClient(REMOTE_ADDR="not-an-address")

    with caplog.at_level(logging.INFO, logger="jwt_auth"):
        client.post("/auth/login/", ENDPOINTS[1][1], format="json")

    [record] = [r for r in caplog.records if r.name == "jwt_auth.clientip"]
    assert record.levelno == logging.ERROR
    assert record.remote_addr == "not-an-address"


@pytest.mark.django_db
def test_an_unknown_address_leaves_no_attempt_row():
    client = APIClient(REMOTE_ADDR="not-an-address")

    client.post("/auth/login/", ENDPOINTS[1][1], format="json")

    assert not Attempt.objects.exists()


# django-ratelimit ----------------------------------------------------------


@jwt_auth(TRUSTED_PROXIES=PROXIES)
def test_ratelimit_ip_returns_the_same_address_as_the_app():
    request = request_from("10.0.0.1", "198.51.100.66, 203.0.113.5")

    assert ratelimit_ip(request) == get_client_ip(request) == "203.0.113.5"


@jwt_auth(TRUSTED_PROXIES=PROXIES)
def test_django_ratelimit_ip_keys_count_the_client_not_the_proxy_or_spoof():
    def hit(remote_addr: str, forwarded: str) -> int:
        usage = get_usage(
            request_from(remote_addr, forwarded),
            group="tests.client_ip",
            key="ip",
            rate="100/h",
            increment=True,
        )
        return usage["count"]

    hit("10.0.0.1", "198.51.100.1, 203.0.113.5")
    same_client = hit("10.0.0.2", "198.51.100.2, 203.0.113.5")
    other_client = hit("10.0.0.1", "203.0.113.5, 203.0.113.6")

    assert (same_client, other_client) == (2, 1)
