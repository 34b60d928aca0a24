"""The store's tables, as typed SQLAlchemy 2 declarative models.

The migrations in ``goldenpath/store/migrations`` create exactly this schema; a test
compares the two (``alembic check``), so a change here needs a new migration.

Times are stored in UTC: ``timestamptz`` on PostgreSQL, naive UTC text on SQLite (which
has no time zones), and always read back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Request states. pending-approval -> queued | rejected; queued -> running;
#: running -> succeeded | failed (or back to running under a new lease, or back to
#: queued with a retry time when a server it needs is down).
PENDING_APPROVAL = "pending-approval"
QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
REJECTED = "rejected"
STATES = (PENDING_APPROVAL, QUEUED, RUNNING, SUCCEEDED, FAILED, REJECTED)

#: Column bounds, checked before a write so both databases refuse the same inputs.
KIND_MAX = 64
TEAM_MAX = 63
SUBJECT_MAX = 255
KEY_MAX = 255
NAME_MAX = 128
STEP_MAX = 128
REASON_MAX = 1024

_NAMING = {"ix": "ix_%(table_name)s_%(column_0_N_name)s",
           "uq": "uq_%(table_name)s_%(column_0_N_name)s",
           "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
           "pk": "pk_%(table_name)s"}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


class RequestRow(Base):
    """A durable request: written before a write is acknowledged, done by one worker."""

    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_MAX))
    team: Mapped[str] = mapped_column(String(TEAM_MAX), index=True)
    actor: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    idempotency_key: Mapped[str | None] = mapped_column(String(KEY_MAX))
    #: sha256 of the canonical JSON of (kind, team, payload): what a retry must match
    payload_digest: Mapped[str] = mapped_column(String(64))
    payload: Mapped[Any] = mapped_column(Json)
    #: the payload's format for its kind: a worker claims only the formats it reads
    #: (1: the format every release since the first writes and reads)
    payload_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    state: Mapped[str] = mapped_column(String(20))
    result: Mapped[Any | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(NAME_MAX))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: times a worker gave it back because a server it needs was down (not counted
    #: toward abandonment, which counts expired claims: ``attempts - retries``)
    retries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: a queued request given back is not claimed before this time (backoff)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: goldenpath version of the worker that claimed it last (upgrades drain old claims)
    claimed_by_version: Mapped[str | None] = mapped_column(String(NAME_MAX))
    approved_by: Mapped[str | None] = mapped_column(String(SUBJECT_MAX))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by: Mapped[str | None] = mapped_column(String(SUBJECT_MAX))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    #: the last log line's seq; appending bumps it under the request row's lock
    log_seq: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index(None, "state", "created_at"),
        Index(None, "actor", "idempotency_key", unique=True),
    )


class RequestLogRow(Base):
    """One log line of a request, appended."""

    __tablename__ = "request_logs"

    request_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)


class RequestStepRow(Base):
    """A step of a request that completed, so a re-claimed request skips it."""

    __tablename__ = "request_steps"

    request_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(STEP_MAX), primary_key=True)
    result: Mapped[Any | None] = mapped_column(Json)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """An audit entry; the database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(SUBJECT_MAX), index=True)
    action: Mapped[str] = mapped_column(String(KIND_MAX))
    team: Mapped[str | None] = mapped_column(String(TEAM_MAX), index=True)
    request_id: Mapped[str | None] = mapped_column(String(36))
    outcome: Mapped[str] = mapped_column(String(32))
    details: Mapped[Any | None] = mapped_column(Json)


class SchemaCompatibilityRow(Base):
    """For a schema head a goldenpath migrated to: the oldest code (by its own schema
    head) that still works on it (see :mod:`goldenpath.store.migrate`)."""

    __tablename__ = "schema_compatibility"

    revision: Mapped[str] = mapped_column(String(32), primary_key=True)
    oldest_code: Mapped[str] = mapped_column(String(32))
    #: the goldenpath version that wrote the row (for people reading it)
    written_by: Mapped[str] = mapped_column(String(NAME_MAX))


class TokenRow(Base):
    """An API token: only the sha256 of its secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX), index=True)
    created_by: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_by: Mapped[str | None] = mapped_column(String(SUBJECT_MAX))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
