"""OIDC JWT verification against a real issuer on 127.0.0.1 (see conftest).

Each refusal is an attack that passes every other check: the token is well formed,
signed by a key the issuer publishes (unless the attack is the key), current, for this
audience and issuer, except for the one thing the test changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from goldenpath.errors import IdentityProviderError, Unauthorized
from goldenpath.identity import OIDCConfig, OIDCVerifier, Principal
from tests.identity.conftest import AUDIENCE, Clock, Issuer, SigningKey, ec_key, rsa_key

REFUSED = "bearer token refused: "


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return head + "." + _b64(signature)


def _refused(verifier: OIDCVerifier, token: str, why: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    assert str(caught.value) == REFUSED + why
    assert not token or token not in str(caught.value)


# --- accepted -------------------------------------------------------------------------


def test_a_valid_rsa_token_names_its_user_and_groups(issuer: Issuer,
                                                     verifier: OIDCVerifier) -> None:
    principal = verifier.verify(issuer.mint())
    assert principal == Principal(frozenset({"user:alice@example.com",
                                             "group:payments-devs"}),
                                  actor="user:alice@example.com")
    assert not principal.admin


def test_a_valid_ec_token_is_accepted(issuer: Issuer, verifier: OIDCVerifier,
                                      ec_signer: SigningKey) -> None:
    assert "user:alice@example.com" in verifier.verify(issuer.mint(ec_signer)).subjects


def test_keys_come_from_the_discovery_document_when_no_jwks_url_is_set(
        issuer: Issuer, verifier: OIDCVerifier) -> None:
    verifier.verify(issuer.mint())
    verifier.verify(issuer.mint())
    assert issuer.hits == {"/.well-known/openid-configuration": 1, "/jwks": 1}


def test_a_configured_jwks_url_skips_discovery(
        issuer: Issuer, make_verifier: Callable[..., OIDCVerifier]) -> None:
    make_verifier(jwks_url=f"{issuer.url}/jwks").verify(issuer.mint())
    assert issuer.hits == {"/jwks": 1}


def test_a_new_key_is_accepted_after_rotation(issuer: Issuer, verifier: OIDCVerifier,
                                              rsa_signer: SigningKey, clock: Clock) -> None:
    verifier.verify(issuer.mint())  # caches the JWKS with rsa-1 only
    rotated = rsa_key("rsa-2")
    issuer.publish(rsa_signer, rotated)
    clock.now += 31  # past the refresh interval, well within the cache's ttl
    assert "user:alice@example.com" in verifier.verify(issuer.mint(rotated)).subjects
    assert issuer.hits["/jwks"] == 2


def test_the_cache_expires_after_its_ttl(issuer: Issuer, clock: Clock,
                                         make_verifier: Callable[..., OIDCVerifier]) -> None:
    verifier = make_verifier(ttl=60)
    verifier.verify(issuer.mint())
    clock.now += 59
    verifier.verify(issuer.mint())
    assert issuer.hits["/jwks"] == 1
    clock.now += 2
    verifier.verify(issuer.mint())
    assert issuer.hits["/jwks"] == 2


def test_a_retired_key_is_refused_once_the_cache_expires(
        issuer: Issuer, clock: Clock, make_verifier: Callable[..., OIDCVerifier],
        ec_signer: SigningKey) -> None:
    verifier = make_verifier(ttl=60)
    verifier.verify(issuer.mint())
    issuer.publish(ec_signer)  # rsa-1 retired
    clock.now += 61
    _refused(verifier, issuer.mint(rsa_key("rsa-1")),
             "it is signed with a key the issuer does not publish (unknown kid)")


def test_an_issuer_outage_keeps_the_cached_keys_serving(
        issuer: Issuer, clock: Clock, make_verifier: Callable[..., OIDCVerifier]) -> None:
    verifier = make_verifier(ttl=60)
    verifier.verify(issuer.mint())
    issuer.routes["/jwks"] = (503, b"{}", {})
    clock.now += 61
    assert verifier.verify(issuer.mint()).subjects
    assert issuer.hits["/jwks"] == 2


def test_clock_skew_within_the_leeway_is_tolerated(issuer: Issuer,
                                                   verifier: OIDCVerifier) -> None:
    now = int(time.time())
    verifier.verify(issuer.mint(exp=now - 30, iat=now - 300, nbf=now + 30))


# --- refused: time, audience, issuer ---------------------------------------------------


def test_an_expired_token_is_refused(issuer: Issuer, verifier: OIDCVerifier) -> None:
    now = int(time.time())
    _refused(verifier, issuer.mint(iat=now - 4000, nbf=now - 4000, exp=now - 3600),
             "it has expired")


def test_a_token_not_valid_yet_is_refused(issuer: Issuer, verifier: OIDCVerifier) -> None:
    now = int(time.time())
    _refused(verifier, issuer.mint(nbf=now + 3600, exp=now + 7200),
             "it is not valid yet (nbf or iat in the future)")


def test_a_token_issued_in_the_future_is_refused(issuer: Issuer,
                                                 verifier: OIDCVerifier) -> None:
    now = int(time.time())
    _refused(verifier, issuer.mint(iat=now + 3600, nbf=None, exp=now + 7200),
             "it is not valid yet (nbf or iat in the future)")


def test_a_token_that_lives_too_long_is_refused(issuer: Issuer,
                                                verifier: OIDCVerifier) -> None:
    now = int(time.time())
    _refused(verifier, issuer.mint(exp=now + 365 * 86400),
             "it lives longer than 86400 seconds (exp - iat)")


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud"])
def test_a_token_without_a_required_claim_is_refused(issuer: Issuer, verifier: OIDCVerifier,
                                                     claim: str) -> None:
    _refused(verifier, issuer.mint(**{claim: None}),
             "it lacks a required claim (exp, iat, iss, aud)")


@pytest.mark.parametrize(("claims", "why"), [
    ({"exp": 10**400}, "its exp or iat is out of range"),
    ({"iat": True}, "its exp or iat is not a number"),
    ({"exp": 1e400}, "it is malformed"),
    ({"iat": "now"}, "it is malformed"),
])
def test_time_claims_out_of_range_are_refused(issuer: Issuer, verifier: OIDCVerifier,
                                              claims: dict[str, Any], why: str) -> None:
    _refused(verifier, issuer.mint(**claims), why)


def test_a_time_claim_that_is_a_string_is_refused(issuer: Issuer,
                                                  verifier: OIDCVerifier) -> None:
    # PyJWT reads exp with int(), which takes "99999999999"; goldenpath does not
    _refused(verifier, issuer.mint(exp=str(int(time.time()) + 600)),
             "its exp or iat is not a number")


@pytest.mark.parametrize("audience", ["other-app", ["other-app", "third-app"],
                                      "goldenpath-api-2", "goldenpath"])
def test_a_token_for_another_audience_is_refused(issuer: Issuer, verifier: OIDCVerifier,
                                                 audience: object) -> None:
    _refused(verifier, issuer.mint(aud=audience), "it was issued for another audience")


def test_a_token_naming_the_api_among_its_audiences_is_accepted(
        issuer: Issuer, verifier: OIDCVerifier) -> None:
    assert verifier.verify(issuer.mint(aud=["other-app", AUDIENCE])).subjects


@pytest.mark.parametrize("iss", ["https://evil.example.com", "{url}/", "{url}/tenant"])
def test_a_token_from_another_issuer_is_refused(issuer: Issuer, verifier: OIDCVerifier,
                                                iss: str) -> None:
    _refused(verifier, issuer.mint(iss=iss.format(url=issuer.url)),
             "it was issued by another issuer")


# --- refused: keys and algorithms ------------------------------------------------------


def test_a_key_the_issuer_does_not_publish_is_refused_after_one_refresh(
        issuer: Issuer, verifier: OIDCVerifier, clock: Clock) -> None:
    verifier.verify(issuer.mint())
    clock.now += 31
    rogue = rsa_key("rogue")
    _refused(verifier, issuer.mint(rogue),
             "it is signed with a key the issuer does not publish (unknown kid)")
    assert issuer.hits["/jwks"] == 2  # the first fetch and one refresh


def test_unknown_kids_refresh_the_jwks_at_most_once_per_interval(
        issuer: Issuer, clock: Clock, make_verifier: Callable[..., OIDCVerifier]) -> None:
    verifier = make_verifier(min_refresh=30)
    verifier.verify(issuer.mint())
    clock.now += 31
    rogue = rsa_key("rogue")
    for i in range(20):
        _refused(verifier, issuer.mint(rogue, headers={"kid": f"made-up-{i}"}),
                 "it is signed with a key the issuer does not publish (unknown kid)")
    assert issuer.hits["/jwks"] == 2
    clock.now += 31
    _refused(verifier, issuer.mint(rogue),
             "it is signed with a key the issuer does not publish (unknown kid)")
    assert issuer.hits["/jwks"] == 3


def test_a_published_kid_on_a_token_signed_by_another_key_is_refused(
        issuer: Issuer, verifier: OIDCVerifier) -> None:
    impostor = rsa_key("rsa-1")  # same kid as the issuer's key, different key
    _refused(verifier, issuer.mint(impostor), "its signature does not verify")


def test_a_token_without_a_kid_is_refused(issuer: Issuer, verifier: OIDCVerifier,
                                          rsa_signer: SigningKey) -> None:
    _refused(verifier, issuer.mint(rsa_signer, headers={"kid": None}),
             "its header names no key (kid)")
    assert issuer.hits == {}


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "", None])
def test_an_unsigned_token_is_refused(issuer: Issuer, verifier: OIDCVerifier,
                                      alg: str | None) -> None:
    token = _forge({"alg": alg, "kid": "rsa-1", "typ": "JWT"}, issuer.claims())
    _refused(verifier, token, "its signature algorithm is not allowed (allowed: RS256, ES256)")
    assert issuer.hits == {}  # refused before any key is fetched


def _public_forms(key: SigningKey) -> list[bytes]:
    public = key.private.public_key()  # type: ignore[union-attr]
    return [public.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo),
            public.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.PKCS1),
            public.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo),
            json.dumps(key.jwk()).encode()]


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("form", range(4))
def test_hmac_signed_with_the_issuers_public_key_is_refused(
        issuer: Issuer, verifier: OIDCVerifier, rsa_signer: SigningKey, alg: str,
        form: int) -> None:
    """Algorithm confusion: the public key is public, so an HMAC 'signed' with it is
    something anyone can make."""
    secret = _public_forms(rsa_signer)[form]
    header = {"alg": alg, "kid": "rsa-1", "typ": "JWT"}
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(
        issuer.claims(groups=["platform-admins"])).encode())
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    token = head + "." + _b64(hmac.new(secret, head.encode(), digest).digest())
    _refused(verifier, token, "its signature algorithm is not allowed (allowed: RS256, ES256)")


@pytest.mark.parametrize("algorithms", [("HS256",), ("RS256", "HS256"), ("none",), ()])
def test_the_allow_list_takes_no_symmetric_or_empty_algorithm(
        issuer: Issuer, algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        OIDCConfig(issuer=issuer.url, audience=AUDIENCE, algorithms=algorithms)


def test_an_rsa_algorithm_on_an_ec_key_is_refused(
        issuer: Issuer, verifier: OIDCVerifier, ec_signer: SigningKey) -> None:
    rogue = SigningKey("ec-1", "RS256", rsa_key("x").private)  # header RS256, kid of EC key
    _refused(verifier, issuer.mint(rogue), "its algorithm does not match its key")


def test_an_algorithm_other_than_the_keys_own_is_refused(
        issuer: Issuer, make_verifier: Callable[..., OIDCVerifier],
        rsa_signer: SigningKey) -> None:
    verifier = make_verifier(algorithms=("RS256", "RS384", "PS256"))
    for alg in ("RS384", "PS256"):  # the JWK says alg RS256
        token = issuer.mint(SigningKey("rsa-1", alg, rsa_signer.private))
        _refused(verifier, token, "its algorithm does not match its key")


def test_an_ec_key_of_another_curve_is_refused(
        issuer: Issuer, make_verifier: Callable[..., OIDCVerifier]) -> None:
    p384 = ec_key("ec-384", "ES384")
    jwk = {k: v for k, v in p384.jwk().items() if k != "alg"}  # no alg: the curve decides
    issuer.jwks = {"keys": [jwk]}
    verifier = make_verifier(algorithms=("ES256", "ES384"))
    token = issuer.mint(SigningKey("ec-384", "ES256", ec_key("x").private))
    _refused(verifier, token, "its algorithm does not match its key")
    assert verifier.verify(issuer.mint(p384)).subjects


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_weak_rsa_key_is_refused(issuer: Issuer, verifier: OIDCVerifier) -> None:
    weak = rsa_key("weak", bits=1024)
    issuer.publish(weak)
    _refused(verifier, issuer.mint(weak), "the issuer's key for it is too weak or unusable")


def test_symmetric_keys_in_the_jwks_are_ignored(issuer: Issuer,
                                                verifier: OIDCVerifier) -> None:
    issuer.jwks = {"keys": [{"kty": "oct", "kid": "rsa-1", "k": _b64(b"s" * 32)}]}
    _refused(verifier, issuer.mint(),
             "it is signed with a key the issuer does not publish (unknown kid)")


def test_a_kid_published_twice_is_ignored(issuer: Issuer, verifier: OIDCVerifier,
                                          rsa_signer: SigningKey) -> None:
    other = rsa_key("rsa-1")
    issuer.jwks = {"keys": [rsa_signer.jwk(), other.jwk()]}
    _refused(verifier, issuer.mint(),
             "it is signed with a key the issuer does not publish (unknown kid)")


def test_a_key_for_encryption_is_not_a_signing_key(issuer: Issuer, verifier: OIDCVerifier,
                                                   rsa_signer: SigningKey) -> None:
    issuer.jwks = {"keys": [{**rsa_signer.jwk(), "use": "enc"}]}
    _refused(verifier, issuer.mint(),
             "it is signed with a key the issuer does not publish (unknown kid)")


# --- refused: shape --------------------------------------------------------------------


def test_a_tampered_payload_is_refused(issuer: Issuer, verifier: OIDCVerifier) -> None:
    head, _, signature = issuer.mint().split(".")
    payload = _b64(json.dumps(issuer.claims(groups=["platform-admins"])).encode())
    _refused(verifier, f"{head}.{payload}.{signature}", "its signature does not verify")


def test_a_tampered_header_is_refused(issuer: Issuer, verifier: OIDCVerifier) -> None:
    _, payload, signature = issuer.mint().split(".")
    head = _b64(json.dumps({"alg": "RS256", "kid": "rsa-1", "typ": "JWT", "x": 1}).encode())
    _refused(verifier, f"{head}.{payload}.{signature}", "its signature does not verify")


def test_an_oversized_token_is_refused_before_anything_is_fetched(
        issuer: Issuer, verifier: OIDCVerifier) -> None:
    token = issuer.mint(padding="x" * 8192)
    _refused(verifier, token, "it is longer than 8192 bytes")
    assert issuer.hits == {}


@pytest.mark.parametrize("token", ["", "a.b.c", "not-a-jwt", "..", "%%%.e30.x", "e30",
                                   "\ud800.e30.e30", "\u00e9.e30.e30",
                                   _b64(b'{"alg":"RS256","kid":1}') + ".e30.e30",
                                   _b64(b'[1]') + ".e30.e30", _b64(b"{") + ".e30.e30"])
def test_a_malformed_token_is_refused(verifier: OIDCVerifier, token: str) -> None:
    _refused(verifier, token, "it is not a JWT")


@pytest.mark.parametrize("groups", ["payments-devs", {"payments-devs": True}, [1],
                                    [["platform-admins"]], [None], [""], ["x" * 248],
                                    [f"g{i}" for i in range(257)]])
def test_a_groups_claim_of_the_wrong_shape_is_refused(issuer: Issuer,
                                                      verifier: OIDCVerifier,
                                                      groups: object) -> None:
    with pytest.raises(Unauthorized, match=r"^bearer token refused: its 'groups' claim"):
        verifier.verify(issuer.mint(groups=groups))


# --- bounded fetches -------------------------------------------------------------------


def _unavailable(verifier: OIDCVerifier, issuer: Issuer, message: str) -> None:
    with pytest.raises(IdentityProviderError) as caught:
        verifier.verify(issuer.mint())
    assert str(caught.value) == message


def test_an_oversized_jwks_is_refused(issuer: Issuer, verifier: OIDCVerifier) -> None:
    issuer.routes["/jwks"] = (200, b" " * (256 * 1024 + 1), {})
    _unavailable(verifier, issuer, f"OIDC: {issuer.url}/jwks: is larger than 262144 bytes")


def test_an_oversized_jwks_without_a_length_is_refused(issuer: Issuer,
                                                       verifier: OIDCVerifier) -> None:
    issuer.unsized = True
    issuer.routes["/jwks"] = (200, b" " * (256 * 1024 + 1), {})
    _unavailable(verifier, issuer, f"OIDC: {issuer.url}/jwks: is larger than 262144 bytes")


def test_a_jwks_trickling_in_is_cut_off_at_the_deadline(
        issuer: Issuer, make_verifier: Callable[..., OIDCVerifier]) -> None:
    from goldenpath.identity import FetchLimits

    verifier = make_verifier(jwks_url=f"{issuer.url}/jwks", fetch=FetchLimits(timeout=0.5))
    issuer.trickle = 0.05  # each byte well within a read timeout, the body never within 0.5s
    started = time.monotonic()
    _unavailable(verifier, issuer,
                 f"OIDC: {issuer.url}/jwks: took longer than the fetch timeout")
    assert time.monotonic() - started < 2


def test_a_redirect_is_not_followed(issuer: Issuer, verifier: OIDCVerifier) -> None:
    issuer.routes["/jwks"] = (302, b"", {"Location": f"{issuer.url}/elsewhere"})
    with pytest.raises(IdentityProviderError, match="could not be fetched: HTTP Error 302"):
        verifier.verify(issuer.mint())
    assert issuer.hits["/elsewhere"] == 0


@pytest.mark.parametrize("body", [b"not json", b"[]", b"{\"keys\": {}}",
                                  b"[" * 100_000 + b"]" * 100_000])
def test_a_jwks_that_is_not_one_is_refused(issuer: Issuer, verifier: OIDCVerifier,
                                           body: bytes) -> None:
    issuer.routes["/jwks"] = (200, body, {})
    with pytest.raises(IdentityProviderError, match=f"^OIDC: {issuer.url}/jwks: is not"):
        verifier.verify(issuer.mint())


def test_a_jwks_of_too_many_keys_is_refused(issuer: Issuer, verifier: OIDCVerifier,
                                            rsa_signer: SigningKey) -> None:
    issuer.jwks = {"keys": [rsa_signer.jwk()] * 101}
    _unavailable(verifier, issuer, f"OIDC: {issuer.url}/jwks: lists more than 100 keys")


def test_a_discovery_document_of_another_issuer_is_refused(
        issuer: Issuer, verifier: OIDCVerifier) -> None:
    document = {**issuer.discovery(), "issuer": "https://evil.example.com"}
    issuer.routes["/.well-known/openid-configuration"] = (200, json.dumps(document).encode(), {})
    _unavailable(verifier, issuer, f"OIDC: {issuer.url}/.well-known/openid-configuration: "
                                   f"names another issuer than {issuer.url}")
    assert issuer.hits["/jwks"] == 0


def test_a_discovered_jwks_uri_over_plain_http_is_refused(
        issuer: Issuer, verifier: OIDCVerifier) -> None:
    document = {**issuer.discovery(), "jwks_uri": "http://keys.example.com/jwks"}
    issuer.routes["/.well-known/openid-configuration"] = (200, json.dumps(document).encode(), {})
    _unavailable(verifier, issuer, f"OIDC: {issuer.url}/.well-known/openid-configuration: "
                 "jwks_uri http://keys.example.com/jwks must be an https:// URL "
                 "(http:// only to 127.0.0.1, ::1 or localhost)")


def test_an_unreachable_issuer_is_unavailable_not_unauthorized(
        make_verifier: Callable[..., OIDCVerifier], issuer: Issuer) -> None:
    verifier = make_verifier(jwks_url="http://127.0.0.1:9/jwks")
    with pytest.raises(IdentityProviderError, match=r"^OIDC: http://127\.0\.0\.1:9/jwks: could"):
        verifier.verify(issuer.mint())


def test_no_mangled_token_gets_past_as_anything_but_unauthorized(
        issuer: Issuer, verifier: OIDCVerifier) -> None:
    """PyJWT's and the codecs' exceptions never leave the adapter: every single-character
    change of a valid token, in each of its three parts, is an Unauthorized with no cause
    attached."""
    token = issuer.mint()
    for i in range(0, len(token), 7):
        for char in ("A", "-", ".", "=", "\u00ff"):
            mangled = token[:i] + char + token[i + 1:]
            if mangled == token:
                continue
            with pytest.raises(Unauthorized) as caught:
                verifier.verify(mangled)
            error = caught.value
            assert error.__cause__ is None
            assert error.__context__ is None or error.__suppress_context__


def test_concurrent_callers_share_one_refresh(issuer: Issuer, clock: Clock,
                                              verifier: OIDCVerifier,
                                              rsa_signer: SigningKey) -> None:
    from concurrent.futures import ThreadPoolExecutor

    verifier.verify(issuer.mint())
    rotated = rsa_key("rsa-3")
    issuer.publish(rsa_signer, rotated)
    clock.now += 31
    tokens = [issuer.mint(rotated) for _ in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        principals = list(pool.map(verifier.verify, tokens))
    assert all("user:alice@example.com" in p.subjects for p in principals)
    assert issuer.hits["/jwks"] == 2


def test_a_kid_rekeyed_by_the_issuer_verifies_with_the_new_key_only(
        issuer: Issuer, clock: Clock, make_verifier: Callable[..., OIDCVerifier]) -> None:
    verifier = make_verifier(ttl=60)
    old_token = issuer.mint()
    verifier.verify(old_token)  # builds and keeps the key of rsa-1
    rekeyed = rsa_key("rsa-1")
    issuer.publish(rekeyed)
    clock.now += 61
    assert verifier.verify(issuer.mint(rekeyed)).subjects
    _refused(verifier, old_token, "its signature does not verify")
