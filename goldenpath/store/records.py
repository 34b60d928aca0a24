"""What the store hands back: frozen values, never ORM objects or database rows, so no
caller depends on SQLAlchemy or on a session being open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

LogLevel = Literal["debug", "info", "warning", "error"]
LOG_LEVELS: tuple[LogLevel, ...] = ("debug", "info", "warning", "error")


@dataclass(frozen=True, slots=True)
class Request:
    id: str
    kind: str
    team: str
    actor: str
    payload: Any
    state: str
    result: Any
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    claimed_by_version: str | None
    approved_by: str | None
    approved_at: datetime | None
    rejected_by: str | None
    rejected_at: datetime | None
    decision_reason: str | None
    idempotency_key: str | None
    #: times it was given back to the queue because a server it needs was down
    retries: int = 0
    #: not claimed before this time (set when given back; None: at once)
    retry_at: datetime | None = None
    #: the payload's format for its kind (1: the first; see ``Requests.submit``)
    payload_version: int = 1


@dataclass(frozen=True, slots=True)
class Submitted:
    """A submitted request; ``replayed`` when an Idempotency-Key matched an earlier one."""

    request: Request
    replayed: bool


@dataclass(frozen=True, slots=True)
class Claim:
    """A worker's hold on one running request. ``attempt`` is the fencing token: only the
    holder of the latest attempt may heartbeat or complete it."""

    request: Request
    worker: str
    attempt: int
    lease_expires_at: datetime


@dataclass(frozen=True, slots=True)
class LogLine:
    request_id: str
    seq: int
    at: datetime
    level: str
    message: str


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    result: Any
    at: datetime


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Queued requests and how long the oldest has waited (0.0 when none wait)."""

    depth: int
    oldest_age_seconds: float


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    team: str | None
    request_id: str | None
    outcome: str
    details: Any


@dataclass(frozen=True, slots=True)
class AuditPage:
    """Newest first; pass ``next_before`` as ``before`` for the next page (None: last)."""

    entries: list[AuditEntry]
    next_before: int | None


@dataclass(frozen=True, slots=True)
class Token:
    """An API token as listed: everything but its secret (and its hash)."""

    id: str
    name: str
    subject: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool
    revoked_by: str | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class MintedToken:
    """A new token and its secret: the only time the secret exists outside the caller."""

    token: Token
    secret: str
