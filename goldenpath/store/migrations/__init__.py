"""Alembic migrations of the store, shipped in the package (see goldenpath.store.migrate)."""
