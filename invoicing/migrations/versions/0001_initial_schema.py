"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("token_id", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=24), "sqlite"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("token_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "orders",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column("customer_address", sa.String(length=1000), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "subtotal",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "taxes",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "tax_total",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "total",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "meta_fields",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.String(length=24), nullable=False),
        sa.Column("created_by_name", sa.String(length=200), nullable=False),
        sa.Column("created_by_type", sa.String(length=10), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=24), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=24), "sqlite"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('open', 'partially_invoiced', 'invoiced')", name=op.f("ck_orders_status")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_orders")),
        sa.UniqueConstraint("id", name=op.f("uq_orders_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_status_seq", ["status", "seq"], unique=False)

    op.create_table(
        "tokens",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=24), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "revoked_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=24), "sqlite"),
            nullable=True,
        ),
        sa.CheckConstraint("type IN ('admin', 'api')", name=op.f("ck_tokens_type")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_tokens")),
        sa.UniqueConstraint("id", name=op.f("uq_tokens_id")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_tokens_secret_hash")),
    )
    op.create_table(
        "invoices",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "subtotal",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "taxes",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "tax_total",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "total",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "meta_fields",
            sa.Text().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.String(length=24), nullable=False),
        sa.Column("created_by_name", sa.String(length=200), nullable=False),
        sa.Column("created_by_type", sa.String(length=10), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=24), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=24), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_invoices_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_invoices")),
        sa.UniqueConstraint("id", name=op.f("uq_invoices_id")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_order_id_seq", ["order_id", "seq"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("order_id", sa.String(length=24), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column(
            "quantity",
            sa.Numeric(precision=15, scale=3).with_variant(sa.String(length=24), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "unit_price",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "tax_rate",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "amount",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "invoiced_quantity",
            sa.Numeric(precision=15, scale=3).with_variant(sa.String(length=24), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "invoiced_amount",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
        sa.UniqueConstraint("order_id", "position", name="uq_order_lines_order_id_position"),
    )
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("invoice_id", sa.String(length=24), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column(
            "quantity",
            sa.Numeric(precision=15, scale=3).with_variant(sa.String(length=24), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "unit_price",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "tax_rate",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "amount",
            sa.Numeric(precision=20, scale=4).with_variant(sa.String(length=40), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_invoice_lines_order_line_id_order_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint("invoice_id", "position", name="uq_invoice_lines_invoice_id_position"),
    )
    op.create_table(
        "invoice_mails",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("invoice_id", sa.String(length=24), nullable=False),
        sa.Column("sent_to", sa.String(length=320), nullable=False),
        sa.Column(
            "sent_at",
            sa.DateTime(timezone=True).with_variant(sa.String(length=24), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_mails_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_invoice_mails")),
    )
    with op.batch_alter_table("invoice_mails", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_mails_invoice_id"), ["invoice_id"], unique=False
        )

    op.execute("INSERT INTO counters (name, value) VALUES ('invoice', 0)")


def downgrade() -> None:
    with op.batch_alter_table("invoice_mails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_mails_invoice_id"))

    op.drop_table("invoice_mails")
    op.drop_table("invoice_lines")
    op.drop_table("order_lines")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_order_id_seq")

    op.drop_table("invoices")
    op.drop_table("tokens")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_status_seq")

    op.drop_table("orders")
    op.drop_table("idempotency_keys")
    op.drop_table("counters")
