"""API tokens: only a hash is stored; verify, revoke, expiry; the bootstrap token once."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text

from goldenpath.errors import NotFound, StoreError
from goldenpath.store import Store
from tests.store.conftest import Clock, Target


def test_mint_returns_a_secret_that_verifies(store: Store) -> None:
    minted = store.tokens.mint(subject="user:ci", name="deploy", created_by="user:root")
    assert minted.secret.startswith("gpt_") and len(minted.secret) == 4 + 43
    assert store.tokens.verify(minted.secret) == minted.token
    assert minted.token.subject == "user:ci" and not minted.token.revoked


def test_only_the_sha256_is_stored(store: Store) -> None:
    minted = store.tokens.mint(subject="user:ci", name="deploy", created_by="user:root")
    with store.db.engine.connect() as conn:
        rows = [tuple(map(str, row)) for row in conn.execute(text("SELECT * FROM api_tokens"))]
    assert hashlib.sha256(minted.secret.encode()).hexdigest() in rows[0]
    assert not any(minted.secret in cell for cell in rows[0])


@pytest.mark.parametrize("presented", ["", "gpt_", "gpt_wrong", "Bearer x", "gpt_" + "a" * 300])
def test_unknown_tokens_do_not_verify(store: Store, presented: str) -> None:
    store.tokens.mint(subject="user:ci", name="deploy", created_by="user:root")
    assert store.tokens.verify(presented) is None


def test_a_token_one_character_off_does_not_verify(store: Store) -> None:
    secret = store.tokens.mint(subject="user:ci", name="d", created_by="user:root").secret
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert store.tokens.verify(flipped) is None


def test_revoked_tokens_stop_verifying(store: Store, clock: Clock) -> None:
    minted = store.tokens.mint(subject="user:ci", name="deploy", created_by="user:root")
    revoked = store.tokens.revoke(minted.token.id, by="user:root")
    assert (revoked.revoked, revoked.revoked_by, revoked.revoked_at) == (
        True, "user:root", clock.now)
    assert store.tokens.verify(minted.secret) is None
    clock.advance(5)
    assert store.tokens.revoke(minted.token.id, by="user:other") == revoked
    with pytest.raises(NotFound, match="API token 'nope' not found"):
        store.tokens.revoke("nope", by="user:root")


def test_tokens_expire(store: Store, clock: Clock) -> None:
    minted = store.tokens.mint(subject="user:ci", name="d", created_by="user:root",
                               expires_at=clock.now + timedelta(hours=1))
    clock.advance(3599)
    assert store.tokens.verify(minted.secret) == minted.token
    clock.advance(1)
    assert store.tokens.verify(minted.secret) is None
    with pytest.raises(StoreError, match=r"token d: expiry .* is not in the future"):
        store.tokens.mint(subject="user:ci", name="d", created_by="user:root",
                          expires_at=clock.now)


def test_list_shows_no_secret(store: Store, clock: Clock) -> None:
    a = store.tokens.mint(subject="user:ci", name="a", created_by="user:root")
    clock.advance(1)
    b = store.tokens.mint(subject="group:ops", name="b", created_by="user:root")
    assert store.tokens.list() == [b.token, a.token]
    assert store.tokens.list(subject="user:ci") == [a.token]
    assert a.secret not in repr(store.tokens.list())
    assert hashlib.sha256(a.secret.encode()).hexdigest() not in repr(store.tokens.list())


def test_the_bootstrap_token_is_created_once(target: Target) -> None:
    first, second = target.open(), target.open()
    created = first.tokens.ensure_bootstrap(subject="user:admin")
    assert created is not None
    assert second.tokens.ensure_bootstrap(subject="user:admin") is None
    assert first.tokens.ensure_bootstrap(subject="user:admin") is None
    assert second.tokens.verify(created.secret) == created.token
    assert [t.name for t in second.tokens.list()] == ["bootstrap admin"]
    first.close()
    second.close()
