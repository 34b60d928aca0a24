"""The HTTP application: health probes, request metrics and the service's own routes."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from {{ cookiecutter.package_name }} import metrics

Handler = Callable[[Request], Awaitable[Response]]


def create_app() -> FastAPI:
    app = FastAPI(title="{{ cookiecutter.service_name }}", description={{ cookiecutter.description | jsonify }})
    app.middleware("http")(_measure)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> dict[str, str]:
        # Check the dependencies the service needs to serve traffic here (database, ...).
        return {"status": "ready"}

    @app.get("/")
    def index() -> dict[str, str]:
        return {"service": "{{ cookiecutter.service_name }}"}

    return app


async def _measure(request: Request, call_next: Handler) -> Response:
    start = time.perf_counter()
    code = 500
    try:
        response = await call_next(request)
        code = response.status_code
        return response
    finally:
        # The route template, not the raw path, keeps the label set small.
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.observe(request.method, path, code, time.perf_counter() - start)
