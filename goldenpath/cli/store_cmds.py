"""``goldenpath migrate``: bring the store's database to this version's schema, then exit.

The server migrates on start too (:func:`goldenpath.store.open_store`); this command lets
a deployment do it once, before any new replica starts, and stop the rollout when it
fails (``deploy/overlays/production/migrate-job.yaml``, an Argo CD ``PreSync`` hook).
It is safe to run beside running replicas and other migrations:
:func:`goldenpath.store.migrate.upgrade` serializes them, leaves alone a database a newer
goldenpath migrated that declares this version compatible, and refuses any other.
"""

from __future__ import annotations

from goldenpath.cli.app import app, out, reported_errors
from goldenpath.settings import get_settings
from goldenpath.store import migrate as schema
from goldenpath.store import open_store


@app.command("migrate")
def migrate() -> None:
    """Migrate the database (GOLDENPATH_DATABASE_URL, else the embedded SQLite) to this
    version's schema and exit; a database already there is left as it is."""
    with reported_errors():
        settings = get_settings()
        if not settings.database_url.get_secret_value():
            settings.state_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings, migrate_schema=False)
        try:
            before = store.migrate()  # read under the migration lock: never stale
            after = schema.current(store.db)
        finally:
            store.close()
    if after not in schema.known():  # a newer goldenpath's, compatible with this one
        out.print(f"database {store.display}: schema at {after}, newer than this "
                  f"goldenpath's {schema.head()} and compatible with it: left as it is",
                  soft_wrap=True)
    elif before == after:
        out.print(f"database {store.display}: schema already at {after}", soft_wrap=True)
    else:
        out.print(f"database {store.display}: schema migrated from {before or 'empty'} to "
                  f"{after}", soft_wrap=True)
