"""Identity adapter: who is calling the API, proven by a bearer token.

It sits beside the other adapters (gitops, scaffold, store) below the services layer,
and is the only place a JWT library is imported. It answers one question, "which spec
subjects is this caller?", as a :class:`Principal`; what the caller may then do is
decided from the specs by :mod:`goldenpath.services.access`.

- :mod:`.principal`: the Principal, and the mapping of token claims to subjects;
- :mod:`.jwks`: the issuer's keys, fetched within bounds and cached across rotation;
- :mod:`.oidc`: JWT verification (PyJWT);
- :mod:`.bearer`: the Authorization header to a Principal (admin token, OIDC, API tokens).
"""

from goldenpath.identity.bearer import ApiTokenLookup, Authenticator
from goldenpath.identity.jwks import FetchLimits, KeySet
from goldenpath.identity.oidc import OIDCConfig, OIDCVerifier
from goldenpath.identity.principal import Principal, principal_from_claims

__all__ = [
    "ApiTokenLookup",
    "Authenticator",
    "FetchLimits",
    "KeySet",
    "OIDCConfig",
    "OIDCVerifier",
    "Principal",
    "principal_from_claims",
]
