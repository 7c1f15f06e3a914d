"""Access tokens on a resource server: the issuer's public keys and no user table.

A resource server trusts the issuer's signature and claims alone, so it sees
a revocation only when the token expires. Where that is too late, it asks
the issuer's introspection endpoint instead. Nothing here imports this app's
models: the project need not install the app or have a database.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

import jwt
from django.core.exceptions import ImproperlyConfigured
from jwt import PyJWK, PyJWKClient

from .bearer import BearerAuthentication
from .conf import jwt_settings
from .errors import KeysUnavailable, TokenInvalid
from .keys import ASYMMETRIC_ALGORITHMS, KeyConfigurationError, KeySet
from .tokens import AccessToken, AccessTokenVerifier

logger = logging.getLogger(__name__)

# Members of a private or symmetric JWK. A JWKS publishes public keys only, so
# an entry holding one of these is a mistake on the issuer's side: not used.
_SECRET_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})


def usable_key(entry: Any, algorithm: str) -> PyJWK | None:
    """Return a JWKS entry as a verifying key for ``algorithm``, or ``None``."""
    if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
        return None
    if entry.get("use", "sig") != "sig" or _SECRET_MEMBERS & entry.keys():
        return None
    # A key published for another algorithm is never used for this one, even
    # where its type would allow it.
    if entry.get("alg", algorithm) != algorithm:
        return None
    try:
        return PyJWK(entry, algorithm=algorithm)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None


class RemoteKeys:
    """The issuer's public keys, read from its JWKS URL and kept for a while.

    The keys are fetched on first use and again once ``cache_lifetime`` has
    passed. A token whose ``kid`` is not among them fetches them again at
    once, which is how a key rotation is picked up; but after such a fetch,
    and after any fetch that failed, none is tried for ``refetch_interval``,
    so a flood of made-up kids cannot hammer the issuer. A failed fetch keeps
    the keys already held: tokens they signed still verify while the issuer
    is down.

    One fetch runs at a time, and no lock is held across it. While it runs, a
    request whose kid is among the keys held is answered with them at once;
    only a request that needs the fetch's result waits for it, and then uses
    it rather than fetching again.

    Durations are in seconds of wall-clock time, so tests can move it; a
    clock that jumps back counts as the time having passed.
    """

    def __init__(
        self,
        url: str,
        algorithm: str,
        *,
        timeout: float,
        cache_lifetime: float,
        refetch_interval: float,
    ) -> None:
        # PyJWKClient fetches: with the timeout, over http(s) only, following
        # no redirects. Its own cache stays off, because it forgets the keys
        # when they expire even if the issuer cannot be reached, and its
        # cooldown counts successful fetches only.
        self.client = PyJWKClient(url, cache_jwk_set=False, timeout=timeout)
        self.algorithm = algorithm
        self.timeout = timeout
        self.cache_lifetime = cache_lifetime
        self.refetch_interval = refetch_interval
        # Guards the fields below; held for bookkeeping only, never across a
        # fetch.
        self._lock = threading.Lock()
        self._keys: dict[str, PyJWK] | None = None
        self._fetched_at = 0.0
        self._quiet_since: float | None = None
        # Set when the fetch in flight ends; None while none is.
        self._fetch_done: threading.Event | None = None

    def get(self, kid: str) -> PyJWK:
        """Return the key named ``kid``.

        Raise ``TokenInvalid`` for a kid the issuer does not publish, and
        ``KeysUnavailable`` when no keys could be obtained at all.
        """
        while True:
            with self._lock:
                now = time.time()
                expired = self._expired(now)
                known = self._keys is not None and kid in self._keys
                due = (expired or not known) and not self._retry_after(now)
                in_flight = self._fetch_done
                if not due or (known and in_flight is not None):
                    return self._answer(kid, now)
                if in_flight is None:
                    self._fetch_done = done = threading.Event()
                    break

            # Another thread is fetching what this request needs. The wait
            # is bounded by the fetch timeout; then the keys held answer it.
            if not in_flight.wait(self.timeout):
                with self._lock:
                    return self._answer(kid, time.time())

        keys: dict[str, PyJWK] | None = None
        try:
            keys = self._download()
        finally:
            # Whatever happened, the waiters are released: an error that
            # escaped counts as a failed fetch.
            with self._lock:
                self._store(keys, now)
                # A fetch for an unknown kid starts the quiet period even when
                # it succeeds, so made-up kids fetch once per interval.
                if not expired:
                    self._quiet_since = now
                self._fetch_done = None
            done.set()

        with self._lock:
            return self._answer(kid, now)

    def _answer(self, kid: str, now: float) -> PyJWK:
        """Return ``kid``'s key from those held; call with the lock held."""
        if self._keys is None:
            raise KeysUnavailable(wait=self._retry_after(now))
        try:
            return self._keys[kid]
        except KeyError:
            raise TokenInvalid() from None

    def _expired(self, now: float) -> bool:
        if self._keys is None:
            return True
        return self._elapsed(self._fetched_at, now) >= self.cache_lifetime

    def _download(self) -> dict[str, PyJWK] | None:
        """Fetch the JWKS and return its usable keys; ``None`` when it failed."""
        try:
            document = self.client.fetch_data()
        except (jwt.PyJWTError, OSError, ValueError) as exc:
            logger.warning(
                "The issuer's JWKS could not be fetched; %s.",
                "keeping the keys held" if self._keys else "no keys to verify with",
                extra={"jwks_url": self.client.uri, "error": type(exc).__name__},
            )
            return None

        entries = document.get("keys") if isinstance(document, dict) else None
        keys: dict[str, PyJWK] = {}
        for entry in entries if isinstance(entries, list) else []:
            key = usable_key(entry, self.algorithm)
            if key is not None:
                keys.setdefault(key.key_id, key)
        if not keys:
            logger.warning(
                "The issuer's JWKS holds no usable %s key.",
                self.algorithm,
                extra={"jwks_url": self.client.uri},
            )
            return None
        return keys

    def _store(self, keys: dict[str, PyJWK] | None, now: float) -> None:
        """Keep fetched keys; after a failure, keep the old ones and go quiet."""
        if keys is None:
            self._quiet_since = now
        else:
            self._keys, self._fetched_at = keys, now

    @staticmethod
    def _elapsed(since: float, now: float) -> float:
        elapsed = now - since
        return elapsed if elapsed >= 0 else math.inf

    def _retry_after(self, now: float) -> int:
        """Return the whole seconds the quiet period lasts; 0 when it is over."""
        if self._quiet_since is None:
            return 0
        remaining = self.refetch_interval - self._elapsed(self._quiet_since, now)
        return max(1, math.ceil(remaining)) if remaining > 0 else 0


