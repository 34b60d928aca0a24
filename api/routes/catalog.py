"""``GET /catalog/entities``: the teams and services the caller may read, as Backstage
catalog entities (every team for admins, e.g. a Backstage instance's token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import PrincipalDep, SettingsDep, SpecDep
from api.errors import RESPONSES
from goldenpath.services import catalog
from goldenpath.services.access import visible_teams
from goldenpath.services.scaffold import repository_target

router = APIRouter(prefix="/catalog", tags=["catalog"], responses=RESPONSES)

_EXAMPLE = [{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
             "metadata": {"name": "payments-ledger", "title": "ledger",
                          "annotations": {
                              "argocd/app-name": "payments.ledger.prod",
                              "backstage.io/kubernetes-id": "ledger",
                              "backstage.io/source-location":
                                  "url:https://git.example.com/payments/ledger.git"},
                          "tags": ["python-service"]},
             "spec": {"type": "service", "lifecycle": "production",
                      "owner": "group:default/payments", "system": "payments"}}]


@router.get("/entities", operation_id="listCatalogEntities",
            response_model=list[dict[str, Any]], summary="Backstage catalog entities",
            responses={200: {"content": {"application/json": {"example": _EXAMPLE}}}})
def entities(principal: PrincipalDep, settings: SettingsDep,
             spec: SpecDep) -> list[dict[str, Any]]:
    def url(team: str, service: str) -> str:
        return repository_target(settings, spec, team, service).url

    return catalog.entities(spec, visible_teams(spec, principal), url)
