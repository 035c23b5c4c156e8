"""SQLite's webhook outbox: events as a request writes them, moved by the delivery process

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as they are at this revision (a migration never changes with tables.py).
Timestamp = sa.DateTime(timezone=True).with_variant(sa.String(24), "sqlite")
Id = sa.String(24)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_outbox",
        sa.Column("seq", SERIAL, primary_key=True),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("endpoint_ids", sa.Text(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_webhook_outbox"),
    )


def downgrade() -> None:
    op.drop_table("webhook_outbox")
