"""OIDC bearer tokens: verify a JWT against the issuer's keys and name its principal.

The adapter for PyJWT (the only module that imports it; an import-linter contract holds
the rest of goldenpath to that). :meth:`OIDCVerifier.verify` accepts a token only when
all of these hold, checked in this order, cheapest first, so a hostile token costs no
key fetch or signature check it does not need:

1. it is at most ``max_token_bytes`` long (before anything is decoded);
2. its header names an algorithm on the allow-list (asymmetric only: never ``none``,
   never HS*, so the issuer's public key can never serve as an HMAC secret) and a ``kid``;
3. the issuer publishes a key with that ``kid`` (an unknown kid refetches the JWKS,
   rate-limited; see :mod:`goldenpath.identity.jwks`), of a type that algorithm uses
   (RSA for RS*/PS*, the matching EC curve for ES*, OKP for EdDSA), whose own ``alg``,
   if it names one, is that algorithm; RSA keys are at least 2048 bits;
4. the signature verifies, and ``iss`` is the issuer, ``aud`` names the audience,
   ``exp``, ``iat`` are present and ``exp``, ``nbf``, ``iat`` hold within ``leeway``
   seconds of clock skew, and the token lives no longer than ``max_lifetime``;
5. its claims map to a principal (:func:`~goldenpath.identity.principal.principal_from_claims`).

Every refusal is an Unauthorized whose message says which rule failed and quotes nothing
from the token; PyJWT's exceptions never leave this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from goldenpath.errors import Unauthorized
from goldenpath.identity.jwks import MAX_KEYS, FetchLimits, KeySet
from goldenpath.identity.principal import Principal, principal_from_claims
from goldenpath.settings import ASYMMETRIC_ALGORITHMS, Settings

MAX_TOKEN_BYTES = 8 * 1024
MAX_KID_CHARS = 256
_REFUSED = "bearer token refused"
#: the JWK (kty, crv) each algorithm may verify with; None: any curve of the type
_KEY_OF: dict[str, tuple[str, frozenset[str] | None]] = {
    **{alg: ("RSA", None) for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")},
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}
_REQUIRED = ["exp", "iat", "iss", "aud"]


@dataclass(frozen=True)
class OIDCConfig:
    """What tokens the API accepts (see :class:`~goldenpath.settings.Settings`)."""

    issuer: str
    audience: str
    user_claim: str = "email"
    groups_claim: str = "groups"
    jwks_url: str = ""
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway: int = 60
    max_token_bytes: int = MAX_TOKEN_BYTES
    #: the longest exp - iat accepted: a token minted to live for a year is refused
    max_lifetime: int = 24 * 3600
    fetch: FetchLimits = field(default_factory=FetchLimits)

    def __post_init__(self) -> None:
        # Settings checks these too; this holds for configs built in code
        refused = set(self.algorithms) - set(ASYMMETRIC_ALGORITHMS)
        if refused or not self.algorithms:
            raise ValueError(f"OIDC algorithms {sorted(refused)} are not allowed; choose "
                             f"among {', '.join(ASYMMETRIC_ALGORITHMS)}")
        if not self.issuer or not self.audience:
            raise ValueError("OIDC needs both an issuer and an audience")

    @classmethod
    def from_settings(cls, settings: Settings) -> OIDCConfig | None:
        """The configured OIDC issuer, or None when ``GOLDENPATH_OIDC_ISSUER`` is unset."""
        if not settings.oidc_issuer:
            return None
        return cls(issuer=settings.oidc_issuer, audience=settings.oidc_audience,
                   user_claim=settings.oidc_user_claim,
                   groups_claim=settings.oidc_groups_claim,
                   jwks_url=settings.oidc_jwks_url, algorithms=settings.oidc_algorithms,
                   leeway=settings.oidc_leeway_seconds)


class OIDCVerifier:
    """Verifies the issuer's JWTs (see the module docstring). Thread-safe."""

    def __init__(self, config: OIDCConfig, keys: KeySet | None = None) -> None:
        self.config = config
        self.keys = keys or KeySet(issuer=config.issuer, jwks_url=config.jwks_url,
                                   limits=config.fetch)
        #: (kid, alg) -> (the JWK it was built from, the key): building a key from its JWK
        #: is a third of a verification. A refetched JWKS holds new dicts, so a rotated
        #: key under an old kid is never served from here.
        self._built: dict[tuple[str, str], tuple[dict[str, Any], jwt.PyJWK]] = {}

    def verify(self, token: str) -> Principal:
        if len(token) > self.config.max_token_bytes:
            raise Unauthorized(f"{_REFUSED}: it is longer than "
                               f"{self.config.max_token_bytes} bytes")
        if not token.isascii():  # a JWT is base64url and dots
            raise Unauthorized(f"{_REFUSED}: it is not a JWT")
        alg, kid = self._header(token)
        key = self._key(alg, kid)
        claims = self._claims(token, key, alg)
        return principal_from_claims(claims, user_claim=self.config.user_claim,
                                     groups_claim=self.config.groups_claim)

    def _header(self, token: str) -> tuple[str, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized(f"{_REFUSED}: it is not a JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg not in self.config.algorithms:
            raise Unauthorized(f"{_REFUSED}: its signature algorithm is not allowed "
                               f"(allowed: {', '.join(self.config.algorithms)})")
        if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_CHARS:
            raise Unauthorized(f"{_REFUSED}: its header names no key (kid)")
        return alg, kid

    def _key(self, alg: str, kid: str) -> jwt.PyJWK:
        jwk = self.keys.get(kid)
        if jwk is None:
            raise Unauthorized(f"{_REFUSED}: it is signed with a key the issuer does not "
                               "publish (unknown kid)")
        kty, curves = _KEY_OF[alg]
        if (jwk.get("kty") != kty or (curves is not None and jwk.get("crv") not in curves)
                or jwk.get("alg", alg) != alg):
            raise Unauthorized(f"{_REFUSED}: its algorithm does not match its key")
        built = self._built.get((kid, alg))
        if built is not None and built[0] is jwk:
            return built[1]
        try:
            key = jwt.PyJWK(jwk, algorithm=alg)
        except jwt.PyJWTError:
            raise Unauthorized(f"{_REFUSED}: the issuer's key for it is unusable") from None
        if len(self._built) >= 4 * MAX_KEYS:  # kids of old key sets
            self._built.clear()
        self._built[(kid, alg)] = (jwk, key)
        return key

    def _claims(self, token: str, key: jwt.PyJWK, alg: str) -> Mapping[str, Any]:
        config = self.config
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[alg], audience=config.audience, issuer=config.issuer,
                leeway=config.leeway,
                options={"require": _REQUIRED, "enforce_minimum_key_length": True})
        except jwt.PyJWTError as err:
            raise Unauthorized(f"{_REFUSED}: {_why(err)}") from None
        if _lifetime(claims) > config.max_lifetime:
            raise Unauthorized(f"{_REFUSED}: it lives longer than {config.max_lifetime} "
                               "seconds (exp - iat)")
        return claims


def _lifetime(claims: Mapping[str, Any]) -> float:
    """exp - iat. PyJWT has checked both convert with int(), which takes "123" and
    True too: those are refused here, and so are numbers no float holds."""
    exp, iat = claims["exp"], claims["iat"]
    for value in (exp, iat):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Unauthorized(f"{_REFUSED}: its exp or iat is not a number")
    try:
        return float(exp) - float(iat)
    except OverflowError:
        raise Unauthorized(f"{_REFUSED}: its exp or iat is out of range") from None


#: PyJWT's refusals, most specific first, in words that quote nothing from the token
_WHY: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "it has expired"),
    (jwt.ImmatureSignatureError, "it is not valid yet (nbf or iat in the future)"),
    (jwt.InvalidAudienceError, "it was issued for another audience"),
    (jwt.InvalidIssuerError, "it was issued by another issuer"),
    (jwt.MissingRequiredClaimError, "it lacks a required claim (exp, iat, iss, aud)"),
    (jwt.InvalidSignatureError, "its signature does not verify"),
    (jwt.InvalidKeyError, "the issuer's key for it is too weak or unusable"),
    (jwt.InvalidAlgorithmError, "its algorithm does not match its key"),
)


def _why(err: jwt.PyJWTError) -> str:
    for kind, why in _WHY:
        if isinstance(err, kind):
            return why
    return "it is malformed"
