"""Complete invoices: seller profile, snapshots, number series, dates, payments, credit notes

Existing rows are carried forward: every invoice keeps its number (`number` = `entityId`), gets
its creation date as issue and delivery date, a due date 30 days later (the default terms), the
seller of the day's settings and its order's customer as snapshots; order and invoice lines get
the unit `C62` and the category their rate implies (`S` above 0 %, else `Z`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from invoicing.config import get_settings

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TERMS_DAYS = 30
# The column types as they are at this revision (a migration never changes with tables.py).
Money = sa.Numeric(20, 4).with_variant(sa.String(40), "sqlite")
Quantity = sa.Numeric(15, 3).with_variant(sa.String(24), "sqlite")
Timestamp = sa.DateTime(timezone=True).with_variant(sa.String(24), "sqlite")
Json = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
Snapshot = sa.Text()
Day = sa.Date().with_variant(sa.String(10), "sqlite")
Id = sa.String(24)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _created_by() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_by_id", Id, nullable=False),
        sa.Column("created_by_name", sa.String(200), nullable=False),
        sa.Column("created_by_type", sa.String(10), nullable=False),
    ]


def _line_terms() -> list[sa.Column[Any]]:
    return [
        sa.Column("unit_code", sa.String(3), nullable=False),
        sa.Column("unit_price", Money, nullable=False),
        sa.Column("tax_category", sa.String(2), nullable=False),
        sa.Column("tax_rate", Money, nullable=False),
        sa.Column("exemption_reason", sa.String(1000), nullable=True),
        sa.Column("exemption_reason_code", sa.String(30), nullable=True),
    ]


def _document_terms() -> list[sa.Column[Any]]:
    return [
        sa.Column("issue_date", Day, nullable=False),
        sa.Column("seller", Snapshot, nullable=False),
        sa.Column("customer", Snapshot, nullable=False),
        sa.Column("subtotal", Money, nullable=False),
        sa.Column("taxes", Json, nullable=False),
        sa.Column("tax_total", Money, nullable=False),
        sa.Column("total", Money, nullable=False),
    ]


def _category(rate: Any) -> str:
    return "S" if Decimal(str(rate)) > 0 else "Z"


def _json(value: Any) -> Any:
    return value if not isinstance(value, str) else json.loads(value)


def _day(moment: datetime | str, zone: ZoneInfo) -> date:
    """The calendar date in `zone` of a stored time (text on SQLite, a datetime on PostgreSQL)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def upgrade() -> None:
    _create_tables()
    _add_columns()
    _carry_rows_forward()
    _tighten()


