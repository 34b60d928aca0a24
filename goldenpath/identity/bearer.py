"""From an ``Authorization`` header to a :class:`Principal`: the one way in.

Three kinds of bearer token are accepted, tried in this order:

- the bootstrap admin token (``GOLDENPATH_ADMIN_TOKEN``), compared in constant time: the
  sha256 digests of both are compared with :func:`hmac.compare_digest`, so neither the
  content nor the length of the configured token shows in the time a guess takes;
- an OIDC JWT (three dot-separated parts) when an issuer is configured;
- an API token an admin minted, looked up through ``api_tokens`` (the store's seam: it
  returns the token's principal, or None for a token it does not know, expired or
  revoked). Such tokens must not contain two dots, or they are taken for JWTs when OIDC
  is configured.

Anything else is Unauthorized. The header is bounded before any of this runs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from goldenpath.errors import Unauthorized
from goldenpath.identity.oidc import MAX_TOKEN_BYTES, OIDCConfig, OIDCVerifier
from goldenpath.identity.principal import Principal
from goldenpath.settings import Settings

ApiTokenLookup = Callable[[str], Principal | None]
_SCHEME = "bearer"


class Authenticator:
    def __init__(self, *, admin_token: str = "", oidc: OIDCVerifier | None = None,
                 api_tokens: ApiTokenLookup | None = None,
                 max_token_bytes: int = MAX_TOKEN_BYTES) -> None:
        self._admin = hashlib.sha256(admin_token.encode()).digest() if admin_token else None
        self._oidc = oidc
        self._api_tokens = api_tokens
        self._max = max_token_bytes

    @classmethod
    def from_settings(cls, settings: Settings, *,
                      api_tokens: ApiTokenLookup | None = None) -> Authenticator:
        config = OIDCConfig.from_settings(settings)
        return cls(admin_token=settings.admin_token.get_secret_value(),
                   oidc=OIDCVerifier(config) if config else None, api_tokens=api_tokens)

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of an ``Authorization: Bearer <token>`` header value."""
        token = self._token(authorization)
        if self._admin is not None and hmac.compare_digest(
                hashlib.sha256(token.encode()).digest(), self._admin):
            return Principal.bootstrap_admin()
        if self._oidc is not None and token.count(".") == 2:
            return self._oidc.verify(token)
        found = self._api_tokens(token) if self._api_tokens is not None else None
        if found is None:
            raise Unauthorized("bearer token refused: it is not a token this API issued "
                               "or trusts")
        return found

    def _token(self, authorization: str | None) -> str:
        if not authorization:
            raise Unauthorized("no bearer token: send the header "
                               "'Authorization: Bearer <token>'")
        if len(authorization) > self._max + len(_SCHEME) + 1:
            raise Unauthorized(f"bearer token refused: it is longer than {self._max} bytes")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != _SCHEME or not token or not token.isascii() or " " in token:
            raise Unauthorized("no bearer token: send the header "
                               "'Authorization: Bearer <token>'")
        return token
