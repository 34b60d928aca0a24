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
    # batch: SQLite cannot add a NOT NULL column otherwise; rows of the previous release
    # start at 0 retries and are claimable at once
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("retries", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("retry_at")
        batch.drop_column("retries")
