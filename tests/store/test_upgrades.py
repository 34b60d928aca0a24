"""Upgrades: a database of the previous release (the committed fixture its own code
wrote) migrates to head and reads back whole through this version's store API, on
SQLite and PostgreSQL; every migration goes down and up again to the same schema; the
migrations after ``COMPATIBLE_FROM`` only expand the schema (so a replica of the older
version keeps working during a rolling update), and code meets a schema of another
version as the rules say: migrated when behind (or refused, naming ``goldenpath
migrate``), used when newer and declared compatible, refused otherwise."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from goldenpath.errors import StoreError
from goldenpath.services.health import readiness
from goldenpath.services.worker import BATCHES, FORMATS, HANDLERS, Worker, release
from goldenpath.settings import Settings
from goldenpath.store import Store, migrate, open_store
from goldenpath.store.records import Request
from goldenpath.store.tokens import BOOTSTRAP_ID
from tests.store.conftest import Clock, Target
from tests.store.upgrades import (
    FIXTURES,
    PREVIOUS_HEAD,
    at_revision,
    expand_problems,
    fixture,
    load,
    previous_release,
    snapshot,
    to,
)

DATA = fixture()
NOW = datetime.fromisoformat(DATA["now"])
MIGRATE = [sys.executable, "-c", "from goldenpath.cli import main; main()", "migrate"]
#: Request fields the previous release had (the rest are this version's)
OLD_FIELDS = ("id", "kind", "team", "actor", "payload", "state", "result", "attempts",
              "lease_owner", "claimed_by_version", "approved_by", "rejected_by",
              "decision_reason", "idempotency_key")
TIMES = ("created_at", "updated_at", "started_at", "finished_at", "lease_expires_at",
         "approved_at", "rejected_at")


def goldenpath_migrate(target: Target) -> str:
    """``goldenpath migrate`` as a process of its own (the deployment's Job); its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDENPATH_")}
    env.update(GOLDENPATH_DATABASE_URL=target.url or f"sqlite:///{target.sqlite_path}",
               GOLDENPATH_STATE_DIR=str(target.sqlite_path.parent),
               PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(MIGRATE, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def previous_database(target: Target) -> Store:
    """``target`` as the previous release left it: schema 0001 and its rows."""
    store = target.open(Clock(NOW))
    at_revision(store, PREVIOUS_HEAD, DATA)
    assert migrate.current(store.db) == PREVIOUS_HEAD
    return store


def rows(table: str, **match: Any) -> list[dict[str, Any]]:
    return [row for row in DATA["tables"][table]
            if all(row[key] == value for key, value in match.items())]


def assert_as_written(request: Request) -> None:
    (row,) = rows("requests", id=request.id)
    for name in OLD_FIELDS:
        assert getattr(request, name) == row[name], name
    for name in TIMES:
        value = getattr(request, name)
        assert (value.isoformat() if value else None) == row[name], name
    # what this version added, as the previous release's rows get it
    assert (request.retries, request.retry_at, request.payload_version) == (0, None, 1)


def test_the_previous_releases_database_migrates_and_reads_back_whole(
        empty_target: Target) -> None:
    previous_database(empty_target).close()
    out = goldenpath_migrate(empty_target)
    assert f"schema migrated from {PREVIOUS_HEAD} to {migrate.head()}" in out, out
    store = empty_target.open(Clock(NOW))
    try:
        assert store.check_schema() == "ok"
        for state, rid in DATA["requests"].items():
            request = store.requests.get(rid)
            assert request.state == state
            assert_as_written(request)
            assert [(line.seq, line.level, line.message, line.at.isoformat())
                    for line in store.requests.logs(rid)] == [
                (r["seq"], r["level"], r["message"], r["at"])
                for r in rows("request_logs", request_id=rid)]
            for step in rows("request_steps", request_id=rid):
                done = store.requests.step_done(rid, step["name"])
                assert done is not None and done.result == step["result"]
        assert store.requests.counts() == {
            "pending-approval": 1, "queued": 1, "running": 1, "succeeded": 1, "failed": 1,
            "rejected": 1}
        replay = store.requests.find_by_key("admin", "key-queued")
        assert replay is not None and replay.id == DATA["requests"]["queued"]
        entries = list(reversed(store.audit.list(limit=500).entries))
        assert [(e.at.isoformat(), e.actor, e.action, e.team, e.request_id, e.outcome,
                 e.details) for e in entries] == [
            (r["at"], r["actor"], r["action"], r["team"], r["request_id"], r["outcome"],
             r["details"]) for r in DATA["tables"]["audit"]]
        assert {t.id for t in store.tokens.list()} == {
            r["id"] for r in DATA["tables"]["api_tokens"]}
    finally:
        store.close()


def test_the_previous_releases_tokens_still_authenticate(empty_target: Target) -> None:
    previous_database(empty_target).close()
    goldenpath_migrate(empty_target)
    clock = Clock(NOW)
    store = empty_target.open(clock)
    try:
        secrets = DATA["secrets"]
        active = store.tokens.verify(secrets["active"])
        assert active is not None and active.subject == "user:alice@example.com"
        bootstrap = store.tokens.verify(secrets["bootstrap"])
        assert bootstrap is not None and bootstrap.id == BOOTSTRAP_ID
        assert store.tokens.ensure_bootstrap(subject="admin") is None  # found, not remade
        assert store.tokens.verify(secrets["revoked"]) is None
        assert store.tokens.verify(secrets["expiring"]) is not None
        clock.advance(31 * 24 * 3600)  # past its expiry
        assert store.tokens.verify(secrets["expiring"]) is None
    finally:
        store.close()


def test_audit_stays_append_only_after_the_migration(empty_target: Target) -> None:
    previous_database(empty_target).close()
    goldenpath_migrate(empty_target)
    store = empty_target.open(Clock(NOW))
    try:
        before = store.audit.list(limit=500).entries
        added = store.audit.append(actor="admin", action="upgrade", outcome="done")
        assert added.id > max(e.id for e in before)  # PostgreSQL's sequence went on
        statements = ["UPDATE audit SET actor = 'mallory'", "DELETE FROM audit"]
        if empty_target.backend == "postgresql":
            statements.append("TRUNCATE audit")
        for statement in statements:
            with pytest.raises(Exception, match="audit is append-only") as caught, \
                    store.db.engine.begin() as conn:
                conn.execute(text(statement))
            assert statement.split()[0] in str(caught.value), statement
        assert store.audit.list(limit=500).entries == [added, *before]
    finally:
        store.close()


def test_the_previous_releases_claims_are_fenced_and_reclaimed_by_this_version(
        empty_target: Target) -> None:
    """The request a replica of the previous release held: not taken while its lease
    lives; once it expired, claimed by this version (which the row records), completed
    once; the old claim can complete nothing."""
    previous_database(empty_target).close()
    goldenpath_migrate(empty_target)
    clock = Clock(NOW)
    store = empty_target.open(clock)
    try:
        rid = DATA["requests"]["running"]
        old = store.requests.get(rid)
        assert (old.claimed_by_version, old.lease_owner, old.attempts) == (
            "0.1.0", "old-replica-2", 1)
        formats = {"team.delete": 1}
        lease = timedelta(minutes=1)
        assert store.queue.claim("new", version=release(), lease=lease, formats=formats) == []
        assert old.lease_expires_at is not None
        clock.now = old.lease_expires_at + timedelta(seconds=1)
        (claim,) = store.queue.claim("new", version=release(), lease=lease, formats=formats)
        assert (claim.request.id, claim.attempt, claim.request.claimed_by_version) == (
            rid, 2, release())
        done = store.queue.complete(claim, succeeded=True, result={"by": "new"})
        assert (done.state, done.claimed_by_version, done.result) == (
            "succeeded", release(), {"by": "new"})
        assert store.queue.claim("new", version=release(), lease=lease, formats=formats) == []
    finally:
        store.close()


def test_the_previous_releases_inserts_work_on_the_head_schema(target: Target) -> None:
    """Its rows, written naming only its columns (its INSERTs), into a database at head:
    every new column is nullable or defaulted, so a replica of the previous release keeps
    submitting during a rolling update, and this version claims what it submitted."""
    store = target.open(Clock(NOW))
    try:
        load(store, DATA)
        rid = DATA["requests"]["queued"]
        assert_as_written(store.requests.get(rid))
        (claim,) = store.queue.claim("new", version=release(), lease=timedelta(minutes=1),
                                     formats={"team.create": 1})
        assert claim.request.id == rid
    finally:
        store.close()


def test_every_migration_goes_down_and_up_again_keeping_schema_and_rows(
        empty_target: Target) -> None:
    store = empty_target.open(Clock(NOW))
    try:
        revisions = migrate.known()
        at_revision(store, revisions[0], DATA)
        counts = _counts(store)
        for older, newer in itertools.pairwise(revisions):
            before = snapshot(store)
            to(store, newer)
            after = snapshot(store)
            to(store, older, down=True)
            assert snapshot(store) == before, f"{newer} down to {older}"
            assert _counts(store) == counts, f"{newer} down to {older}"
            to(store, newer)
            assert snapshot(store) == after, f"{older} up to {newer} again"
        assert migrate.current(store.db) == migrate.head()
        assert _counts(store) == counts
    finally:
        store.close()


def _counts(store: Store) -> dict[str, int]:
    with store.db.engine.connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("requests", "request_logs", "request_steps", "audit",
                              "api_tokens")}


def test_the_migrations_after_compatible_from_only_expand(empty_target: Target) -> None:
    """The expand/contract rule: what the previous versions' code reads and writes stays
    as it was, so their replicas keep working on this version's schema."""
    store = empty_target.open()
    try:
        revisions = migrate.known()
        start = revisions.index(migrate.COMPATIBLE_FROM)
        to(store, revisions[start])
        for newer in revisions[start + 1:]:
            before = snapshot(store)
            to(store, newer)
            assert expand_problems(before, snapshot(store)) == [], newer
    finally:
        store.close()


def _schema(columns: dict[str, tuple[str, bool, str | None]],
            indexes: list[tuple[str, tuple[str, ...], bool]] | None = None) -> dict[str, Any]:
    return {"t": {"columns": {name: {"type": type_, "nullable": nullable, "default": default}
                              for name, (type_, nullable, default) in columns.items()},
                  "indexes": indexes or [], "unique": [], "primary": ("id",), "foreign": []},
            "<triggers>": {"names": ["audit_no_update"]}}


@pytest.mark.parametrize(("after", "problem"), [
    (_schema({"id": ("INTEGER", False, None)}), "t.a: column dropped or renamed"),
    (_schema({"id": ("INTEGER", False, None), "a": ("INTEGER", True, None)}),
     "t.a: type VARCHAR(8) changed to INTEGER"),
    (_schema({"id": ("INTEGER", False, None), "a": ("VARCHAR(8)", False, None)}),
     "t.a: made NOT NULL"),
    (_schema({"id": ("INTEGER", False, None), "a": ("VARCHAR(8)", True, None),
              "b": ("INTEGER", False, None)}),
     "t.b: new NOT NULL column without a server default (the older version's INSERTs do "
     "not name it)"),
    (_schema({"id": ("INTEGER", False, None), "a": ("VARCHAR(8)", True, None)},
             [("ix_t_a", ("a",), True)]),
     "t: new unique index ix_t_a on existing columns"),
    ({**_schema({"id": ("INTEGER", False, None), "a": ("VARCHAR(8)", True, None)}),
      "<triggers>": {"names": []}}, "trigger audit_no_update dropped"),
])
def test_the_expand_rule_catches_each_contract_change(after: dict[str, Any],
                                                      problem: str) -> None:
    before = _schema({"id": ("INTEGER", False, None), "a": ("VARCHAR(8)", True, None)})
    assert expand_problems(before, after) == [problem]
    allowed = _schema({"id": ("INTEGER", False, None), "a": ("VARCHAR(8)", True, None),
                       "b": ("INTEGER", False, "1"), "c": ("TEXT", True, None)},
                      [("ix_t_b", ("b",), False)])
    assert expand_problems(before, allowed) == []


def _newer(store: Store, revision: str, oldest: str | None) -> None:
    """The database as a newer goldenpath would leave it: at ``revision`` (unknown
    here), its compatibility row naming ``oldest`` (none when None)."""
    with store.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        if oldest is not None:
            conn.execute(text("INSERT INTO schema_compatibility VALUES (:r, :o, '9.9.9')"),
                         {"r": revision, "o": oldest})


def test_a_newer_schema_compatible_with_this_code_is_used_as_it_is(store: Store) -> None:
    _newer(store, "0099", migrate.COMPATIBLE_FROM)
    before = snapshot(store)
    assert store.migrate() == "0099"  # left as it is
    assert migrate.current(store.db) == "0099" and snapshot(store) == before
    assert store.check_schema() == (
        f"ok (schema revision 0099 is newer than this goldenpath's {migrate.head()} and "
        f"works with code from {migrate.COMPATIBLE_FROM} on)")
    submitted = store.requests.submit(kind="k", team="t", actor="a", payload={})
    assert store.queue.claim("w", version="v", lease=timedelta(seconds=5),
                             formats={"k": 1})[0].request.id == submitted.request.id


def test_a_newer_schema_that_needs_newer_code_is_refused(store: Store) -> None:
    _newer(store, "0099", "0098")
    message = (f"database {store.display} is at schema revision 0099, which this goldenpath "
               f"does not know (its newest is {migrate.head()}): it was migrated by a newer "
               "goldenpath that works only with code from schema revision 0098 on; run that "
               "version or a newer one")
    for call in (store.migrate, store.check_schema):
        with pytest.raises(StoreError) as caught:
            call()
        assert str(caught.value) == message


def test_migrating_records_which_code_the_schema_works_with(store: Store) -> None:
    store.migrate()
    with store.db.engine.connect() as conn:
        assert conn.execute(text("SELECT revision, oldest_code FROM schema_compatibility")
                            ).all() == [(migrate.head(), migrate.COMPATIBLE_FROM)]


def test_code_newer_than_the_schema_refuses_to_start_without_migrating(
        empty_target: Target, tmp_path: Path) -> None:
    """GOLDENPATH_MIGRATE_ON_START=false (the migration Job migrates, with an owner
    role): a replica started before the Job ran refuses, naming what to run; a replica
    that migrates on start brings the schema up itself."""
    previous_database(empty_target).close()
    url = empty_target.url or f"sqlite:///{empty_target.sqlite_path}"
    settings = Settings(database_url=url, state_dir=tmp_path / "state",
                        migrate_on_start=False)
    shown = Store(empty_target.url, sqlite_path=empty_target.sqlite_path)
    expected = (f"database {shown.display} is at schema revision {PREVIOUS_HEAD}, behind this "
                f"goldenpath's {migrate.head()}: run `goldenpath migrate` with this version "
                "(in a deployment, the migration Job) before starting it")
    with pytest.raises(StoreError) as caught:
        open_store(settings)
    assert str(caught.value) == expected
    with pytest.raises(StoreError) as caught:
        shown.check_schema()
    assert str(caught.value) == expected
    assert migrate.current(shown.db) == PREVIOUS_HEAD  # refused, untouched
    shown.close()
    opened = open_store(settings.model_copy(update={"migrate_on_start": True}))
    assert migrate.current(opened.db) == migrate.head()
    opened.close()
    opened = open_store(settings)  # now it may start
    opened.close()


def test_the_fixture_is_the_previous_releases_schema() -> None:
    """The fixture names exactly the previous release's columns (it is loaded as its
    INSERTs would write them)."""
    assert DATA["revision"] == PREVIOUS_HEAD
    assert set(DATA["requests"]) == {"queued", "running", "pending-approval", "succeeded",
                                     "failed", "rejected"}
    assert "payload_version" not in DATA["tables"]["requests"][0]
    assert "retries" not in DATA["tables"]["requests"][0]
    assert datetime.fromisoformat(DATA["now"]).tzinfo == UTC


def test_a_worker_claims_only_the_formats_it_reads(store: Store) -> None:
    """A request in a payload format newer than the worker's (a newer replica submitted
    it) stays queued for a worker that reads it."""
    lease = timedelta(seconds=30)
    old = store.requests.submit(kind="k", team="t", actor="a", payload={"v": 1}).request
    new = store.requests.submit(kind="k", team="t", actor="a", payload={"v": 2},
                                payload_version=2).request
    other = store.requests.submit(kind="other", team="t", actor="a", payload={}).request
    assert (old.payload_version, new.payload_version) == (1, 2)
    (claim,) = store.queue.claim("w1", version="v1", lease=lease, limit=10,
                                 formats={"k": 1})
    assert claim.request.id == old.id
    assert store.queue.claim("w1", version="v1", lease=lease, limit=10,
                             formats={"k": 1}) == []
    assert store.queue.claim("w1", version="v1", lease=lease, formats={}) == []
    (claim,) = store.queue.claim("w2", version="v2", lease=lease, limit=10,
                                 formats={"k": 2})
    assert (claim.request.id, claim.request.claimed_by_version) == (new.id, "v2")
    assert store.requests.get(other.id).state == "queued"


@pytest.mark.parametrize("version", [0, -1, 1_000_001, True, "1", 1.0])
def test_a_payload_version_out_of_range_is_refused(store: Store, version: Any) -> None:
    with pytest.raises(StoreError) as caught:
        store.requests.submit(kind="k", team="t", actor="a", payload={},
                              payload_version=version)
    assert str(caught.value) == (f"request payload_version {version!r}: must be an integer "
                                 "from 1 to 1000000")
    assert store.requests.counts()["queued"] == 0


def test_a_worker_leaves_kinds_and_formats_it_does_not_know_queued(
        store: Store, tmp_path: Path) -> None:
    """During a rolling update a newer replica may submit a kind, or a format of a kind,
    this version does not know: this version's worker leaves it to a newer worker
    instead of failing it ("no worker handles requests of kind ...")."""
    done: list[str] = []
    worker = Worker(Settings(state_dir=tmp_path), store, "w",
                    handlers={"k": lambda job: done.append(job.request.id)}, batches={})
    unknown = store.requests.submit(kind="service.archive", team="t", actor="a",
                                    payload={}).request
    newer = store.requests.submit(kind="k", team="t", actor="a", payload={},
                                  payload_version=2).request
    known = store.requests.submit(kind="k", team="t", actor="a", payload={}).request
    while worker.run_once():
        pass
    assert done == [known.id]
    assert store.requests.get(known.id).claimed_by_version == release()
    assert [store.requests.get(r.id).state for r in (unknown, newer)] == ["queued", "queued"]
    worker.formats = {"k": 2}  # the newer version's worker
    assert worker.run_once() and done == [known.id, newer.id]


def _normalized(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with its random values (ids, secrets, their hashes) named by role and
    its rows in a fixed order: what two runs of the generator must agree on."""
    text = json.dumps(data, sort_keys=True)
    for role, rid in data["requests"].items():
        text = text.replace(rid, f"<request {role}>")
    for role, secret in data["secrets"].items():
        text = text.replace(secret, f"<secret {role}>")
    for row in data["tables"]["api_tokens"]:
        text = text.replace(row["id"], f"<token {row['name']}>")
        text = text.replace(row["secret_sha256"], f"<hash {row['name']}>")
    plain: dict[str, Any] = json.loads(text)
    for name, table in plain["tables"].items():
        plain["tables"][name] = sorted(table, key=lambda row: json.dumps(row, sort_keys=True))
    return plain


def test_the_fixture_is_what_the_previous_release_writes(tmp_path: Path) -> None:
    """The committed fixture against a fresh run of its generator on the previous
    release's own code (from git history): the rows are that release's, not a guess."""
    old = previous_release(tmp_path / "previous")
    out = tmp_path / "fresh.json"
    done = subprocess.run([sys.executable, str(FIXTURES / "release_0001.py"), str(out)],
                          env=old.env(), cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _normalized(json.loads(out.read_text())) == _normalized(DATA)


def test_goldenpath_migrate_leaves_a_compatible_newer_schema_as_it_is(target: Target) -> None:
    """An older version's migration Job (a rollback of the Deployment that re-runs it)
    against a schema a newer version migrated: left alone, said so, exit 0."""
    store = target.open()
    try:
        _newer(store, "0099", migrate.COMPATIBLE_FROM)
        assert goldenpath_migrate(target).strip().endswith(
            f"schema at 0099, newer than this goldenpath's {migrate.head()} and compatible "
            "with it: left as it is")
        assert migrate.current(store.db) == "0099"
    finally:
        store.close()


def test_readiness_says_when_the_schema_is_behind_this_code(store: Store,
                                                            tmp_path: Path) -> None:
    """/readyz of a replica that is newer than the schema (someone went back with
    ``alembic downgrade``, or it does not migrate on start) is not ready, naming the fix."""
    settings = Settings(state_dir=tmp_path)
    assert readiness(settings, store)["database"] == "ok"
    to(store, PREVIOUS_HEAD, down=True)
    assert readiness(settings, store)["database"] == (
        f"database {store.display} is at schema revision {PREVIOUS_HEAD}, behind this "
        f"goldenpath's {migrate.head()}: run `goldenpath migrate` with this version (in a "
        "deployment, the migration Job) before starting it")
    store.migrate()
    _newer(store, "0099", migrate.COMPATIBLE_FROM)
    assert readiness(settings, store)["database"].startswith(
        "ok (schema revision 0099 is newer than")


#: schema heads of releases whose workers claim every queued request, whatever its kind
#: and format (they predate payload_version), and the kinds those releases handle
UNFILTERED = {"0001": {"service.create", "team.create", "team.update", "team.delete"}}


def test_this_release_submits_only_what_the_previous_release_reads() -> None:
    """While the previous release is one that claims every kind and format, its replicas
    would take (and fail) a kind or format it does not know during the rollout: so this
    release adds neither; the release after it may, its previous one (this) filters."""
    if PREVIOUS_HEAD not in UNFILTERED:
        pytest.skip(f"the previous release ({PREVIOUS_HEAD}) claims only what it reads")
    assert FORMATS == {}, "a payload format > 1 while the previous release cannot skip it"
    assert set(HANDLERS) | set(BATCHES) == UNFILTERED[PREVIOUS_HEAD]
