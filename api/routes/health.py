"""Probes and metrics: ``/healthz`` (the process answers), ``/readyz`` (its database and
GitOps repository answer), ``/metrics`` (Prometheus text). No authentication: they say
nothing about teams, and probes and scrapers carry no tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import SettingsDep, StoreDep
from api.schemas import Health
from goldenpath.services.health import readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="healthz", response_model=Health,
            summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", operation_id="readyz", response_model=Health,
            responses={503: {"model": Health, "description": "A dependency is down"}},
            summary="The database and the GitOps repository answer")
def readyz(settings: SettingsDep, store: StoreDep) -> JSONResponse:
    checks = readiness(settings, store)
    ready = all(value.startswith("ok") for value in checks.values())
    body = Health(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics",
            response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                             "description": "Prometheus text exposition format"}})
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)
