"""Alembic's entry point: runs on the connection goldenpath.store.migrate hands it.

Migrations always run through :func:`goldenpath.store.migrate.upgrade` (on start, or from
the tests), which opens the transaction and takes the migration lock; there is no
alembic.ini and no offline (SQL script) mode.
"""

from __future__ import annotations

from alembic import context

from goldenpath.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run goldenpath migrations with goldenpath.store.migrate.upgrade")
context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
