"""The schema. Alembic migrations (invoicing/migrations) are the only way it is made."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite has no exact decimal type (NUMERIC affinity turns "19.99" into a float), so money and
# quantities are TEXT there and NUMERIC on PostgreSQL; both reach the code as their exact text.
Money = sa.Numeric(20, 4).with_variant(sa.String(40), "sqlite")
Quantity = sa.Numeric(15, 3).with_variant(sa.String(24), "sqlite")
# Times are ISO strings with milliseconds on SQLite (they sort like the times they are).
Timestamp = sa.DateTime(timezone=True).with_variant(sa.String(24), "sqlite")
Json = sa.Text().with_variant(JSONB(), "postgresql")
# A document's copy of a party (seller, customer): JSON kept as the exact text it was written as.
Snapshot = sa.Text()
# Calendar dates (issue, due, delivery, paid): ISO text on SQLite, DATE on PostgreSQL.
Day = sa.Date().with_variant(sa.String(10), "sqlite")
Id = sa.String(24)


def _line_terms() -> list[sa.Column[Any]]:
    """What a document line says besides its name and quantity (shared by the three kinds)."""
    return [
        sa.Column("unit_code", sa.String(3), nullable=False),
        sa.Column("unit_price", Money, nullable=False),
        sa.Column("tax_category", sa.String(2), nullable=False),
        sa.Column("tax_rate", Money, nullable=False),
        sa.Column("exemption_reason", sa.String(1000), nullable=True),
        sa.Column("exemption_reason_code", sa.String(30), nullable=True),
    ]


def _document_terms() -> list[sa.Column[Any]]:
    """What an invoice and a credit note both state: dates, parties, amounts."""
    return [
        sa.Column("issue_date", Day, nullable=False),
        sa.Column("seller", Snapshot, nullable=False),
        sa.Column("customer", Snapshot, nullable=False),
        sa.Column("subtotal", Money, nullable=False),
        sa.Column("taxes", Json, nullable=False),
        sa.Column("tax_total", Money, nullable=False),
        sa.Column("total", Money, nullable=False),
    ]


def _created_by() -> list[sa.Column[str]]:
    return [
        sa.Column("created_by_id", Id, nullable=False),
        sa.Column("created_by_name", sa.String(200), nullable=False),
        sa.Column("created_by_type", sa.String(10), nullable=False),
    ]


tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("id", Id, nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("type", sa.String(10), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("revoked_at", Timestamp, nullable=True),
    sa.CheckConstraint("type IN ('admin', 'api')", name="type"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("id", Id, nullable=False, unique=True),
    sa.Column("customer_name", sa.String(200), nullable=False),
    sa.Column("customer_email", sa.String(320), nullable=True),
    # The whole customer object as the API shows it; name and email also have columns to search.
    sa.Column("customer", Snapshot, nullable=False),
    sa.Column("deliver_to", Snapshot, nullable=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("subtotal", Money, nullable=False),
    sa.Column("taxes", Json, nullable=False),
    sa.Column("tax_total", Money, nullable=False),
    sa.Column("total", Money, nullable=False),
    # Net tax billed so far per (category, rate): Σ invoices' - Σ credit notes' group taxes, the
    # base of the cumulative rounding of the next invoice.
    sa.Column("billed_taxes", Json, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("meta_fields", Json, nullable=False),
    *_created_by(),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.CheckConstraint("status IN ('open', 'partially_invoiced', 'invoiced')", name="status"),
    sa.Index("ix_orders_status_seq", "status", "seq"),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("order_id", Id, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("sku", sa.String(100), nullable=True),
    sa.Column("quantity", Quantity, nullable=False),
    *_line_terms(),
    sa.Column("amount", Money, nullable=False),
    # Net of credit notes: what invoices took minus what credit notes gave back.
    sa.Column("invoiced_quantity", Quantity, nullable=False),
    sa.Column("invoiced_amount", Money, nullable=False),
    sa.UniqueConstraint("order_id", "position", name="uq_order_lines_order_id_position"),
)

invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("id", Id, nullable=False, unique=True),
    sa.Column("entity_id", sa.BigInteger(), nullable=False, unique=True),
    sa.Column("number", sa.String(100), nullable=False, unique=True),
    sa.Column("order_id", Id, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    *_document_terms(),
    sa.Column("due_date", Day, nullable=False),
    sa.Column("delivery_date", Day, nullable=False),
    sa.Column("deliver_to", Snapshot, nullable=True),  # the order's, copied at creation
    # After issue: what was paid and credited, and what is left (total - credited - paid).
    sa.Column("paid_total", Money, nullable=False),
    sa.Column("credited_total", Money, nullable=False),
    sa.Column("credited_taxes", Json, nullable=False),
    sa.Column("amount_due", Money, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("meta_fields", Json, nullable=False),
    *_created_by(),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.CheckConstraint("status IN ('open', 'partially_paid', 'paid', 'credited')", name="status"),
    sa.Index("ix_invoices_order_id_seq", "order_id", "seq"),
    sa.Index("ix_invoices_status_seq", "status", "seq"),
    sa.Index("ix_invoices_due_date", "due_date"),
)

invoice_lines = sa.Table(
    "invoice_lines",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("invoice_id", Id, sa.ForeignKey("invoices.id"), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("order_line_id", Id, sa.ForeignKey("order_lines.id"), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("sku", sa.String(100), nullable=True),
    sa.Column("quantity", Quantity, nullable=False),
    *_line_terms(),
    sa.Column("amount", Money, nullable=False),
    sa.Column("credited_quantity", Quantity, nullable=False),
    sa.Column("credited_amount", Money, nullable=False),
    sa.UniqueConstraint("invoice_id", "position", name="uq_invoice_lines_invoice_id_position"),
)

invoice_mails = sa.Table(
    "invoice_mails",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("invoice_id", Id, sa.ForeignKey("invoices.id"), nullable=False, index=True),
    sa.Column("sent_to", sa.String(320), nullable=False),
    sa.Column("sent_at", Timestamp, nullable=False),
)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("id", Id, nullable=False, unique=True),
    sa.Column("invoice_id", Id, sa.ForeignKey("invoices.id"), nullable=False, index=True),
    sa.Column("amount", Money, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("paid_at", Day, nullable=False),
    sa.Column("method", sa.String(40), nullable=True),
    sa.Column("reference", sa.String(200), nullable=True),
    *_created_by(),
    sa.Column("created_at", Timestamp, nullable=False),
)

credit_notes = sa.Table(
    "credit_notes",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("id", Id, nullable=False, unique=True),
    sa.Column("entity_id", sa.BigInteger(), nullable=False, unique=True),
    sa.Column("number", sa.String(100), nullable=False, unique=True),
    sa.Column("invoice_id", Id, sa.ForeignKey("invoices.id"), nullable=False),
    sa.Column("order_id", Id, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    *_document_terms(),
    sa.Column("meta_fields", Json, nullable=False),
    *_created_by(),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index("ix_credit_notes_invoice_id_seq", "invoice_id", "seq"),
    sa.Index("ix_credit_notes_order_id_seq", "order_id", "seq"),
)

credit_note_lines = sa.Table(
    "credit_note_lines",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("credit_note_id", Id, sa.ForeignKey("credit_notes.id"), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("invoice_line_id", Id, sa.ForeignKey("invoice_lines.id"), nullable=False),
    sa.Column("order_line_id", Id, sa.ForeignKey("order_lines.id"), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("sku", sa.String(100), nullable=True),
    sa.Column("quantity", Quantity, nullable=False),
    *_line_terms(),
    sa.Column("amount", Money, nullable=False),
    sa.UniqueConstraint(
        "credit_note_id", "position", name="uq_credit_note_lines_credit_note_id_position"
    ),
)

credit_note_mails = sa.Table(
    "credit_note_mails",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("credit_note_id", Id, sa.ForeignKey("credit_notes.id"), nullable=False, index=True),
    sa.Column("sent_to", sa.String(320), nullable=False),
    sa.Column("sent_at", Timestamp, nullable=False),
)

# The seller profile: one row (id 1) once saved; until then the settings stand in for it.
seller_profile = sa.Table(
    "seller_profile",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("profile", Json, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)

# One row per gapless sequence (`invoice` and `credit_note` for entityIds, one per number series),
# taken with an upsert ... RETURNING inside the document's own transaction, so a failed create
# rolls its number back.
counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("value", sa.BigInteger(), nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("token_id", Id, primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer(), nullable=False),
    sa.Column("response", sa.Text(), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_idempotency_keys_created_at", "created_at"),
)

# Webhooks (invoicing/webhooks). An endpoint's signing secrets are stored encrypted (Fernet, keyed
# from INVOICING_SECRET_KEY): a copy of the database alone cannot sign an event.
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("id", Id, nullable=False, unique=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("description", sa.String(500), nullable=False),
    # A JSON list of event types, or ["*"]: matched with LIKE '%"type"%' when an event is written.
    sa.Column("events", sa.Text(), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("disabled_reason", sa.String(200), nullable=True),
    sa.Column("secret", sa.Text(), nullable=False),
    sa.Column("previous_secret", sa.Text(), nullable=True),
    sa.Column("previous_secret_until", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# An event as it was sent: the whole signed body, written in the transaction of the change it
# reports (on SQLite: moved here from webhook_outbox, below), and only when some endpoint listens
# for its type.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("id", Id, nullable=False, unique=True),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False, index=True),
)

# One event for one endpoint: what the dispatchers claim from. `next_attempt_at` is set while
# the delivery is pending (while an attempt runs: the end of its lease) and NULL once it is done,
# delivered (`delivered_at`) or given up.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column(
        "endpoint_id",
        Id,
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_id", Id, sa.ForeignKey("webhook_events.id"), nullable=False, index=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", Timestamp, nullable=True, index=True),
    sa.Column("first_attempt_at", Timestamp, nullable=True),
    sa.Column("last_attempt_at", Timestamp, nullable=True),
    sa.Column("last_status_code", sa.Integer(), nullable=True),
    sa.Column("last_error", sa.String(300), nullable=True),
    sa.Column("delivered_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint(
        "endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_id_event_id"
    ),
    sa.Index("ix_webhook_deliveries_endpoint_id_seq", "endpoint_id", "seq"),
)

# SQLite's outbox (invoicing/webhooks/events.py): an event as the transaction of its change writes
# it, with the endpoints listening then, and no index but its rowid; the delivery process moves it
# into webhook_events and webhook_deliveries. Writing those two tables' six indexes in the request
# took POST /invoices to 0.83x of its throughput without an endpoint (bench, SQLite).
webhook_outbox = sa.Table(
    "webhook_outbox",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("event_id", Id, nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("endpoint_ids", sa.Text(), nullable=False),  # a JSON list
    sa.Column("created_at", Timestamp, nullable=False),
)

# Admin console sign-ins (invoicing/console). The cookie holds the session's secret; only its
# SHA-256 is stored. A session ends at sign-out, at expiry, or when its token is revoked.
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("secret_hash", sa.String(64), primary_key=True),
    sa.Column("token_id", Id, sa.ForeignKey("tokens.id"), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False, index=True),
    sa.Column("ended_at", Timestamp, nullable=True),
)

# Issued documents (invoicing/documents/store.py): each invoice's and credit note's PDF and
# e-invoices, stored once with their SHA-256 and served as they are from then on. The service
# only ever inserts (ON CONFLICT DO NOTHING): a row is never updated or deleted.
issued_documents = sa.Table(
    "issued_documents",
    metadata,
    # The invoice's or the credit note's id (ids are unique across both).
    sa.Column("document_id", Id, primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("document_type", sa.String(12), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.CheckConstraint(
        "kind IN ('pdf', 'ubl', 'ubl-xrechnung', 'cii', 'cii-xrechnung')", name="kind"
    ),
    sa.CheckConstraint("document_type IN ('invoice', 'credit_note')", name="document_type"),
)
