"""Persistence for the self-service API: durable requests and their queue, idempotent
steps, the audit trail and API tokens (SQLAlchemy 2; SQLite embedded, PostgreSQL in
production; Alembic migrations shipped in the package).

This is the only package that imports SQLAlchemy (an import-linter contract says so);
callers get frozen records (:mod:`goldenpath.store.records`) and the project's errors:
NotFound (unknown ids), Conflict (illegal transitions, lost claims, reused
Idempotency-Keys), TooLarge and SpecError (inputs over a bound or not storable JSON), and
StoreError for anything the database does, including being down.
"""

from goldenpath.store.records import (
    AuditEntry,
    AuditPage,
    Claim,
    LogLine,
    MintedToken,
    QueueStats,
    Request,
    Step,
    Submitted,
    Token,
)
from goldenpath.store.schema import (
    FAILED,
    PENDING_APPROVAL,
    QUEUED,
    REJECTED,
    RUNNING,
    STATES,
    SUCCEEDED,
)
from goldenpath.store.store import Store, open_store

__all__ = [
    "FAILED",
    "PENDING_APPROVAL",
    "QUEUED",
    "REJECTED",
    "RUNNING",
    "STATES",
    "SUCCEEDED",
    "AuditEntry",
    "AuditPage",
    "Claim",
    "LogLine",
    "MintedToken",
    "QueueStats",
    "Request",
    "Step",
    "Store",
    "Submitted",
    "Token",
    "open_store",
]
