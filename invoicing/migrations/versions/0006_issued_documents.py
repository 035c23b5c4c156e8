"""Issued documents: each invoice's and credit note's PDF and e-invoices, stored once

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as they are at this revision (a migration never changes with tables.py).
Timestamp = sa.DateTime(timezone=True).with_variant(sa.String(24), "sqlite")
Id = sa.String(24)


def upgrade() -> None:
    op.create_table(
        "issued_documents",
        sa.Column("document_id", Id, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("document_type", sa.String(12), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),  # BYTEA; BLOB on SQLite
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("document_id", "kind", name=op.f("pk_issued_documents")),
        sa.CheckConstraint(
            "kind IN ('pdf', 'ubl', 'ubl-xrechnung', 'cii', 'cii-xrechnung')",
            name=op.f("ck_issued_documents_kind"),
        ),
        sa.CheckConstraint(
            "document_type IN ('invoice', 'credit_note')",
            name=op.f("ck_issued_documents_document_type"),
        ),
    )


def downgrade() -> None:
    op.drop_table("issued_documents")
