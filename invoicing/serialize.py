"""Stored rows to the contract's JSON shapes (money as exact-to-the-digit JSON numbers)."""

from decimal import Decimal
from typing import Any

import orjson

from invoicing.db.database import Row
from invoicing.money import TaxLine, number
from invoicing.times import iso


def dumps_taxes(taxes: tuple[TaxLine, ...]) -> str:
    return orjson.dumps(
        [{"rate": str(t.rate), "taxable": str(t.taxable), "amount": str(t.amount)} for t in taxes]
    ).decode()


def taxes(stored: str) -> list[dict[str, Any]]:
    return [
        {
            "rate": number(Decimal(t["rate"])),
            "taxable": number(Decimal(t["taxable"])),
            "amount": number(Decimal(t["amount"])),
        }
        for t in orjson.loads(stored)
    ]


def meta_fields(stored: str) -> list[dict[str, str]]:
    fields: list[dict[str, str]] = orjson.loads(stored)
    return fields


def dumps_meta_fields(fields: list[Any]) -> str:
    return orjson.dumps([{"key": f.key, "value": f.value} for f in fields]).decode()


def creator(row: Row) -> dict[str, str]:
    return {
        "id": row["created_by_id"],
        "name": row["created_by_name"],
        "type": row["created_by_type"],
    }


def money(value: Any) -> int | float:
    return number(Decimal(value))


def timestamps(row: Row) -> tuple[str, str]:
    return iso(row["created_at"]), iso(row["updated_at"])
