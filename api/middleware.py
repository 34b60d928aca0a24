"""ASGI middleware of the API: request ids, access logs and latency metrics, body limits.

Pure ASGI (no BaseHTTPMiddleware): streamed responses (Server-Sent Events) pass through
untouched, and the request id is set in a context variable before anything else runs.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import logs
from api.errors import problem_response
from api.metrics import Metrics
from goldenpath.errors import TooLarge

log = logging.getLogger("api.access")
HEADER = "X-Request-Id"
#: an id a client or proxy sent is kept when it is this plain; else a new one is made
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestContext:
    """Give each request an id (``X-Request-Id`` in and out), log it once as JSON, and
    observe its latency by route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics, prefix: str = "") -> None:
        self.app = app
        self.metrics = metrics
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(HEADER.lower().encode(), b"").decode("latin-1")
        rid = sent if _CLIENT_ID.fullmatch(sent) else str(uuid.uuid4())
        token = logs.request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER.encode(), rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _template(scope, self.prefix)
            self.metrics.http.labels(scope["method"], route, str(status)).observe(elapsed)
            log.info("%s %s %s", scope["method"], route, status,
                     extra={"method": scope["method"], "route": route, "status": status,
                            "duration_ms": round(elapsed * 1000, 2)})
            logs.request_id.reset(token)


def _template(scope: Scope, prefix: str) -> str:
    """The matched route's path template. FastAPI may report a route of an included
    router by its own path, without the prefix it was included under: added back."""
    route: Any = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not path:
        return "unmatched"
    if prefix and scope["path"].startswith(prefix + "/") and not path.startswith(prefix + "/"):
        return f"{prefix}{path}"
    return str(path)


class BodyLimit:
    """Refuse bodies over ``limit`` bytes: at once when Content-Length says so, else when
    the bytes read pass it (chunked uploads), before the route sees any of it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, send)
            return
        seen, refused, started = 0, False, False

        async def counted() -> Message:
            # FastAPI turns an exception raised while it reads the body into a 400, so the
            # 413 is answered from here and the route is told the client went away
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                refused = True
                if not started:
                    await self._refuse(scope, send)
                return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if refused:  # the 413 is the answer; whatever the route says after is dropped
                return
            started = True
            await send(message)

        await self.app(scope, counted, guarded)

    def error(self) -> TooLarge:
        return TooLarge(f"request body: larger than {self.limit} bytes; send less "
                        "(GOLDENPATH_API_MAX_BODY_BYTES sets the limit)")

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = problem_response(self.error(), 413)
        await response(scope, _empty_receive, send)


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
