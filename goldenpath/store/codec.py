"""Bounds and conversions shared by the store's modules: canonical JSON with a size
limit, string bounds, UUIDs, and rows turned into records."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from goldenpath.errors import NotFound, StoreError, TooLarge
from goldenpath.store.records import Request
from goldenpath.store.schema import RequestRow

#: Default bound of a request payload, result or audit details as canonical JSON.
MAX_JSON_BYTES = 256 * 1024


def utcnow() -> datetime:
    return datetime.now(UTC)


def canonical_json(value: Any, *, what: str, limit: int = MAX_JSON_BYTES) -> bytes:
    """``value`` as sorted-key JSON, refused when it is not JSON or over ``limit`` bytes."""
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError as err:
        raise StoreError(f"{what}: not JSON-serializable: {err}") from err
    if len(data) > limit:
        raise TooLarge(f"{what}: {len(data)} bytes of JSON: over the limit of {limit} bytes")
    return data


def as_json(value: Any, *, what: str, limit: int = MAX_JSON_BYTES) -> Any:
    """``value`` checked and normalized to plain JSON types (what the database returns)."""
    return orjson.loads(canonical_json(value, what=what, limit=limit))


def digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def bounded(what: str, value: str, limit: int, *, empty: bool = False) -> str:
    """``value`` when it is a string of at most ``limit`` characters (and not empty)."""
    if not isinstance(value, str):
        raise StoreError(f"{what}: {value!r}: must be a string")
    if not value and not empty:
        raise StoreError(f"{what}: must not be empty")
    if len(value) > limit:
        raise TooLarge(f"{what}: {len(value)} characters: over the limit of {limit}")
    return value


def request_id(value: str) -> str:
    """``value`` as a canonical UUID string; anything else names no request."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError) as err:
        raise NotFound(f"request {str(value)[:64]!r} not found", kind="request",
                       name=str(value)[:64]) from err


def new_id() -> str:
    return str(uuid.uuid4())


def to_request(row: Any) -> Request:
    """A ``requests`` row (ORM object or Core row) as a Request record."""
    return Request(**{name: getattr(row, name) for name in _REQUEST_FIELDS})


_REQUEST_FIELDS = tuple(Request.__dataclass_fields__)
#: The columns to select for a Request record (log_seq and the digest stay inside).
REQUEST_COLUMNS = tuple(RequestRow.__table__.columns[name] for name in _REQUEST_FIELDS)
