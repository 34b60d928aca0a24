"""Schema migrations, run by goldenpath itself on start (Alembic, scripts in the package).

``upgrade`` brings a database, empty or at any earlier revision, to this version's head in
one transaction (DDL is transactional on both PostgreSQL and SQLite): a failed migration
leaves the schema as it was. Several replicas starting at once are safe: on PostgreSQL
the first takes a transaction-scoped advisory lock and the others wait for it, then find
the database at head; on SQLite ``BEGIN IMMEDIATE`` serializes them the same way.

Rolling updates run two versions on one schema, so migrations are **expand/contract**:
every migration after :data:`COMPATIBLE_FROM` only adds (tables; columns that are
nullable or have a server default, so an older version's ``INSERT`` still works; never a
drop, a rename, a type change or a new ``NOT NULL`` on an existing column), and a test
checks it. Dropping what older code uses (the contract half) is a migration of a later
release that moves :data:`COMPATIBLE_FROM` to a revision whose code no longer uses it.
Migrating writes, for the head it reached, the oldest code that works on it
(``schema_compatibility``), which is how code older than the schema decides, without
knowing the newer migrations: a database at a revision this code does not know is used
as it is when its row names a revision this code knows, and refused otherwise.

:func:`check` is what a replica that does not migrate on start (or ``/readyz``) asks: a
schema behind this code is refused with the command that fixes it (``goldenpath
migrate``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, delete, insert, inspect, select, text

from goldenpath import __version__
from goldenpath.errors import StoreError
from goldenpath.store.db import Database
from goldenpath.store.schema import SchemaCompatibilityRow

MIGRATIONS = Path(__file__).parent / "migrations"
#: pg_advisory_xact_lock key: "goldenpath" migrations (any constant shared by replicas).
_LOCK_KEY = 0x676F6C64656E
#: The oldest schema head whose code still works on this version's schema head: every
#: migration after it is expand-only (tests/store/test_upgrades.py checks it). Move it
#: forward only with a migration that removes what older code needs.
COMPATIBLE_FROM = "0001"


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@cache
def head() -> str:
    """The newest revision this goldenpath knows (the scripts are read once: they are
    the package's, fixed while it runs)."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    if revision is None:  # pragma: no cover - the package ships its migrations
        raise StoreError(f"no migrations found in {MIGRATIONS}")
    return revision


def current(db: Database) -> str | None:
    """The database's revision (None: never migrated)."""
    with db.transaction("read the schema revision", write=False) as conn:
        return MigrationContext.configure(conn).get_current_revision()


@cache
def known() -> tuple[str, ...]:
    """This goldenpath's revisions, oldest first (read once, like :func:`head`)."""
    script = ScriptDirectory.from_config(config())
    return tuple(rev.revision for rev in reversed(list(script.walk_revisions())))


def upgrade(db: Database) -> str | None:
    """Migrate the database to :func:`head`; the revision it was at (None: never
    migrated), read under the lock, so of several at once only one finds it behind.
    A database at a newer revision that declares this code compatible is left as it is
    (and its revision returned); one that does not is refused."""
    cfg = config()
    revisions = known()
    with db.transaction("migrate the schema") as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        found = MigrationContext.configure(conn).get_current_revision()
        if found is not None and found not in revisions:
            _newer(db, conn, found, revisions)  # raises unless compatible
            return found
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, "head")
        except CommandError as err:
            raise StoreError(f"database {db.display}: migration failed: {err}") from err
        conn.execute(delete(SchemaCompatibilityRow)
                     .where(SchemaCompatibilityRow.revision == head()))
        conn.execute(insert(SchemaCompatibilityRow).values(
            revision=head(), oldest_code=COMPATIBLE_FROM, written_by=__version__))
    return found


def check(db: Database) -> str:
    """Whether this code may work on the database as it is (without migrating it): a
    note when it may (``ok``, or ``ok (...)`` for a compatible newer schema); StoreError
    saying what to do when it may not."""
    revisions = known()
    with db.transaction("read the schema revision", write=False) as conn:
        found = MigrationContext.configure(conn).get_current_revision()
        if found == head():
            return "ok"
        if found is None or found in revisions:
            raise StoreError(
                f"database {db.display} is at schema revision {found or 'empty'}, behind "
                f"this goldenpath's {head()}: run `goldenpath migrate` with this version "
                "(in a deployment, the migration Job) before starting it")
        oldest = _newer(db, conn, found, revisions)
    return (f"ok (schema revision {found} is newer than this goldenpath's {head()} and "
            f"works with code from {oldest} on)")


def _newer(db: Database, conn: Connection, found: str, revisions: tuple[str, ...]) -> str:
    """The oldest code revision the newer schema ``found`` works with, when this code
    is at least that; else StoreError."""
    oldest = None
    if inspect(conn).has_table(SchemaCompatibilityRow.__tablename__):
        oldest = conn.execute(select(SchemaCompatibilityRow.oldest_code)
                              .where(SchemaCompatibilityRow.revision == found)).scalar()
    if oldest in revisions:
        return str(oldest)
    only = f" that works only with code from schema revision {oldest} on" if oldest else ""
    raise StoreError(
        f"database {db.display} is at schema revision {found}, which this goldenpath does "
        f"not know (its newest is {head()}): it was migrated by a newer goldenpath{only}; "
        "run that version or a newer one")
