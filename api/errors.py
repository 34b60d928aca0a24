"""goldenpath's errors as HTTP answers: one handler per type of ``goldenpath/errors.py``,
registered in :func:`api.main.create_app`, and nowhere else (routes never catch).

| error | status | why |
| --- | --- | --- |
| SpecError, TemplateError | 422 | invalid input; ``details``: ``file: field.path: value: rule`` |
| PolicyViolation | 422 | the input renders objects a guardrail refuses; ``guardrails`` names them |
| NotFound | 404 | |
| Conflict | 409 | exists already, changed meanwhile, or an illegal transition |
| PreconditionFailed | 412 | a stale ``If-Match`` (services.teams.PreconditionFailed) |
| TooLarge | 413 | |
| Unauthorized | 401 | with ``WWW-Authenticate: Bearer`` |
| Forbidden | 403 | |
| GitError | 502 | a git server goldenpath depends on failed |
| RemoteUnavailable | 503 | that git server cannot be reached now (down, refusing connections) |
| StoreError (StoreUnavailable), IdentityProviderError | 503 | goldenpath cannot serve now |
| SettingsError, FileSystemError (DiskFull) | 503 | goldenpath's own configuration or state |
| any other GoldenpathError | 500 | a type added without a row here |

Request bodies FastAPI refuses before a route runs (missing or unknown fields, wrong
types) get the same 422 shape, their messages written ``request body: field.path: value:
rule`` as the spec loader writes them; a body that is not JSON at all (FastAPI's own 400)
is a 422 too. Starlette's other HTTP errors (an unknown path, a method not allowed) keep
their status in the same shape.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from goldenpath import errors
from goldenpath.errors import GoldenpathError, SpecIssue
from goldenpath.services import teams

log = logging.getLogger("api.errors")


class Problem(BaseModel):
    """Every error answer: the error type, one message, and its parts when it has many."""

    error: str = Field(examples=["SpecError"])
    message: str = Field(examples=["1 spec error\n  request body: name: \"Bad_Name\": is not "
                                   "a DNS-1123 label"])
    details: list[str] = Field(default_factory=list, examples=[[
        'platform/teams/payments.yaml: spec.services: "Bad_Name": is not a DNS-1123 label']])
    guardrails: list[str] = Field(default_factory=list)


STATUS: dict[type[GoldenpathError], int] = {
    errors.SpecError: 422,
    errors.TemplateError: 422,
    errors.PolicyViolation: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.GitError: 502,
    errors.RemoteUnavailable: 503,
    errors.StoreError: 503,
    errors.StoreUnavailable: 503,
    errors.IdentityProviderError: 503,
    errors.SettingsError: 503,
    errors.FileSystemError: 503,
    errors.DiskFull: 503,
    errors.GoldenpathError: 500,
}
STATUS[teams.PreconditionFailed] = 412

#: the error answers every route may give, for the OpenAPI document
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No bearer token, or one not accepted"},
    403: {"model": Problem, "description": "Not allowed (says nothing of other teams)"},
    503: {"model": Problem, "description": "The database, the git remote or the identity "
                                           "provider is down, or the disk is full"},
}


def problem(error: GoldenpathError) -> Problem:
    details: list[str] = []
    guardrails: list[str] = []
    if isinstance(error, errors.SpecError):
        details = [str(issue) for issue in error.issues]
    elif isinstance(error, errors.PolicyViolation):
        details = [str(v) for v in error.violations]
        guardrails = sorted({v.guardrail for v in error.violations})
    return Problem(error=type(error).__name__, message=str(error), details=details,
                   guardrails=guardrails)


def problem_response(error: GoldenpathError, status: int) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(problem(error).model_dump(), status_code=status, headers=headers)


def _handler(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, GoldenpathError)
        if status >= 500:
            log.error("%s: %s", type(error).__name__, error)
        return problem_response(error, status)
    return handle


async def _invalid_body(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    issues = [_issue(e) for e in error.errors()]
    return problem_response(errors.SpecError(issues), 422)


def _issue(error: dict[str, Any]) -> SpecIssue:
    where, *path = [str(part) for part in error.get("loc", ())] or ["body"]
    file = "request body" if where == "body" else f"request {where}"
    has_value = error.get("type") != "missing"
    return SpecIssue(file, ".".join(path), str(error.get("msg", "is invalid")),
                     value=error.get("input"), has_value=has_value)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 400:  # FastAPI could not parse the body as JSON
        issue = SpecIssue("request body", "", "is not a JSON document (UTF-8)")
        return problem_response(errors.SpecError([issue]), 422)
    body = Problem(error="HTTPException", message=str(error.detail))
    headers = dict(error.headers or {})
    if error.status_code == 405:  # Starlette lists only the first matching route's methods
        headers["Allow"] = ", ".join(_allowed(request))
    return JSONResponse(body.model_dump(), status_code=error.status_code, headers=headers)


def _allowed(request: Request) -> list[str]:
    """Every method the OpenAPI document gives the requested path."""
    methods: set[str] = set()
    for template, item in request.app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods.update(method.upper() for method in item)
    return sorted(methods)


def register(app: FastAPI) -> None:
    for kind, status in STATUS.items():
        app.add_exception_handler(kind, _handler(status))
    app.add_exception_handler(RequestValidationError, _invalid_body)
    app.add_exception_handler(HTTPException, _http_error)
