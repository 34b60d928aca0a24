"""Schema migrations, run by goldenpath itself on start (Alembic, scripts in the package).

``upgrade`` brings a database, empty or at any earlier revision, to this version's head in
one transaction (DDL is transactional on both PostgreSQL and SQLite): a failed migration
leaves the schema as it was. Several replicas starting at once are safe: on PostgreSQL
the first takes a transaction-scoped advisory lock and the others wait for it, then find
the database at head; on SQLite ``BEGIN IMMEDIATE`` serializes them the same way.
A database migrated by a newer goldenpath is refused rather than guessed at.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text

from goldenpath.errors import StoreError
from goldenpath.store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"
#: pg_advisory_xact_lock key: "goldenpath" migrations (any constant shared by replicas).
_LOCK_KEY = 0x676F6C64656E


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head() -> str:
    """The newest revision this goldenpath knows."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    if revision is None:  # pragma: no cover - the package ships its migrations
        raise StoreError(f"no migrations found in {MIGRATIONS}")
    return revision


def current(db: Database) -> str | None:
    """The database's revision (None: never migrated)."""
    with db.transaction("read the schema revision", write=False) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database) -> str | None:
    """Migrate the database to :func:`head`; the revision it was at (None: never
    migrated), read under the lock, so of several at once only one finds it behind."""
    cfg = config()
    known = {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}
    with db.transaction("migrate the schema") as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        found = MigrationContext.configure(conn).get_current_revision()
        if found is not None and found not in known:
            raise StoreError(
                f"database {db.display} is at schema revision {found}, which this goldenpath "
                f"does not know (its newest is {head()}): it was migrated by a newer "
                "goldenpath; run that version or a newer one")
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, "head")
        except CommandError as err:
            raise StoreError(f"database {db.display}: migration failed: {err}") from err
    return found
