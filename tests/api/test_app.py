"""The app's contract: errors mapped once per type, the OpenAPI document, readiness."""

from __future__ import annotations

import inspect

import pytest
from fastapi.testclient import TestClient

from api.errors import STATUS
from api.main import create_app
from goldenpath import errors
from goldenpath.settings import Settings
from tests.api.conftest import Api

OPERATIONS = {
    ("get", "/v1/healthz"): "healthz",
    ("get", "/v1/readyz"): "readyz",
    ("get", "/v1/metrics"): "metrics",
    ("get", "/v1/templates"): "listTemplates",
    ("get", "/v1/teams"): "listTeams",
    ("post", "/v1/teams"): "createTeam",
    ("get", "/v1/teams/{team}"): "getTeam",
    ("put", "/v1/teams/{team}"): "updateTeam",
    ("delete", "/v1/teams/{team}"): "deleteTeam",
    ("post", "/v1/teams/{team}/plan"): "planTeam",
    ("post", "/v1/teams/{team}/services"): "createService",
    ("get", "/v1/requests/{request_id}"): "getRequest",
    ("get", "/v1/requests/{request_id}/events"): "followRequest",
    ("post", "/v1/requests/{request_id}/approve"): "approveRequest",
    ("post", "/v1/requests/{request_id}/reject"): "rejectRequest",
    ("get", "/v1/audit"): "listAudit",
    ("post", "/v1/tokens"): "mintToken",
    ("get", "/v1/tokens"): "listTokens",
    ("delete", "/v1/tokens/{token_id}"): "revokeToken",
    ("get", "/v1/catalog/entities"): "listCatalogEntities",
}


def test_every_error_type_has_its_one_status() -> None:
    types = {c for _, c in inspect.getmembers(errors, inspect.isclass)
             if issubclass(c, errors.GoldenpathError)}
    assert types <= set(STATUS), sorted(t.__name__ for t in types - set(STATUS))


def test_the_openapi_document_names_every_operation_stably(idle_api: Api) -> None:
    document = idle_api.client.get("/openapi.json").json()
    found = {(method, path): op["operationId"]
             for path, item in document["paths"].items() for method, op in item.items()}
    assert found == OPERATIONS
    create = document["paths"]["/v1/teams/{team}/services"]["post"]
    assert set(create["responses"]) >= {"201", "202", "401", "403", "409", "413", "422"}
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/NewService")
    schemas = document["components"]["schemas"]
    assert schemas["NewService"]["additionalProperties"] is False
    assert schemas["RequestOut"]["examples"]


def test_readiness_fails_with_the_reason_when_git_is_unreachable(tmp_path: object,
                                                                  settings: Settings) -> None:
    broken = settings.model_copy(update={"gitops_repo": str(settings.state_dir / "nowhere")})
    with TestClient(create_app(broken)) as client:
        answer = client.get("/v1/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert (body["status"], body["checks"]["database"]) == ("unavailable", "ok")
    assert body["checks"]["git"].startswith("cannot reach ")


def test_a_store_outage_is_503_not_500(idle_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    store = idle_api.client.app.state.store  # type: ignore[attr-defined]

    def down(*args: object, **kwargs: object) -> None:
        raise errors.StoreError("the database sqlite:///x is unavailable")

    monkeypatch.setattr(store.tokens, "verify", down)
    answer = idle_api.client.get("/v1/templates", headers=idle_api.auth("owner"))
    assert (answer.status_code, answer.json()["error"]) == (503, "StoreError")
    ready = idle_api.client.get("/v1/readyz")
    assert ready.status_code == 200  # ping still answers: only verify was broken