class ConfiguredKeys:
    """Verifying keys from ``SIGNING_KEYS``, for a resource server without a JWKS."""

    def __init__(self, key_set: KeySet) -> None:
        self.key_set = key_set

    def get(self, kid: str) -> PyJWK:
        """Return the key named ``kid``, or raise ``TokenInvalid``."""
        key = self.key_set.by_kid.get(kid)
        if key is None:
            raise TokenInvalid()
        return key.verifying


class ResourceTokenVerifier(AccessTokenVerifier):
    """Check access tokens as the issuer does, with keys it publishes."""

    def __init__(self, keys: RemoteKeys | ConfiguredKeys, algorithm: str) -> None:
        self.keys = keys
        self.algorithm = algorithm

    def get_key(self, raw: str) -> tuple[PyJWK, str]:
        try:
            header = jwt.get_unverified_header(raw)
        except jwt.InvalidTokenError:
            raise TokenInvalid() from None
        kid = header.get("kid")
        # Refused before any key is looked up: neither a token without a kid
        # nor one for another algorithm may set off a fetch.
        if not isinstance(kid, str) or header.get("alg") != self.algorithm:
            raise TokenInvalid()
        return self.keys.get(kid), kid


def _make_verifier() -> ResourceTokenVerifier:
    algorithm = jwt_settings.ALGORITHM
    url = jwt_settings.JWKS_URL
    if url:
        if algorithm not in ASYMMETRIC_ALGORITHMS:
            raise ImproperlyConfigured(
                f"JWT_AUTH JWKS_URL needs an asymmetric ALGORITHM, not {algorithm!r}: "
                "a JWKS publishes public keys only."
            )
        try:
            keys: RemoteKeys | ConfiguredKeys = RemoteKeys(
                url,
                algorithm,
                timeout=jwt_settings.JWKS_TIMEOUT.total_seconds(),
                cache_lifetime=jwt_settings.JWKS_CACHE_LIFETIME.total_seconds(),
                refetch_interval=jwt_settings.JWKS_REFETCH_INTERVAL.total_seconds(),
            )
        except jwt.PyJWKClientError as exc:
            raise ImproperlyConfigured(f"JWT_AUTH JWKS_URL: {exc}") from exc
        return ResourceTokenVerifier(keys, algorithm)

    try:
        key_set = KeySet(algorithm, list(jwt_settings.SIGNING_KEYS), signs=False)
    except KeyConfigurationError as exc:
        raise ImproperlyConfigured(
            f"JWT_AUTH: set JWKS_URL, or SIGNING_KEYS with public keys: {exc}"
        ) from exc
    return ResourceTokenVerifier(ConfiguredKeys(key_set), algorithm)


_verifier: ResourceTokenVerifier | None = None
_verifier_lock = threading.Lock()


def get_resource_verifier() -> ResourceTokenVerifier:
    """Return this process's verifier for the current settings, built once.

    Every thread shares it, and with it the cached keys and the limit on
    fetches.
    """
    global _verifier
    verifier = _verifier
    if verifier is None:
        with _verifier_lock:
            if _verifier is None:
                _verifier = _make_verifier()
            verifier = _verifier
    return verifier


def _forget_verifier() -> None:
    global _verifier
    with _verifier_lock:
        _verifier = None


jwt_settings.on_reload(_forget_verifier)


class TokenUser:
    """The user an access token speaks for, known only by the token's claims.

    ``pk`` is the ``sub`` claim. Nothing is read from a database, and the
    user holds no permissions: views decide by ``pk`` and ``claims``.
    """

    is_active = True
    is_anonymous = False
    is_authenticated = True
    is_staff = False
    is_superuser = False

    def __init__(self, token: AccessToken) -> None:
        self.token = token

    @property
    def pk(self) -> str:
        return self.token.user_id

    id = pk

    @property
    def claims(self) -> dict[str, Any]:
        return self.token.claims

    def get_username(self) -> str:
        """Return the ``sub`` claim: the token names the user by nothing else."""
        return self.pk

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perm_list: Any, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, app_label: str) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenUser) and other.pk == self.pk

    def __hash__(self) -> int:
        return hash(self.pk)

    def __str__(self) -> str:
        return self.pk


class ResourceServerAuthentication(BearerAuthentication):
    """Authenticate a request by an access token the issuer signed.

    For services that hold no user table: the keys come from the issuer's
    JWKS (``JWKS_URL``) or from public keys in ``SIGNING_KEYS``, and
    ``request.user`` is a ``TokenUser``.
    """

    def get_validated_token(self, raw: str) -> AccessToken:
        """Return the verified token, or raise a ``BearerError``."""
        return get_resource_verifier().verify(raw)

    def get_user(self, token: AccessToken) -> TokenUser:
        """Return the token's user, built from its claims alone."""
        return TokenUser(token)
