from typing import Any

from invoicing.core.times import iso
from invoicing.db.base import Row
from invoicing.web import serialize


def to_json(row: Row) -> dict[str, Any]:
    return {
        **serialize.identity(row),
        "invoice": row["invoice_id"],
        "amount": serialize.money(row["amount"]),
        "currency": row["currency"],
        "paidAt": serialize.day(row["paid_at"]),
        "method": row["method"],
        "reference": row["reference"],
        "createdBy": serialize.creator(row),
        "createdAt": iso(row["created_at"]),
    }
