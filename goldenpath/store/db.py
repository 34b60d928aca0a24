"""The one place SQLAlchemy meets the database: URLs, engines, transactions, errors.

Every store operation runs inside :meth:`Database.transaction`, which turns any
SQLAlchemy or driver failure into a :class:`~goldenpath.errors.StoreError` whose message
names the database with its password and user removed (``raise ... from err``; the
driver's own text is kept to its first line, so no SQL parameters reach a message).

SQLite (embedded mode) and PostgreSQL behave the same for the store's guarantees:

- PostgreSQL: ``READ COMMITTED`` transactions; the operations that must not race lock the
  rows they change (``SELECT ... FOR UPDATE [SKIP LOCKED]``) or change them with one
  conditional ``UPDATE``.
- SQLite: write transactions start with ``BEGIN IMMEDIATE``, which takes the database's
  write lock before the first read, so a read-then-write transaction is serialized with
  every other writer, across processes too; readers use a plain ``BEGIN`` and, with the
  write-ahead log, never wait for a writer. ``busy_timeout`` makes a second writer wait
  for the lock instead of failing.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url

from goldenpath.errors import StoreError, StoreUnavailable

#: How long a SQLite writer waits for another process's write lock before failing.
_SQLITE_BUSY_MS = 30_000
#: How long a PostgreSQL connection attempt may take before the database counts as down.
_CONNECT_TIMEOUT_S = 5
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_PASSWORD_PARAM = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)
#: Failures that mean "the database cannot be reached", not "this statement is wrong".
_UNREACHABLE = ("connection", "could not connect", "unable to open", "server closed",
                "timeout expired", "terminating connection", "database is locked",
                "no such host", "name or service not known")


def resolve_url(url: str, sqlite_path: Path) -> URL:
    """The database URL to use: ``url``, or SQLite at ``sqlite_path`` when it is empty.

    ``postgresql://`` and ``postgres://`` select psycopg 3, the one PostgreSQL driver
    installed, so operators can paste the URL their database provider gives them.
    """
    if not url:
        return URL.create("sqlite+pysqlite", database=str(sqlite_path))
    try:
        parsed = make_url(url)
    except (exc.ArgumentError, ValueError):
        # from None: the parser's own message quotes the URL, password and all
        raise StoreError(
            "GOLDENPATH_DATABASE_URL is not a database URL (not shown: it may hold a "
            "password): expected sqlite:///<path> or "
            "postgresql://<user>:<password>@<host>:<port>/<database>") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")
    if parsed.drivername not in ("postgresql+psycopg", "sqlite+pysqlite"):
        raise StoreError(
            f"GOLDENPATH_DATABASE_URL: {parsed.render_as_string(hide_password=True)!r}: "
            "unsupported database; use sqlite:///<path> or postgresql://...")
    return parsed


def redact(text: str, url: URL | None = None) -> str:
    """``text`` without the URL's password (as given or URL-encoded), any
    ``user:password@`` or any ``password=...`` it carries."""
    if url is not None and url.password:
        password = str(url.password)
        for secret in (password, quote_plus(password), quote(password, safe="")):
            text = text.replace(secret, "***")
    text = _USERINFO.sub("***@", text)
    return _PASSWORD_PARAM.sub(r"\1***", text)


@dataclass
class Database:
    """An engine and how to name its database in messages (never with credentials)."""

    url: URL
    engine: Engine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = _create_engine(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display(self) -> str:
        # URL.set() keeps a field set to None; a namedtuple _replace drops it.
        shown = self.url._replace(username=None, password=None)
        return redact(shown.render_as_string(hide_password=True), self.url)

    @contextmanager
    def transaction(self, action: str, *, write: bool = True) -> Iterator[Connection]:
        """One transaction, committed when the block ends and rolled back if it raises;
        database failures come out as StoreError naming ``action``."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(goldenpath_write=write)
                with conn.begin():
                    yield conn
        except exc.SQLAlchemyError as err:
            raise self.error(action, err) from err

    def error(self, action: str, err: BaseException) -> StoreError:
        """``err`` as a StoreError that says whether the database is down (then a
        StoreUnavailable: the worker retries rather than fails on it)."""
        detail = _first_line(err)
        if _is_unreachable(err, detail):
            return StoreUnavailable(redact(
                f"database {self.display} is unavailable ({action}): {detail}; check that it "
                "is running and reachable and that GOLDENPATH_DATABASE_URL is right", self.url))
        return StoreError(redact(f"database {self.display}: {action} failed: {detail}",
                                 self.url))

    def dispose(self) -> None:
        self.engine.dispose()


def _first_line(err: BaseException) -> str:
    """The driver's message without SQLAlchemy's appended statement and parameters."""
    orig = getattr(err, "orig", None)
    source = orig if orig is not None else err
    lines = [line.strip() for line in str(source).splitlines() if line.strip()]
    text = "; ".join(lines[:2]) if lines else type(source).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _is_unreachable(err: BaseException, detail: str) -> bool:
    if isinstance(err, exc.DBAPIError) and err.connection_invalidated:
        return True
    if isinstance(err, exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(err, exc.OperationalError | exc.InterfaceError):
        return False
    lowered = detail.lower()
    return any(marker in lowered for marker in _UNREACHABLE)


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    # pre-ping: a pooled connection the server dropped (a restart) is replaced, not
    # handed out; pool_timeout: with every connection busy, a request waits this long
    # for one and then gets 503, not a 30 s hang
    return create_engine(url, pool_pre_ping=True, pool_timeout=_CONNECT_TIMEOUT_S,
                         connect_args={"connect_timeout": _CONNECT_TIMEOUT_S})


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        try:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"database {url.render_as_string(hide_password=True)} is "
                             f"unavailable: cannot create its directory: {err}") from err
    engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")
        _write_ahead_log(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("goldenpath_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _write_ahead_log(cursor: Any) -> None:
    """Put the database in WAL mode (kept in the file: a no-op once set). Setting it on a
    new file needs the file alone, and while another connection writes (a replica
    migrating it at the same moment) SQLite answers "database is locked" at once, without
    waiting the busy timeout: so this waits, up to that timeout, and tries again."""
    deadline = time.monotonic() + _SQLITE_BUSY_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)
