"""Requests retried later: ``retries`` (how many times a worker gave one back because a
server it needs was down) and ``retry_at`` (no worker claims it before then).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE, never a batch rebuild: on SQLite a rebuilt requests table would
    # cascade its logs and steps away. Rows of the previous release get 0 retries and
    # are claimable at once.
    op.add_column("requests", sa.Column("retries", sa.Integer(), nullable=False,
                                        server_default="0"))
    op.add_column("requests", sa.Column("retry_at", sa.DateTime(timezone=True),
                                        nullable=True))


def downgrade() -> None:
    op.drop_column("requests", "retry_at")  # SQLite 3.35+ drops columns in place
    op.drop_column("requests", "retries")
