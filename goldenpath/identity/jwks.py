"""The issuer's signing keys: discovery, a bounded fetch, and a cache that follows rotation.

:class:`KeySet` answers "which public key has this ``kid``?" from a cached copy of the
issuer's JWKS. Its costs and guarantees:

- The JWKS URL is the configured one, or the ``jwks_uri`` of the issuer's
  ``/.well-known/openid-configuration``, whose ``issuer`` must be the configured issuer
  exactly. Both URLs are HTTPS (plain HTTP only to loopback, for tests).
- A fetch is bounded: a total deadline (not only a per-read timeout, so a server that
  trickles bytes cannot hold a request thread), a byte limit, no redirects, JSON object
  only, at most :data:`MAX_KEYS` keys. A failure raises IdentityProviderError.
- The cache lives ``ttl`` seconds; after that the next lookup refetches. An unknown
  ``kid`` (the issuer rotated its keys) triggers a refetch at once, but at most one per
  ``min_refresh`` seconds whatever callers send, so tokens with made-up kids cannot turn
  the API into a flood against the issuer. When a refetch fails and keys are cached, the
  cached keys keep serving (an issuer outage does not log everyone out) and the failure
  is retried no sooner than ``min_refresh`` later.
- Only signing keys are kept: ``use`` absent or ``sig``, a ``kid``, and an asymmetric
  ``kty`` (RSA, EC, OKP); symmetric (``oct``) keys are dropped, and a ``kid`` listed
  twice is dropped (which of the two was meant is unknowable).

Thread-safe: one lock serialises fetches; lookups of cached keys take it briefly.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from goldenpath.errors import IdentityProviderError
from goldenpath.settings import trusted_url_problem

log = logging.getLogger(__name__)

MAX_KEYS = 100
MAX_DOCUMENT_BYTES = 256 * 1024
_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
_CHUNK = 16 * 1024


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 5.0
    max_bytes: int = MAX_DOCUMENT_BYTES


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the caller sees the 3xx as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch_json(url: str, limits: FetchLimits) -> dict[str, Any]:
    """GET ``url`` and parse a JSON object, within ``limits``; IdentityProviderError
    otherwise (naming the URL, which is configuration, and what went wrong)."""
    problem = trusted_url_problem(url)
    if problem:
        raise IdentityProviderError(f"OIDC: {url}: {problem}")
    deadline = time.monotonic() + limits.timeout
    try:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with _OPENER.open(request, timeout=limits.timeout) as response:
            body = _read_bounded(response, limits.max_bytes, deadline)
    except IdentityProviderError as err:
        raise IdentityProviderError(f"OIDC: {url}: {err}") from None
    except (OSError, ValueError) as err:  # URLError, HTTPError, timeouts are OSErrors
        raise IdentityProviderError(f"OIDC: {url}: could not be fetched: {err}") from err
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as err:
        raise IdentityProviderError(f"OIDC: {url}: is not JSON") from err
    if not isinstance(document, dict):
        raise IdentityProviderError(f"OIDC: {url}: is not a JSON object")
    return document


def _read_bounded(response: Any, max_bytes: int, deadline: float) -> bytes:
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise IdentityProviderError(f"is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise IdentityProviderError("took longer than the fetch timeout")
        # read1: at most one socket read, so the deadline is checked between reads of
        # a body that trickles in, not only after a whole chunk has arrived
        chunk = response.read1(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise IdentityProviderError(f"is larger than {max_bytes} bytes")
        chunks.append(chunk)


def discover_jwks_url(issuer: str, limits: FetchLimits) -> str:
    """The ``jwks_uri`` of the issuer's discovery document (OpenID Connect Discovery
    1.0, section 4), after checking the document speaks for that issuer."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = fetch_json(url, limits)
    if document.get("issuer") != issuer:
        raise IdentityProviderError(f"OIDC: {url}: names another issuer than {issuer}")
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise IdentityProviderError(f"OIDC: {url}: has no jwks_uri")
    problem = trusted_url_problem(jwks_uri)
    if problem:
        raise IdentityProviderError(f"OIDC: {url}: jwks_uri {jwks_uri} {problem}")
    return jwks_uri


def signing_keys(document: Mapping[str, Any], url: str) -> dict[str, dict[str, Any]]:
    """kid -> JWK of each usable signing key of a JWKS document (see module docstring)."""
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise IdentityProviderError(f"OIDC: {url}: is not a JWKS (no keys list)")
    if len(keys) > MAX_KEYS:
        raise IdentityProviderError(f"OIDC: {url}: lists more than {MAX_KEYS} keys")
    found: dict[str, dict[str, Any]] = {}
    twice: set[str] = set()
    for jwk in keys:
        if not (isinstance(jwk, dict) and jwk.get("kty") in _KEY_TYPES
                and jwk.get("use", "sig") == "sig"):
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        if kid in found:
            twice.add(kid)
        found[kid] = jwk
    return {kid: jwk for kid, jwk in found.items() if kid not in twice}


class KeySet:
    """The issuer's signing keys by ``kid``, cached (see the module docstring)."""

    def __init__(self, *, issuer: str, jwks_url: str = "", ttl: float = 3600.0,
                 min_refresh: float = 30.0, limits: FetchLimits = FetchLimits(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._issuer = issuer
        self._jwks_url = jwks_url
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, Any]] | None = None
        self._fetched_at = 0.0
        self._tried_at: float | None = None
        #: completed fetches of the JWKS, for tests and metrics
        self.fetches = 0

    def get(self, kid: str) -> dict[str, Any] | None:
        """The JWK with ``kid``, refetching once (rate-limited) when it is unknown or
        the cache has expired; None when the issuer does not publish it."""
        with self._lock:
            now = self._clock()
            if self._keys is None or now - self._fetched_at >= self._ttl:
                self._refresh(now)
            assert self._keys is not None  # _refresh set it or raised
            if kid not in self._keys:
                self._refresh(now)
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        """Refetch unless one was tried less than ``min_refresh`` ago. A failure raises
        only when no keys are cached; else the old ones keep serving."""
        if self._tried_at is not None and now - self._tried_at < self._min_refresh:
            if self._keys is None:
                raise IdentityProviderError("OIDC: the issuer's keys could not be fetched "
                                            "recently; retrying shortly")
            return
        self._tried_at = now
        try:
            url = self._jwks_url or discover_jwks_url(self._issuer, self._limits)
            keys = signing_keys(fetch_json(url, self._limits), url)
        except IdentityProviderError as err:
            if self._keys is None:
                raise
            log.warning("%s; the cached keys keep serving", err)
            return
        self._jwks_url = url
        self._keys, self._fetched_at = keys, now
        self.fetches += 1
