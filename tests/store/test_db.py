"""The adapter's edges: migrations, settings, errors wrapped and redacted, database down."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc, text

from goldenpath.errors import StoreError, StoreUnavailable
from goldenpath.settings import Settings
from goldenpath.store import Store, migrate, open_store
from goldenpath.store.db import Database, resolve_url
from goldenpath.store.records import Claim, Request
from goldenpath.store.schema import Base
from tests.store.conftest import Target
from tests.store.pg import Server, running_server


def test_upgrade_from_empty_to_head_matches_the_models(empty_target: Target) -> None:
    store = empty_target.open()
    assert migrate.current(store.db) is None
    store.migrate()
    assert migrate.current(store.db) == migrate.head()
    with store.db.engine.connect() as conn:  # what `alembic check` compares
        assert compare_metadata(MigrationContext.configure(
            conn, opts={"compare_type": True}), Base.metadata) == []
    store.migrate()  # at head: nothing to do
    assert migrate.current(store.db) == migrate.head()
    store.close()


def test_downgrade_to_empty_and_back(empty_target: Target) -> None:
    store = empty_target.open()
    store.migrate()
    cfg = migrate.config()
    with store.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    with store.db.engine.connect() as conn:
        assert set(conn.dialect.get_table_names(conn)) <= {"alembic_version"}
    store.migrate()
    assert store.requests.counts()["queued"] == 0
    store.close()


def test_requests_of_0001_migrate_to_retries_with_their_log_and_steps(
        empty_target: Target) -> None:
    """0002 adds retries and retry_at; the rows, logs and steps of a database the previous
    release wrote are kept (on SQLite too, where a table rebuilt under foreign keys would
    cascade its children away) and are claimable at once."""
    store = empty_target.open()
    cfg = migrate.config()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with store.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text(
            "INSERT INTO requests (id, kind, team, actor, payload_digest, payload, state, "
            "created_at, updated_at, attempts, log_seq) VALUES ('00000000-0000-4000-8000-"
            "000000000001', 'team.update', 't', 'a', 'd', '{}', 'queued', :at, :at, 0, 1)"),
            {"at": at})
        conn.execute(text("INSERT INTO request_logs VALUES ('00000000-0000-4000-8000-"
                          "000000000001', 1, :at, 'info', 'kept')"), {"at": at})
        conn.execute(text("INSERT INTO request_steps VALUES ('00000000-0000-4000-8000-"
                          "000000000001', 'step', NULL, :at)"), {"at": at})
    store.migrate()
    rid = "00000000-0000-4000-8000-000000000001"
    old = store.requests.get(rid)
    assert (old.state, old.retries, old.retry_at) == ("queued", 0, None)
    assert [line.message for line in store.requests.logs(rid)] == ["kept"]
    assert store.requests.step_done(rid, "step") is not None
    (claim,) = store.queue.claim("w", version="t", lease=timedelta(seconds=30))
    assert claim.request.id == rid
    with store.db.engine.begin() as conn:  # and back: the previous release's rows again
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
        assert conn.execute(text("SELECT count(*) FROM request_logs")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM request_steps")).scalar() == 1
    store.close()


def test_replicas_migrating_at_once_all_succeed(empty_target: Target) -> None:
    stores = [empty_target.open() for _ in range(3)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stores))

    def start(s: Store) -> None:
        barrier.wait()
        try:
            s.migrate()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert migrate.current(stores[0].db) == migrate.head()
    for s in stores:
        s.close()


def test_a_database_from_a_newer_goldenpath_is_refused(store: Store) -> None:
    with store.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError) as caught:
        store.migrate()
    assert store.requests.counts()["queued"] == 0  # the schema was left as it was
    assert str(caught.value) == (
        f"database {store.display} is at schema revision 9999, which this goldenpath does "
        f"not know (its newest is {migrate.head()}): it was migrated by a newer goldenpath; "
        "run that version or a newer one")


def _every_operation(store: Store) -> list[tuple[str, Callable[[], Any]]]:
    rid = "6f1c2d3e-4a5b-4c6d-8e7f-001122334455"
    request = _fake_request(rid)
    claim = Claim(request, "w", 1, request.created_at)
    return [
        ("submit", lambda: store.requests.submit(kind="k", team="t", actor="a", payload={},
                                                 idempotency_key="x")),
        ("get", lambda: store.requests.get(rid)),
        ("list", store.requests.list),
        ("approve", lambda: store.requests.approve(rid, by="u")),
        ("append_log", lambda: store.requests.append_log(rid, "m")),
        ("logs", lambda: store.requests.logs(rid)),
        ("step_done", lambda: store.requests.step_done(rid, "s")),
        ("record_step", lambda: store.requests.record_step(rid, "s")),
        ("queue_stats", store.requests.queue_stats),
        ("counts", store.requests.counts),
        ("claim", lambda: store.queue.claim("w", version="t", lease=timedelta(seconds=1))),
        ("heartbeat", lambda: store.queue.heartbeat(claim, lease=timedelta(seconds=1))),
        ("complete", lambda: store.queue.complete(claim, succeeded=True)),
        ("audit.append", lambda: store.audit.append(actor="a", action="x", outcome="y")),
        ("audit.list", store.audit.list),
        ("mint", lambda: store.tokens.mint(subject="s", name="n", created_by="c")),
        ("verify", lambda: store.tokens.verify("gpt_x")),
        ("revoke", lambda: store.tokens.revoke("x", by="u")),
        ("tokens.list", store.tokens.list),
        ("bootstrap", lambda: store.tokens.ensure_bootstrap(subject="s")),
        ("ping", store.ping),
    ]


def _fake_request(rid: str) -> Request:
    now = datetime.now(UTC)
    return Request(rid, "k", "t", "a", {}, "running", None, now, now, None, None, 1, "w",
                   None, None, None, None, None, None, None, None)


def test_database_errors_never_leak_as_sqlalchemy_errors(empty_target: Target) -> None:
    """On a database without the schema every operation fails in the driver; each
    failure comes out as StoreError with the driver's error as its cause."""
    store = empty_target.open()
    for name, call in _every_operation(store):
        if name == "ping":
            continue
        with pytest.raises(StoreError) as caught:
            call()
        assert isinstance(caught.value.__cause__, exc.SQLAlchemyError), name
        assert "failed:" in str(caught.value) and "[SQL:" not in str(caught.value), name
    store.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_postgresql_that_is_down_is_a_store_error_saying_so(
        pg_server: Server, caplog: pytest.LogCaptureFixture) -> None:
    port = _closed_port()
    store = Store(f"postgresql://goldenpath:s3cret-pw@127.0.0.1:{port}/goldenpath")
    caplog.set_level(logging.DEBUG)
    for name, call in _every_operation(store):
        with pytest.raises(StoreUnavailable) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(f"database postgresql+psycopg://127.0.0.1:{port}/goldenpath "
                                  "is unavailable ("), name
        assert message.endswith("check that it is running and reachable and that "
                                "GOLDENPATH_DATABASE_URL is right"), name
        assert "s3cret-pw" not in message
    assert "s3cret-pw" not in caplog.text
    store.close()


