"""The reference's queries and its invoice arithmetic: what `bench/reference.py` serves."""

import os
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson

ID = re.compile(r"[0-9a-f]{24}")
CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)

TOKEN = "SELECT id, name, type FROM tokens WHERE secret_hash = $1 AND revoked_at IS NULL"
INVOICE = (
    "SELECT seq, id, entity_id, order_id, currency, subtotal, taxes, tax_total, total, "
    "meta_fields, created_by_id, created_by_name, created_by_type, created_at, updated_at "
    "FROM invoices WHERE id = $1"
)
LINES = (
    "SELECT id, invoice_id, order_line_id, name, sku, quantity, unit_price, tax_rate, amount "
    "FROM invoice_lines WHERE invoice_id = $1 ORDER BY position"
)
MAILS = "SELECT invoice_id, sent_to, sent_at FROM invoice_mails WHERE invoice_id = $1 ORDER BY seq"
ORDER = "SELECT id, currency, customer FROM orders WHERE id = $1 FOR UPDATE"
ORDER_LINES = (
    "SELECT id, name, sku, quantity, unit_code, unit_price, tax_category, tax_rate, amount, "
    "invoiced_quantity, invoiced_amount FROM order_lines WHERE order_id = $1 ORDER BY position"
)
NEXT_NUMBER = "UPDATE counters SET value = value + 1 WHERE name = 'invoice' RETURNING value"
# Since schema 0003 an invoice row also needs its number text, dates, seller and customer copies
# and its settlement columns, and a line its unit, tax category and credited figures: the
# reference fills them in the same INSERTs (a fixed seller; numbers `REF-<n>`, which the service's
# never are), and skips the rest of the lifecycle (number series, seller lookup, billed taxes).
INSERT_INVOICE = (
    "INSERT INTO invoices (id, entity_id, number, order_id, currency, issue_date, due_date, "
    "delivery_date, seller, customer, subtotal, taxes, tax_total, total, paid_total, "
    "credited_total, credited_taxes, amount_due, status, meta_fields, created_by_id, "
    "created_by_name, created_by_type, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, "
    "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
)
INSERT_LINE = (
    "INSERT INTO invoice_lines (id, invoice_id, position, order_line_id, name, sku, quantity, "
    "unit_code, unit_price, tax_category, tax_rate, amount, credited_quantity, credited_amount) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
)
SELLER = orjson.dumps({"name": "Reference", "address": None, "paymentTermsDays": 30}).decode()
TERMS = timedelta(days=30)
UPDATE_LINE = "UPDATE order_lines SET invoiced_quantity = $2, invoiced_amount = $3 WHERE id = $1"
UPDATE_ORDER = "UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1"


def sqlite(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql).replace(" FOR UPDATE", "")


def error(status: int, message: str) -> tuple[int, bytes]:
    return status, orjson.dumps({"success": False, "message": message})


def num(value: Any) -> int | float:
    d = value if isinstance(value, Decimal) else Decimal(value)
    return int(d) if d == d.to_integral_value() else float(d)


def iso(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def new_id() -> str:
    return f"{int(time.time()):08x}{os.urandom(8).hex()}"


def invoice_json(
    row: Sequence[Any], lines: Sequence[Sequence[Any]], mails: Sequence[Sequence[Any]]
) -> dict[str, Any]:
    return {
        "id": row[1],
        "_id": row[1],
        "order": row[3],
        "entityId": str(row[2]),
        "currency": row[4],
        "lineItems": [
            {
                "id": li[0],
                "lineItemId": li[2],
                "quantity": num(li[5]),
                "name": li[3],
                "sku": li[4],
                "unitPrice": num(li[6]),
                "taxRate": num(li[7]),
                "amount": num(li[8]),
            }
            for li in lines
        ],
        "subtotal": num(row[5]),
        "taxes": [
            {"rate": num(t["rate"]), "taxable": num(t["taxable"]), "amount": num(t["amount"])}
            for t in orjson.loads(row[6])
        ],
        "taxTotal": num(row[7]),
        "total": num(row[8]),
        "createdBy": {"id": row[10], "name": row[11], "type": row[12]},
        "metaFields": orjson.loads(row[9]),
        "mailsSent": [{"sentTo": m[1], "sentAt": iso(m[2])} for m in mails],
        "createdAt": iso(row[13]),
        "updatedAt": iso(row[14]),
    }


class Invoice:
    """An invoice for all that is left on an order: its row, lines, and order line updates."""

    def __init__(
        self,
        order_id: str,
        currency: str,
        customer: str,
        order_lines: Sequence[Sequence[Any]],
        caller: Sequence[Any],
    ) -> None:
        at = datetime.now(UTC)
        self.id, self.at = new_id(), at.replace(microsecond=at.microsecond // 1000 * 1000)
        self.lines: list[tuple[Any, ...]] = []
        self.updates: list[tuple[Any, ...]] = []
        taxable: dict[tuple[str, Decimal], Decimal] = {}
        for (
            line_id, name, sku, quantity, unit, price, category, rate, amount, done_q, done_a,
        ) in order_lines:  # fmt: skip
            quantity, amount, rate = Decimal(quantity), Decimal(amount), Decimal(rate)
            left = quantity - Decimal(done_q)
            if left <= 0:
                continue
            net = amount - Decimal(done_a)
            self.lines.append(
                (
                    new_id(),
                    self.id,
                    len(self.lines),
                    line_id,
                    name,
                    sku,
                    left,
                    unit,
                    Decimal(price),
                    category,
                    rate,
                    net,
                    ZERO,
                    ZERO,
                )
            )
            self.updates.append((line_id, quantity, amount))
            taxable[category, rate] = taxable.get((category, rate), ZERO) + net
        self.taxes = [
            (category, rate, base, (base * rate / HUNDRED).quantize(CENT, ROUND_HALF_UP))
            for (category, rate), base in sorted(taxable.items())
        ]
        subtotal = sum((line[11] for line in self.lines), ZERO)
        tax_total = sum((tax[3] for tax in self.taxes), ZERO)
        taxes = orjson.dumps(
            [
                {"category": c, "rate": str(r), "taxable": str(b), "amount": str(a)}
                for c, r, b, a in self.taxes
            ]
        )
        issued = self.at.date()
        total = subtotal + tax_total
        self.row: tuple[Any, ...] = (
            self.id, 0, "", order_id, currency, issued, issued + TERMS, issued, SELLER, customer,
            subtotal, taxes.decode(), tax_total, total, ZERO, ZERO, "[]", total, "open", "[]",
            *caller, self.at, self.at,
        )  # fmt: skip

    def number(self, number: int) -> None:
        self.row = (self.row[0], number, f"REF-{number}", *self.row[3:])

    def body(self) -> bytes:
        lines = [
            (li[0], li[1], li[3], li[4], li[5], li[6], li[8], li[10], li[11]) for li in self.lines
        ]
        row = self.row
        # As GET reads it: seq, id, entity_id, order_id, currency, subtotal, taxes, tax_total,
        # total, meta_fields, created_by_*, created_at, updated_at.
        data = invoice_json((0, row[0], row[1], *row[3:5], *row[10:14], *row[19:]), lines, [])
        return orjson.dumps(
            {"success": True, "data": data, "message": "Invoice created successfully"}
        )
