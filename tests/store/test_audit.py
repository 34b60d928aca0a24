"""The audit trail: appended, filtered, paged, and refused edits by the database itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from goldenpath.errors import SpecError
from goldenpath.store import Store
from tests.store.conftest import Clock

REQUEST = "6f1c2d3e-4a5b-4c6d-8e7f-001122334455"


def fill(store: Store, clock: Clock) -> None:
    for n, (actor, team) in enumerate([("user:a", "payments"), ("user:b", "billing"),
                                       ("user:a", "billing"), ("user:c", None)]):
        store.audit.append(actor=actor, action="team.update", outcome="accepted", team=team,
                           details={"n": n})
        clock.advance(10)


def test_append_returns_the_entry_as_stored(store: Store, clock: Clock) -> None:
    entry = store.audit.append(actor="user:a", action="request.approve", outcome="approved",
                               team="payments", request=REQUEST, details={"reason": "ok"})
    (listed,) = store.audit.list().entries
    assert listed == entry
    assert (entry.at, entry.request_id, entry.details) == (clock.now, REQUEST, {"reason": "ok"})


def test_filters_by_team_actor_and_time(store: Store, clock: Clock) -> None:
    start = clock.now
    fill(store, clock)
    assert [e.details["n"] for e in store.audit.list().entries] == [3, 2, 1, 0]
    assert [e.details["n"] for e in store.audit.list(team="billing").entries] == [2, 1]
    assert [e.details["n"] for e in store.audit.list(actor="user:a").entries] == [2, 0]
    window = store.audit.list(since=start + timedelta(seconds=10),
                              until=start + timedelta(seconds=30))
    assert [e.details["n"] for e in window.entries] == [2, 1]


def test_pages_by_id_and_appends_do_not_shift_a_page(store: Store, clock: Clock) -> None:
    fill(store, clock)
    first = store.audit.list(limit=3)
    assert [e.details["n"] for e in first.entries] == [3, 2, 1]
    store.audit.append(actor="user:z", action="team.create", outcome="accepted")
    second = store.audit.list(limit=3, before=first.next_before)
    assert [e.details["n"] for e in second.entries] == [0]
    assert second.next_before is None


@pytest.mark.parametrize("statement", ["UPDATE audit SET outcome = 'forged'",
                                       "DELETE FROM audit"])
def test_the_database_refuses_update_and_delete(store: Store, clock: Clock,
                                                statement: str) -> None:
    fill(store, clock)
    verb = statement.split(maxsplit=1)[0]
    with pytest.raises(Exception, match=f"audit is append-only: {verb} refused"), \
            store.db.engine.begin() as conn:
        conn.execute(text(statement))
    assert [e.outcome for e in store.audit.list().entries] == ["accepted"] * 4


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite has no TRUNCATE
def test_postgresql_refuses_truncate(store: Store, clock: Clock) -> None:
    fill(store, clock)
    with pytest.raises(Exception, match="audit is append-only: TRUNCATE refused"), \
            store.db.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit"))
    assert len(store.audit.list().entries) == 4


def test_the_store_has_no_way_to_change_an_entry(store: Store) -> None:
    assert {name for name in dir(store.audit) if not name.startswith("_")} == {
        "append", "list", "clock", "db", "max_details_bytes"}


def test_bad_details_are_refused_before_anything_is_written(store: Store) -> None:
    with pytest.raises(SpecError) as caught:
        store.audit.append(actor="user:a", action="x", outcome="y", details={"x": object()})
    assert str(caught.value.issues[0]) == (
        "audit details: not JSON: Type is not JSON serializable: object")
    assert store.audit.list().entries == []


@pytest.mark.parametrize("before", [2**63, 2**80, -(2**63) - 1])
def test_a_page_bound_beyond_64_bits_is_no_driver_error(store: Store, before: int) -> None:
    entry = store.audit.append(actor="user:a", action="x", outcome="ok")
    expected = [entry.id] if before > 0 else []
    assert [e.id for e in store.audit.list(before=before).entries] == expected
