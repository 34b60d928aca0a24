"""Bounds and conversions shared by the store's modules: canonical JSON with a size
limit, string bounds, UUIDs, and rows turned into records."""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from goldenpath.errors import NotFound, SpecError, SpecIssue, StoreError, TooLarge
from goldenpath.store.records import Request
from goldenpath.store.schema import RequestRow

#: Default bound of a request payload, result or audit details as canonical JSON.
MAX_JSON_BYTES = 256 * 1024
#: No spec or result nests deeper; orjson's own limit is 254.
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


def utcnow() -> datetime:
    return datetime.now(UTC)


def canonical_json(value: Any, *, what: str, limit: int = MAX_JSON_BYTES) -> bytes:
    """``value`` as sorted-key JSON, refused when it is not JSON both databases store
    alike, or over ``limit`` bytes.

    Tenant JSON reaches here (request payloads): Python's parser accepts NaN, Infinity,
    lone surrogates and huge integers, orjson would store NaN as null, and PostgreSQL's
    JSONB refuses NUL characters with a server error. So those are refused here, with a
    spec error naming where they are, before anything is written.
    """
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError as err:
        _check_json(value, what)  # names the place when it can
        raise SpecError([SpecIssue(what, "", f"not JSON: {err}")]) from err
    if len(data) > limit:
        raise TooLarge(f"{what}: {len(data)} bytes of JSON: over the limit of {limit} bytes")
    _check_json(value, what)  # after the size check: the walk is over bounded input
    return data


def _check_json(value: Any, what: str) -> None:
    """Walk ``value`` for what JSON must not hold; iteratively and to a bounded depth,
    since the depth is the sender's choice."""
    stack: list[tuple[str, int, Any]] = [("", 0, value)]
    while stack:
        path, depth, item = stack.pop()
        if depth > MAX_DEPTH:
            raise SpecError([SpecIssue(what, path[:120], f"nested deeper than {MAX_DEPTH} "
                                                         "levels")])
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise SpecError([SpecIssue(what, path, "keys must be strings", key, True)])
                _check_text(key, what, path, " (in a key)")
                stack.append((f"{path}.{key}" if path else key, depth + 1, child))
        elif isinstance(item, list | tuple):
            stack.extend((f"{path}[{i}]", depth + 1, child) for i, child in enumerate(item))
        elif isinstance(item, str):
            _check_text(item, what, path, "")
        elif isinstance(item, float) and not math.isfinite(item):
            raise SpecError([SpecIssue(what, path, "not a finite number", item, True)])
        elif isinstance(item, int) and not isinstance(item, bool) \
                and not -(2**63) <= item < 2**64:
            raise SpecError([SpecIssue(what, path, "outside the 64-bit integer range",
                                       item, True)])


def _check_text(text: str, what: str, path: str, where: str) -> None:
    # the raw value: SpecIssue spells out what is not printable (once) when it is shown
    if "\x00" in text:
        raise SpecError([SpecIssue(what, path, f"NUL characters are not allowed{where}",
                                   text[:64], True)])
    if _SURROGATE.search(text):
        raise SpecError([SpecIssue(what, path, f"lone surrogates are not text{where}",
                                   text[:64], True)])


def printable(text: str) -> str:
    """``text`` with NUL and lone surrogates spelled out (for log lines: never refused)."""
    if "\x00" not in text and not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: m.group().encode("unicode_escape").decode(),
                          text.replace("\x00", "\\x00"))


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
    _check_text(value, what, "", "")
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