def test_a_sqlite_database_that_cannot_be_opened_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "goldenpath.db").mkdir()  # a directory where the file should be
    store = Store(sqlite_path=tmp_path / "goldenpath.db")
    with pytest.raises(StoreError) as caught:
        store.ping()
    assert str(caught.value) == (
        f"database sqlite+pysqlite:///{tmp_path}/goldenpath.db is unavailable (ping the "
        "database): unable to open database file; check that it is running and reachable "
        "and that GOLDENPATH_DATABASE_URL is right")


def test_a_wrong_password_is_refused_without_showing_it(
        pg_server: Server, caplog: pytest.LogCaptureFixture) -> None:
    wrong = "Wr0ng/pass@word"
    url = pg_server.url("goldenpath_tests", password=wrong.replace("/", "%2F")
                        .replace("@", "%40"))
    caplog.set_level(logging.DEBUG)
    store = Store(url)
    with pytest.raises(StoreError) as caught:
        store.ping()
    message = str(caught.value)
    assert 'password authentication failed for user "goldenpath"' in message
    assert message.startswith(
        f"database postgresql+psycopg://127.0.0.1:{pg_server.port}/goldenpath_tests is ")
    for shown in (wrong, "Wr0ng%2Fpass%40word", "Wr0ng"):
        assert shown not in message and shown not in caplog.text
    store.close()


