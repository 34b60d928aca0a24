"""The Authorization header to a Principal: admin token, OIDC, minted API tokens."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from goldenpath.errors import Unauthorized
from goldenpath.identity import Authenticator, OIDCVerifier, Principal
from goldenpath.settings import Settings
from tests.identity.conftest import AUDIENCE, Issuer

ADMIN = "a" * 20 + "0123456789abcdef"
NO_TOKEN = "no bearer token: send the header 'Authorization: Bearer <token>'"
UNKNOWN = "bearer token refused: it is not a token this API issued or trusts"


def _refused(auth: Authenticator, header: str | None, message: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        auth.authenticate(header)
    assert str(caught.value) == message


def test_the_admin_token_is_the_bootstrap_admin() -> None:
    auth = Authenticator(admin_token=ADMIN)
    assert auth.authenticate(f"Bearer {ADMIN}") == Principal.bootstrap_admin()
    assert auth.authenticate(f"bearer {ADMIN}").admin


@pytest.mark.parametrize("guess", [ADMIN[:-1], ADMIN + "0", ADMIN[:-1] + "e", ADMIN.upper(),
                                   ADMIN[:16], f"{ADMIN} {ADMIN}"])
def test_a_near_miss_of_the_admin_token_is_refused(guess: str) -> None:
    message = NO_TOKEN if " " in guess else UNKNOWN
    _refused(Authenticator(admin_token=ADMIN), f"Bearer {guess}", message)


def test_no_admin_token_configured_admits_no_empty_token() -> None:
    _refused(Authenticator(), "Bearer ", NO_TOKEN)
    _refused(Authenticator(), "Bearer x", UNKNOWN)


@pytest.mark.parametrize("header", [None, "", ADMIN, f"Basic {ADMIN}", f"Token {ADMIN}",
                                    "Bearer", "Bearer  ", f"Bearer {ADMIN}\u00e9"])
def test_anything_but_a_bearer_header_is_no_token(header: str | None) -> None:
    _refused(Authenticator(admin_token=ADMIN), header, NO_TOKEN)


def test_an_oversized_header_is_refused_unread() -> None:
    looked_up: list[str] = []

    def lookup(token: str) -> Principal | None:
        looked_up.append(token)
        return None

    _refused(Authenticator(api_tokens=lookup), "Bearer " + "x" * 8193,
             "bearer token refused: it is longer than 8192 bytes")
    assert looked_up == []


def test_a_jwt_goes_to_the_oidc_verifier(issuer: Issuer, verifier: OIDCVerifier) -> None:
    auth = Authenticator(admin_token=ADMIN, oidc=verifier)
    assert "group:payments-devs" in auth.authenticate(f"Bearer {issuer.mint()}").subjects
    _refused(auth, f"Bearer {issuer.mint(aud='other')}",
             "bearer token refused: it was issued for another audience")


def test_minted_api_tokens_are_looked_up_through_the_store_seam() -> None:
    ci = Principal.of(["user:ci-payments"])
    auth = Authenticator(api_tokens={"gp_ci": ci}.get)
    assert auth.authenticate("Bearer gp_ci") == ci
    _refused(auth, "Bearer gp_revoked", UNKNOWN)


def test_from_settings_wires_admin_token_and_oidc(issuer: Issuer) -> None:
    settings = Settings(admin_token=ADMIN, oidc_issuer=issuer.url, oidc_audience=AUDIENCE)
    auth = Authenticator.from_settings(settings)
    assert auth.authenticate(f"Bearer {ADMIN}").admin
    assert auth.authenticate(f"Bearer {issuer.mint()}").actor == "user:alice@example.com"


# --- settings --------------------------------------------------------------------------


def test_settings_read_the_documented_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"ADMIN_TOKEN": ADMIN, "OIDC_ISSUER": "https://login.example.com",
                        "OIDC_AUDIENCE": "goldenpath", "OIDC_USER_CLAIM": "preferred_username",
                        "OIDC_GROUPS_CLAIM": "roles",
                        "OIDC_JWKS_URL": "https://login.example.com/keys",
                        "OIDC_ALGORITHMS": '["ES256"]'}.items():
        monkeypatch.setenv(f"GOLDENPATH_{name}", value)
    settings = Settings()
    assert (settings.admin_token.get_secret_value(), settings.oidc_issuer,
            settings.oidc_audience, settings.oidc_user_claim, settings.oidc_groups_claim,
            settings.oidc_jwks_url, settings.oidc_algorithms) == (
        ADMIN, "https://login.example.com", "goldenpath", "preferred_username", "roles",
        "https://login.example.com/keys", ("ES256",))
    assert ADMIN not in repr(settings)


@pytest.mark.parametrize(("fields", "message"), [
    ({"admin_token": "short"}, "must be at least 32 characters"),
    ({"oidc_algorithms": ["HS256"]}, "HS256 is not allowed"),
    ({"oidc_algorithms": ["RS256", "none"]}, "none is not allowed"),
    ({"oidc_algorithms": []}, "an empty list is not allowed"),
    ({"oidc_issuer": "https://login.example.com"}, "GOLDENPATH_OIDC_AUDIENCE must be set"),
    ({"oidc_issuer": "http://login.example.com", "oidc_audience": "x"},
     "must be an https:// URL"),
    ({"oidc_issuer": "https://u:p@login.example.com", "oidc_audience": "x"},
     "must not carry credentials"),
    ({"oidc_issuer": "https://l.example.com", "oidc_audience": "x",
      "oidc_jwks_url": "http://10.0.0.1/keys"}, "must be an https:// URL"),
    ({"oidc_issuer": "login.example.com", "oidc_audience": "x"}, "is not an absolute URL"),
])
def test_unsafe_settings_refuse_to_start(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**fields)  # type: ignore[arg-type]
