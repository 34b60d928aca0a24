"""Every store test runs twice: on SQLite and on a real PostgreSQL server this session
started (see tests/store/pg.py). Each test gets an empty, migrated database (emptied
before it runs) and a clock it can move."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from goldenpath.store import Store, migrate
from tests.store.pg import Server, required_bin, running_server

BACKENDS = ["sqlite", "postgresql"]
_DATABASE = "goldenpath_tests"
_TABLES = ("request_logs", "request_steps", "requests", "audit", "api_tokens",
           "schema_compatibility")


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 12, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Target:
    """A migrated, empty database: ``url`` (empty for SQLite) and ``sqlite_path``."""

    backend: str
    url: str
    sqlite_path: Path

    def open(self, clock: Clock | None = None) -> Store:
        if clock is None:
            return Store(self.url, sqlite_path=self.sqlite_path)
        return Store(self.url, sqlite_path=self.sqlite_path, clock=clock)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    with running_server(required_bin()) as server:
        server.create_database(_DATABASE)
        migrated = Store(server.url(_DATABASE))
        migrated.migrate()
        migrated.close()
        yield server


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    store = Store(sqlite_path=path)
    store.migrate()
    store.close()
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def target(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """An empty database at head, of its own."""
    if backend == "sqlite":
        path = tmp_path / "goldenpath.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield Target(backend, "", path)
        return
    server: Server = request.getfixturevalue("pg_server")
    # Emptying the session's database is ~20 ms; a fresh copy of it was ~10x that.
    # Triggers are off for this session only: the audit table refuses TRUNCATE otherwise.
    with server.connect(_DATABASE) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY")
        conn.execute("UPDATE alembic_version SET version_num = %s", (migrate.head(),))
    yield Target(backend, server.url(_DATABASE), tmp_path / "unused.db")


@pytest.fixture
def empty_target(backend: str, request: pytest.FixtureRequest,
                 tmp_path: Path) -> Iterator[Target]:
    """An empty database that was never migrated."""
    if backend == "sqlite":
        yield Target(backend, "", tmp_path / "fresh.db")
        return
    server: Server = request.getfixturevalue("pg_server")
    name = f"e_{uuid.uuid4().hex[:16]}"
    server.create_database(name)
    try:
        yield Target(backend, server.url(name), tmp_path / "unused.db")
    finally:
        server.drop_database(name)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(target: Target, clock: Clock) -> Iterator[Store]:
    opened = target.open(clock)
    try:
        yield opened
    finally:
        opened.close()