def _create_tables() -> None:
    op.create_table(
        "seller_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile", Json, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_seller_profile_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_profile")),
    )
    op.create_table(
        "payments",
        sa.Column("seq", SERIAL, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("invoice_id", Id, nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("paid_at", Day, nullable=False),
        sa.Column("method", sa.String(40), nullable=True),
        sa.Column("reference", sa.String(200), nullable=True),
        *_created_by(),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_payments")),
        sa.UniqueConstraint("id", name=op.f("uq_payments_id")),
    )
    op.create_index(op.f("ix_payments_invoice_id"), "payments", ["invoice_id"])
    op.create_table(
        "credit_notes",
        sa.Column("seq", SERIAL, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("invoice_id", Id, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        *_document_terms(),
        sa.Column("meta_fields", Json, nullable=False),
        *_created_by(),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_credit_notes_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_credit_notes_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_credit_notes")),
        sa.UniqueConstraint("id", name=op.f("uq_credit_notes_id")),
        sa.UniqueConstraint("entity_id", name=op.f("uq_credit_notes_entity_id")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_notes_number")),
    )
    op.create_index("ix_credit_notes_invoice_id_seq", "credit_notes", ["invoice_id", "seq"])
    op.create_index("ix_credit_notes_order_id_seq", "credit_notes", ["order_id", "seq"])
    op.create_table(
        "credit_note_lines",
        sa.Column("id", Id, nullable=False),
        sa.Column("credit_note_id", Id, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("invoice_line_id", Id, nullable=False),
        sa.Column("order_line_id", Id, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("sku", sa.String(100), nullable=True),
        sa.Column("quantity", Quantity, nullable=False),
        *_line_terms(),
        sa.Column("amount", Money, nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["credit_notes.id"],
            name=op.f("fk_credit_note_lines_credit_note_id_credit_notes"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_line_id"],
            ["invoice_lines.id"],
            name=op.f("fk_credit_note_lines_invoice_line_id_invoice_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_credit_note_lines_order_line_id_order_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_note_lines")),
        sa.UniqueConstraint(
            "credit_note_id", "position", name="uq_credit_note_lines_credit_note_id_position"
        ),
    )
    op.create_table(
        "credit_note_mails",
        sa.Column("seq", SERIAL, nullable=False),
        sa.Column("credit_note_id", Id, nullable=False),
        sa.Column("sent_to", sa.String(320), nullable=False),
        sa.Column("sent_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["credit_notes.id"],
            name=op.f("fk_credit_note_mails_credit_note_id_credit_notes"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_credit_note_mails")),
    )
    op.create_index(
        op.f("ix_credit_note_mails_credit_note_id"), "credit_note_mails", ["credit_note_id"]
    )


def _line_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("unit_code", sa.String(3), nullable=True),
        sa.Column("tax_category", sa.String(2), nullable=True),
        sa.Column("exemption_reason", sa.String(1000), nullable=True),
        sa.Column("exemption_reason_code", sa.String(30), nullable=True),
    ]


def _add_columns() -> None:
    with op.batch_alter_table("counters") as batch:
        batch.alter_column("name", type_=sa.String(200), existing_nullable=False)
    columns: list[sa.Column[Any]] = [
        sa.Column("customer", Snapshot, nullable=True),
        sa.Column("deliver_to", Snapshot, nullable=True),
        sa.Column("billed_taxes", Json, nullable=True),
    ]
    for column in columns:
        op.add_column("orders", column)
    for column in _line_columns():
        op.add_column("order_lines", column)
    with op.batch_alter_table("invoices") as batch:
        batch.drop_constraint("uq_invoices_number", type_="unique")
        batch.alter_column(
            "number", new_column_name="entity_id", existing_type=sa.BigInteger(),
            existing_nullable=False,
        )  # fmt: skip
    with op.batch_alter_table("invoices") as batch:  # (SQLite: after the rename, not with it)
        batch.create_unique_constraint(op.f("uq_invoices_entity_id"), ["entity_id"])
    columns = [
        sa.Column("number", sa.String(100), nullable=True),
        sa.Column("issue_date", Day, nullable=True),
        sa.Column("due_date", Day, nullable=True),
        sa.Column("delivery_date", Day, nullable=True),
        sa.Column("deliver_to", Snapshot, nullable=True),
        sa.Column("seller", Snapshot, nullable=True),
        sa.Column("customer", Snapshot, nullable=True),
        sa.Column("paid_total", Money, nullable=True),
        sa.Column("credited_total", Money, nullable=True),
        sa.Column("credited_taxes", Json, nullable=True),
        sa.Column("amount_due", Money, nullable=True),
        sa.Column("status", sa.String(20), nullable=True),
    ]
    for column in columns:
        op.add_column("invoices", column)
    for column in [
        *_line_columns(),
        sa.Column("credited_quantity", Quantity, nullable=True),
        sa.Column("credited_amount", Money, nullable=True),
    ]:
        op.add_column("invoice_lines", column)


def _carry_rows_forward() -> None:
    bind = op.get_bind()

    def as_day(day: date) -> date | str:
        return day if bind.dialect.name == "postgresql" else day.isoformat()

    settings = get_settings()
    zone = ZoneInfo(settings.timezone)
    seller = json.dumps(
        {
            "name": settings.seller_name, "legalName": "",
            "address": settings.seller_address or None, "vatId": "", "taxRegistrationId": "",
            "legalRegistrationId": "", "email": "", "phone": "", "contact": None,
            "electronicAddress": None, "bankAccount": None,
            "paymentTermsDays": DEFAULT_TERMS_DAYS, "updatedAt": None,
        }
    )  # fmt: skip
    for table in ("order_lines", "invoice_lines"):
        bind.execute(
            sa.text(
                f"UPDATE {table} SET unit_code = 'C62', "
                "tax_category = CASE WHEN CAST(tax_rate AS NUMERIC) > 0 THEN 'S' ELSE 'Z' END"
            )
        )
    bind.execute(sa.text("UPDATE invoice_lines SET credited_quantity = 0, credited_amount = 0"))

    customers: dict[str, str] = {}
    orders = bind.execute(
        sa.text("SELECT id, customer_name, customer_email, customer_address, taxes FROM orders")
    )
    for order_id, name, email, address, taxes in orders.fetchall():
        customer = json.dumps(
            {
                "name": name, "email": email, "address": address, "vatId": None,
                "legalRegistrationId": None, "buyerReference": None,
                "electronicAddress": None, "contact": None,
            }
        )  # fmt: skip
        customers[order_id] = customer
        bind.execute(
            sa.text("UPDATE orders SET customer = :customer, taxes = :taxes WHERE id = :id"),
            {"customer": customer, "taxes": _with_categories(taxes), "id": order_id},
        )
    billed: dict[str, dict[Decimal, Decimal]] = {}
    invoices = bind.execute(
        sa.text("SELECT id, entity_id, order_id, taxes, total, created_at FROM invoices")
    )
    for invoice_id, entity_id, order_id, taxes, total, created_at in invoices.fetchall():
        issued = _day(created_at, zone)
        for tax in _json(taxes):
            order_billed = billed.setdefault(order_id, {})
            rate = Decimal(str(tax["rate"])).normalize()  # "19" and "19.0": one group
            order_billed[rate] = order_billed.get(rate, Decimal(0)) + Decimal(str(tax["amount"]))
        bind.execute(
            sa.text(
                "UPDATE invoices SET number = :number, issue_date = :issued, due_date = :due, "
                "delivery_date = :issued, seller = :seller, customer = :customer, "
                "paid_total = 0, credited_total = 0, credited_taxes = '[]', amount_due = :total, "
                "status = 'open', taxes = :taxes WHERE id = :id"
            ),
            {
                "number": str(entity_id),
                "issued": as_day(issued),
                "due": as_day(issued + timedelta(days=DEFAULT_TERMS_DAYS)),
                "seller": seller,
                "customer": customers[order_id],
                "total": total,
                "taxes": _with_categories(taxes),
                "id": invoice_id,
            },
        )
    for order_id in customers:
        groups = billed.get(order_id, {})
        bind.execute(
            sa.text("UPDATE orders SET billed_taxes = :billed WHERE id = :id"),
            {
                "billed": json.dumps(
                    [
                        {"category": _category(rate), "rate": f"{rate:f}", "amount": str(amount)}
                        for rate, amount in groups.items()
                    ]
                ),
                "id": order_id,
            },
        )
    invoiced = bind.execute(sa.text("SELECT value FROM counters WHERE name = 'invoice'")).scalar()
    bind.execute(
        sa.text(
            "INSERT INTO counters (name, value) VALUES "
            "('credit_note', 0), ('invoice:{seq}', :invoiced)"
        ),
        {"invoiced": invoiced or 0},
    )


def _with_categories(taxes: Any) -> str:
    return json.dumps(
        [
            {
                "category": _category(tax["rate"]),
                "rate": tax["rate"],
                "taxable": tax["taxable"],
                "amount": tax["amount"],
            }
            for tax in _json(taxes)
        ]
    )


def _not_null(batch: Any, columns: dict[str, Any]) -> None:
    for name, kind in columns.items():
        batch.alter_column(name, existing_type=kind, nullable=False)


def _tighten() -> None:
    with op.batch_alter_table("orders") as batch:
        _not_null(batch, {"customer": Snapshot, "billed_taxes": Json})
        batch.drop_column("customer_address")
    with op.batch_alter_table("order_lines") as batch:
        _not_null(batch, {"unit_code": sa.String(3), "tax_category": sa.String(2)})
    with op.batch_alter_table("invoices") as batch:
        _not_null(
            batch,
            {
                "number": sa.String(100), "issue_date": Day, "due_date": Day,
                "delivery_date": Day, "seller": Snapshot, "customer": Snapshot,
                "paid_total": Money, "credited_total": Money, "credited_taxes": Json,
                "amount_due": Money, "status": sa.String(20),
            },
        )  # fmt: skip
        batch.create_unique_constraint(op.f("uq_invoices_number"), ["number"])
        batch.create_check_constraint(
            "status", "status IN ('open', 'partially_paid', 'paid', 'credited')"
        )
        batch.create_index("ix_invoices_status_seq", ["status", "seq"])
        batch.create_index("ix_invoices_due_date", ["due_date"])
    with op.batch_alter_table("invoice_lines") as batch:
        _not_null(
            batch,
            {
                "unit_code": sa.String(3), "tax_category": sa.String(2),
                "credited_quantity": Quantity, "credited_amount": Money,
            },
        )  # fmt: skip


def downgrade() -> None:
    raise NotImplementedError("issued invoices are kept forever: this revision is not undone")
