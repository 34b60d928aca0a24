"""The store as one object: a database and its four concerns (requests, queue, audit,
tokens), sharing one engine, one clock and one :class:`~goldenpath.store.notify.Notifier`
(the changes made through this object, announced to waiters in this process)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from goldenpath.settings import Settings
from goldenpath.store import migrate
from goldenpath.store.audit import Audit
from goldenpath.store.codec import MAX_JSON_BYTES, utcnow
from goldenpath.store.db import Database, resolve_url
from goldenpath.store.notify import Notifier
from goldenpath.store.queue import Queue
from goldenpath.store.requests import Requests
from goldenpath.store.tokens import Tokens


class Store:
    """Requests, their queue, the audit trail and API tokens in one database.

    ``url`` empty means SQLite at ``sqlite_path`` (Settings.database_path). The clock is injectable
    so tests move time instead of sleeping through leases and expiries. Two Store objects
    on one database are two replicas: neither hears the other's notices.
    """

    def __init__(self, url: str = "", *,
                 sqlite_path: Path = Path(".goldenpath/goldenpath.db"),
                 clock: Callable[[], datetime] = utcnow,
                 max_payload_bytes: int = MAX_JSON_BYTES) -> None:
        self.db = Database(resolve_url(url, sqlite_path))
        self.notifier = Notifier()
        self.requests = Requests(self.db, clock, max_payload_bytes, self.notifier)
        self.queue = Queue(self.db, clock, max_payload_bytes, self.notifier)
        self.audit = Audit(self.db, clock, max_payload_bytes)
        self.tokens = Tokens(self.db, clock)

    @property
    def display(self) -> str:
        """The database's URL without credentials (for logs and messages)."""
        return self.db.display

    def migrate(self) -> str | None:
        """Bring the schema to this version's head (safe with several replicas); the
        revision it was at (None: never migrated)."""
        return migrate.upgrade(self.db)

    def check_schema(self) -> str:
        """``ok`` (or ``ok (...)``: a newer schema compatible with this code) when this
        version may work on the database as it is; StoreError saying what to run when
        not (see :func:`goldenpath.store.migrate.check`)."""
        return migrate.check(self.db)

    def ping(self) -> None:
        """Raise StoreError unless the database answers (readiness probes)."""
        with self.db.transaction("ping the database", write=False) as conn:
            conn.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        self.db.dispose()


def open_store(settings: Settings, *, migrate_schema: bool = True) -> Store:
    """The store the settings name, ready for this version: migrated to head (unless
    ``GOLDENPATH_MIGRATE_ON_START`` is false: then checked, and refused when behind), or
    as it is with ``migrate_schema=False`` (``goldenpath migrate`` does the rest)."""
    store = Store(settings.database_url.get_secret_value(), sqlite_path=settings.database_path)
    if migrate_schema:
        try:
            if settings.migrate_on_start:
                store.migrate()
            else:
                store.check_schema()
        except BaseException:
            store.close()
            raise
    return store
