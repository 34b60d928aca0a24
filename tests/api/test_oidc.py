"""OIDC bearer tokens through the API: a real issuer on 127.0.0.1 (tests/identity)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import make_settings
from tests.identity.conftest import AUDIENCE, Issuer, issuer  # noqa: F401  (a fixture)

SERVICE = {"name": "refunds", "template": "python-worker", "parameters": {"queue": "refunds"}}


@pytest.fixture
def client(tmp_path: Path, issuer: Issuer) -> Iterator[TestClient]:  # noqa: F811
    settings = make_settings(tmp_path, api_workers=0, oidc_issuer=issuer.url,
                             oidc_audience=AUDIENCE)
    with TestClient(create_app(settings)) as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_owner_s_jwt_scaffolds_and_a_member_s_does_not(client: TestClient,
                                                          issuer: Issuer) -> None:  # noqa: F811
    alice = issuer.mint(email="alice@example.com", groups=[])
    answer = client.post("/v1/teams/payments/services", json=SERVICE, headers=_bearer(alice))
    assert answer.status_code == 202, answer.text
    assert answer.json()["actor"] == "user:alice@example.com"
    dev = issuer.mint(email="dev@example.com", groups=["payments-devs"])
    member = client.post("/v1/teams/payments/services", json=SERVICE, headers=_bearer(dev))
    assert member.status_code == 403
    rid = answer.json()["id"]
    assert client.get(f"/v1/requests/{rid}", headers=_bearer(dev)).status_code == 200


def test_a_group_s_admin_scaffolds_and_the_worker_authorizes_the_group_again(
        tmp_path: Path, issuer: Issuer) -> None:  # noqa: F811
    """The worker checks the requester again without its token: the subjects that made
    it an admin at submission are kept with the request (and only those)."""
    settings = make_settings(tmp_path, oidc_issuer=issuer.url, oidc_audience=AUDIENCE)
    ops = _bearer(issuer.mint(email="ops@example.com",
                              groups=["platform-admins", "secret-project"]))
    with TestClient(create_app(settings, seed=True)) as client:
        answer = client.post("/v1/teams/payments/services", json=SERVICE, headers=ops)
        assert answer.status_code == 202, answer.text
        assert answer.json()["payload"]["grantedBy"] == ["group:platform-admins"]
        deadline = time.monotonic() + 60
        while (done := client.get(f"/v1/requests/{answer.json()['id']}",
                                  headers=ops).json())["state"] not in {"succeeded",
                                                                         "failed"}:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert done["state"] == "succeeded", done
    assert done["result"]["specCommit"]


@pytest.mark.parametrize(("claims", "message"), [
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000},
     "bearer token refused: it has expired"),
    ({"aud": "another-app"}, "bearer token refused: it was issued for another audience"),
])
def test_bad_jwts_are_401(client: TestClient, issuer: Issuer,  # noqa: F811
                          claims: dict[str, object], message: str) -> None:
    answer = client.get("/v1/templates", headers=_bearer(issuer.mint(**claims)))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["message"].startswith(message)


def test_alg_none_is_401(client: TestClient, issuer: Issuer) -> None:  # noqa: F811
    unsigned = jwt.encode(issuer.claims(), None, algorithm="none",  # type: ignore[arg-type]
                          headers={"kid": issuer.keys[0].kid})
    answer = client.get("/v1/templates", headers=_bearer(unsigned))
    assert answer.status_code == 401


def test_an_unreachable_issuer_is_503_not_401(client: TestClient,
                                             issuer: Issuer) -> None:  # noqa: F811
    issuer.routes["/.well-known/openid-configuration"] = (500, b"down", {})
    answer = client.get("/v1/templates", headers=_bearer(issuer.mint()))
    assert (answer.status_code, answer.json()["error"]) == (503, "IdentityProviderError")
