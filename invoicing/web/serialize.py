"""Stored rows to the contract's JSON shapes (money as exact-to-the-digit JSON numbers)."""

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
from orjson import Fragment

from invoicing.auth.principal import Principal
from invoicing.core.money import TaxLine, number
from invoicing.core.times import iso
from invoicing.db.base import Row

_DIGITS = "0123456789"


def dumps_taxes(taxes: tuple[TaxLine, ...]) -> str:
    return orjson.dumps(
        [{"rate": str(t.rate), "taxable": str(t.taxable), "amount": str(t.amount)} for t in taxes]
    ).decode()


def loads_taxes(stored: str) -> tuple[TaxLine, ...]:
    return tuple(
        TaxLine(Decimal(t["rate"]), Decimal(t["taxable"]), Decimal(t["amount"]))
        for t in orjson.loads(stored)
    )


@lru_cache(maxsize=4096)
def taxes(stored: str) -> list[dict[str, Any]]:
    """The stored breakdown as JSON (cached: few distinct breakdowns repeat across invoices;
    callers only serialize the result, never change it)."""
    return [
        {"rate": money(t["rate"]), "taxable": money(t["taxable"]), "amount": money(t["amount"])}
        for t in orjson.loads(stored)
    ]


def meta_fields(stored: str) -> list[dict[str, str]]:
    fields: list[dict[str, str]] = orjson.loads(stored)
    return fields


def dumps_meta_fields(fields: list[Any]) -> str:
    return orjson.dumps([{"key": f.key, "value": f.value} for f in fields]).decode()


def authored(caller: Principal, at: datetime) -> dict[str, Any]:
    """The creator and timestamp columns of a new row."""
    return {
        "created_by_id": caller.id,
        "created_by_name": caller.name,
        "created_by_type": caller.type,
        "created_at": at,
        "updated_at": at,
    }


def identity(row: Row) -> dict[str, str]:
    """A resource's id, under both names the contract uses (`id` and `_id`)."""
    return {"id": row["id"], "_id": row["id"]}


def authorship(row: Row) -> dict[str, Any]:
    """Who created a resource and when, from the columns `authored` wrote."""
    return {
        "createdBy": {
            "id": row["created_by_id"],
            "name": row["created_by_name"],
            "type": row["created_by_type"],
        },
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }


def money(value: str | Decimal) -> Fragment:
    """A stored decimal (text on SQLite and from asyncpg, or the Decimal of a row just written)
    as the JSON number it is, digit for digit: its canonical text (`money.number`: `30`, `19.99`,
    no exponent, never `-0`) spliced into the JSON by orjson, never through a binary float.

    Hot (about 25 calls per invoice): `number`'s common case, plain non-negative text, is inlined
    here; other forms go through `number`. Uncached: an lru_cache only pays back when most values
    repeat, and totals rarely do."""
    text = value if value.__class__ is str else str(value)
    if text[0] in _DIGITS and "E" not in text:
        return Fragment(text.rstrip("0").rstrip(".") if "." in text else text)
    return Fragment(number(text))


def totals(row: Row) -> dict[str, Any]:
    """A document's totals: `subtotal`, the `taxes` breakdown, `taxTotal` and `total`."""
    return {
        "subtotal": money(row["subtotal"]),
        "taxes": taxes(row["taxes"]),
        "taxTotal": money(row["tax_total"]),
        "total": money(row["total"]),
    }
