"""The client's address: the one place that decides it, proxies included."""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache
from typing import Any, NamedTuple

from .conf import jwt_settings
from .errors import ClientIPUnknown

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class ClientAddress(NamedTuple):
    """The client's exact address, and the key it is counted and banned under."""

    ip: str
    key: str


def _parse(value: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress._BaseNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _trusted(address: IPAddress) -> bool:
    networks = _networks(tuple(jwt_settings.TRUSTED_PROXIES))
    return any(address in network for network in networks)


def get_client_ip(request: Any) -> str | None:
    """Return the client's IP address, or ``None`` when it cannot be known.

    ``X-Forwarded-For`` is read only when the peer is a trusted proxy, and
    then from the right: each trusted proxy appends the address it saw, so
    the first untrusted hop from the right is the client. Everything to its
    left was written by the client and is never believed.
    """
    peer = _parse(request.META.get("REMOTE_ADDR", ""))
    if peer is None or not _trusted(peer):
        return str(peer) if peer else None

    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop for hop in forwarded.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            return None  # A trusted proxy never writes garbage: refuse.
        client = address
        if not _trusted(address):
            break
    return str(client)


def address_key(ip: str) -> str:
    """Return the key ``ip`` is counted and banned under.

    One IPv6 client commonly holds a whole prefix (a /64 by default), so
    its addresses share one key; an IPv4 address is its own key.
    """
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv4Address):
        return ip
    network = ipaddress.ip_network(f"{ip}/{jwt_settings.IPV6_PREFIX}", strict=False)
    return str(network)


def get_client_address(request: Any) -> ClientAddress:
    """Return the client's address and key, or refuse the request."""
    ip = get_client_ip(request)
    if ip is None:
        logger.error(
            "Client address missing or unparsable; request refused.",
            extra={
                "remote_addr": str(request.META.get("REMOTE_ADDR", ""))[:64],
                "path": request.path[:200],
            },
        )
        raise ClientIPUnknown()
    return ClientAddress(ip=ip, key=address_key(ip))


def ratelimit_ip(request: Any) -> str:
    """The client address for django-ratelimit's ``RATELIMIT_IP_META_KEY``."""
    return get_client_address(request).ip
