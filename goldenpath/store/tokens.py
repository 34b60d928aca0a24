"""API tokens: minted for a subject by an admin, stored as a hash, revocable, expiring.

A token is ``gpt_`` followed by 32 random bytes from :mod:`secrets` (256 bits). Only its
sha256 is stored, so a leaked database yields no usable token. A fast hash is enough here,
unlike for passwords: bcrypt or argon2 exist to slow down guessing of *low-entropy*
secrets from a stolen hash, and nobody guesses a 256-bit random value however fast the
hash is. A fast, unsalted hash also makes verification one index lookup instead of a slow
hash per stored token.

Verification looks the presented token up by its hash (the database compares hashes, so
timing says at most something about a hash nobody can invert) and compares the found hash
again with :func:`hmac.compare_digest`.

The bootstrap admin token is stored once, under a fixed id: the first process to start
creates it and gets its secret (to print once); every later start, on any replica, finds
it and gets None.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exc, insert, select, update

from goldenpath.errors import NotFound, StoreError
from goldenpath.store.codec import bounded, new_id
from goldenpath.store.db import Database
from goldenpath.store.records import MintedToken, Token
from goldenpath.store.schema import NAME_MAX, SUBJECT_MAX, TokenRow

PREFIX = "gpt_"
#: The nil UUID: the one bootstrap admin token's id.
BOOTSTRAP_ID = "00000000-0000-0000-0000-000000000000"
#: Longer presented tokens are refused before any hashing or lookup.
_MAX_PRESENTED = 256
_COLUMNS = tuple(TokenRow.__table__.columns[name] for name in Token.__dataclass_fields__)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class Tokens:
    db: Database
    clock: Callable[[], datetime]

    def mint(self, *, subject: str, name: str, created_by: str,
             expires_at: datetime | None = None) -> MintedToken:
        """A new token for ``subject``; its secret is returned here and never again."""
        try:
            return self._insert(new_id(), subject=subject, name=name, created_by=created_by,
                                expires_at=expires_at)
        except _Taken as err:  # pragma: no cover - two uuid4s or two 256-bit secrets met
            raise StoreError(f"token {name}: id or secret collided; mint it again") from err

    def ensure_bootstrap(self, *, subject: str) -> MintedToken | None:
        """Create the bootstrap admin token unless one exists; its secret when created."""
        try:
            return self._insert(BOOTSTRAP_ID, subject=subject, name="bootstrap admin",
                                created_by="goldenpath", expires_at=None)
        except _Taken:
            return None

    def verify(self, presented: str) -> Token | None:
        """The token ``presented`` is, when it exists, is not revoked and has not expired."""
        if not isinstance(presented, str) or not presented.startswith(PREFIX) \
                or len(presented) > _MAX_PRESENTED:
            return None
        wanted = token_hash(presented)
        with self.db.transaction("verify an API token", write=False) as conn:
            row = conn.execute(select(*_COLUMNS, TokenRow.secret_sha256)
                               .where(TokenRow.secret_sha256 == wanted)).first()
        if row is None or not hmac.compare_digest(row.secret_sha256, wanted):
            return None
        if row.revoked or (row.expires_at is not None and row.expires_at <= self.clock()):
            return None
        return _token(row)

    def revoke(self, token_id: str, *, by: str) -> Token:
        """Revoke a token (revoking it again changes nothing)."""
        bounded("revoked by", by, SUBJECT_MAX)
        now = self.clock()
        with self.db.transaction("revoke an API token") as conn:
            conn.execute(update(TokenRow)
                         .where(TokenRow.id == token_id, TokenRow.revoked.is_(False))
                         .values(revoked=True, revoked_by=by, revoked_at=now))
            row = conn.execute(select(*_COLUMNS).where(TokenRow.id == token_id)).first()
        if row is None:
            raise NotFound(f"API token {token_id[:64]!r} not found", kind="token",
                           name=token_id[:64])
        return _token(row)

    def list(self, *, subject: str | None = None) -> list[Token]:
        """Tokens (without secrets or hashes), newest first."""
        query = select(*_COLUMNS).order_by(TokenRow.created_at.desc(), TokenRow.id)
        if subject is not None:
            query = query.where(TokenRow.subject == subject)
        with self.db.transaction("list API tokens", write=False) as conn:
            return [_token(row) for row in conn.execute(query)]

    def _insert(self, token_id: str, *, subject: str, name: str, created_by: str,
                expires_at: datetime | None) -> MintedToken:
        bounded("token subject", subject, SUBJECT_MAX)
        bounded("token name", name, NAME_MAX)
        bounded("token created by", created_by, SUBJECT_MAX)
        now = self.clock()
        if expires_at is not None and expires_at <= now:
            raise StoreError(f"token {name}: expiry {expires_at.isoformat()} is not in the "
                             "future")
        secret = PREFIX + secrets.token_urlsafe(32)
        values: dict[str, Any] = {
            "id": token_id, "secret_sha256": token_hash(secret), "name": name,
            "subject": subject, "created_by": created_by, "created_at": now,
            "expires_at": expires_at, "revoked": False}
        with self.db.transaction("mint an API token") as conn:
            try:
                conn.execute(insert(TokenRow).values(**values))
            except exc.IntegrityError as err:
                raise _Taken from err
        token = Token(token_id, name, subject, created_by, now, expires_at, False, None, None)
        return MintedToken(token, secret)


class _Taken(Exception):
    """The token id exists already (internal: the bootstrap token was created before)."""


def _token(row: Any) -> Token:
    return Token(**{name: getattr(row, name) for name in Token.__dataclass_fields__})
