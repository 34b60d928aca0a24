"""Rolling updates: ``payload_version`` on requests (the format of the payload, so a
worker claims only what it can read) and ``schema_compatibility`` (for each schema head
written by a goldenpath, the oldest code that still works on it, so an older replica
can tell a compatible newer schema from one it must not touch).

Expand only, like every migration after ``migrate.COMPATIBLE_FROM``: the new column has
a server default (the previous release's INSERTs, which do not name it, store format 1,
the format that release writes and reads) and the new table is read only by code that
knows it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE (see 0002: a SQLite batch rebuild would cascade logs and steps away)
    op.add_column("requests", sa.Column("payload_version", sa.Integer(), nullable=False,
                                        server_default="1"))
    op.create_table(
        "schema_compatibility",
        sa.Column("revision", sa.String(32), nullable=False),
        sa.Column("oldest_code", sa.String(32), nullable=False),
        sa.Column("written_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("revision", name=op.f("pk_schema_compatibility")),
    )


def downgrade() -> None:
    op.drop_table("schema_compatibility")
    op.drop_column("requests", "payload_version")