@pytest.mark.parametrize("text_with_secret", [
    "connection to postgresql://app:hunter22@db:5432/x failed",
    "conninfo host=db password=hunter22 user=app",
    "auth failed for hunter22",
])
def test_redaction_covers_url_userinfo_and_conninfo(text_with_secret: str) -> None:
    db = Database(resolve_url("postgresql://app:hunter22@db/x", Path("unused")))
    assert "hunter22" not in db.error("ping", Exception(text_with_secret)).args[0]
    db.dispose()


def test_a_bad_url_is_refused_without_its_password() -> None:
    with pytest.raises(StoreError) as caught:
        resolve_url("mysql://app:hunter22@db/x", Path("unused"))
    assert str(caught.value) == ("GOLDENPATH_DATABASE_URL: 'mysql://app:***@db/x': "
                                 "unsupported database; use sqlite:///<path> or "
                                 "postgresql://...")
    with pytest.raises(StoreError) as caught:
        resolve_url("app:hunter22@db", Path("unused"))
    assert str(caught.value) == (
        "GOLDENPATH_DATABASE_URL is not a database URL (not shown: it may hold a password): "
        "expected sqlite:///<path> or postgresql://<user>:<password>@<host>:<port>/<database>")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgresql_urls_use_psycopg_3(scheme: str) -> None:
    assert resolve_url(f"{scheme}://u:p@h/d", Path("x")).drivername == "postgresql+psycopg"


def test_settings_default_to_sqlite_under_the_state_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOLDENPATH_DATABASE_URL", raising=False)
    monkeypatch.setenv("GOLDENPATH_STATE_DIR", str(tmp_path / "state"))
    settings = Settings()
    store = open_store(settings)
    assert store.display == f"sqlite+pysqlite:///{tmp_path}/state/goldenpath.db"
    assert (tmp_path / "state" / "goldenpath.db").is_file()
    assert migrate.current(store.db) == migrate.head()
    store.close()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_settings_read_the_database_url_and_never_show_it(
        pg_server: Server, empty_target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDENPATH_DATABASE_URL", empty_target.url)
    settings = Settings()
    assert pg_server.password not in repr(settings) and pg_server.password not in str(
        settings.model_dump())
    store = open_store(settings)
    database = empty_target.url.rsplit("/", 1)[1]
    assert store.display == f"postgresql+psycopg://127.0.0.1:{pg_server.port}/{database}"
    assert migrate.current(store.db) == migrate.head()
    store.close()


def test_a_postgresql_that_goes_down_while_in_use_is_a_store_error_saying_so(
        pg_server: Server) -> None:
    """A server of its own, stopped under a store with pooled connections."""
    with running_server(pg_server.bin) as server:
        server.create_database("doomed")
        store = Store(server.url("doomed"))
        store.migrate()
        rid = store.requests.submit(kind="k", team="t", actor="a", payload={}).request.id
        server.stop()  # fast: sessions ended (immediate may lose the tests' async commits)
        for call in (store.ping, lambda: store.requests.get(rid)):
            with pytest.raises(StoreUnavailable) as caught:
                call()
            assert str(caught.value).startswith(
                f"database postgresql+psycopg://127.0.0.1:{server.port}/doomed is unavailable")
            assert server.password not in str(caught.value)
        server.start()  # the same data directory and port: the same store goes on
        assert store.requests.get(rid).id == rid
        store.close()


def test_a_connection_opened_while_another_holds_a_new_sqlite_file_waits_for_it(
        tmp_path: Path) -> None:
    """Turning a new SQLite file to WAL needs it alone, and while another connection
    writes SQLite refuses at once, without its busy timeout: replicas starting together on
    a fresh file failed at random with "database is locked" (about 1 in 15 runs of
    test_replicas_migrating_at_once_all_succeed[sqlite])."""
    import sqlite3

    path = tmp_path / "fresh.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # a writer, as another replica migrating
    holder.execute("CREATE TABLE held (x)")
    release = threading.Timer(0.5, holder.execute, args=("COMMIT",))
    release.start()
    try:
        store = Store(f"sqlite:///{path}", sqlite_path=path)
        store.migrate()
        assert migrate.current(store.db) == migrate.head()
        with store.db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        store.close()
    finally:
        release.join()
        holder.close()
