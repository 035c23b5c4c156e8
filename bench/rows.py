"""The seeded rows: orders of 5 lines (2 x 19.99 each, tax rates 0, 8.25 and 19 %) and invoices."""

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from invoicing.invoices import repository as invoices_repository
from invoicing.orders import repository as orders_repository

_RATES = (Decimal("0"), Decimal("8.25"), Decimal("8.25"), Decimal("19"), Decimal("19"))
_QUANTITY, _PRICE = Decimal("2"), Decimal("19.99")
_AMOUNT = _QUANTITY * _PRICE
_SUBTOTAL = _AMOUNT * 5
_TAXES = [
    {"rate": "0", "taxable": "39.98", "amount": "0.00"},
    {"rate": "8.25", "taxable": "79.96", "amount": "6.60"},
    {"rate": "19", "taxable": "79.96", "amount": "15.19"},
]
_TAX_TOTAL = Decimal("21.79")
_TOTAL = _SUBTOTAL + _TAX_TOTAL
_TAXES_JSON = orjson.dumps(_TAXES).decode()
_CREATED = datetime(2025, 1, 1, tzinfo=UTC)
_CREATOR = ("0" * 24, "bench", "admin")

# The service's own insert column lists: the seeded rows follow its schema by construction.
ORDER_COLUMNS = orders_repository.INSERT_ORDER.columns
ORDER_LINE_COLUMNS = orders_repository.INSERT_LINE.columns
INVOICE_COLUMNS = invoices_repository.INSERT_INVOICE.columns
INVOICE_LINE_COLUMNS = invoices_repository.INSERT_LINE.columns


def make_id(kind: int, index: int) -> str:
    """Ids in the service's format (24 hex), increasing with the index so index inserts append."""
    return f"{0x67750000 + kind:08x}{index:016x}"


def invoice_id(index: int) -> str:
    return make_id(3, index)


def order(order_id: str, status: str) -> tuple[Any, ...]:
    return (
        order_id,
        "Acme GmbH",
        "billing@acme.example",
        "Main St 1, Berlin",
        "USD",
        _SUBTOTAL,
        _TAXES_JSON,
        _TAX_TOTAL,
        _TOTAL,
        status,
        "[]",
        *_CREATOR,
        _CREATED,
        _CREATED,
    )


def order_lines(kind: int, index: int, *, invoiced: bool) -> Iterator[tuple[Any, ...]]:
    order_id = make_id(kind, index)
    for position, rate in enumerate(_RATES):
        yield (
            make_id(kind + 1, index * 5 + position),
            order_id,
            position,
            f"Widget {position}",
            f"W-{position}",
            _QUANTITY,
            _PRICE,
            rate,
            _AMOUNT,
            _QUANTITY if invoiced else Decimal(0),
            _AMOUNT if invoiced else Decimal(0),
        )


def invoice(index: int) -> tuple[Any, ...]:
    return (
        invoice_id(index),
        index + 1,
        make_id(1, index),
        "USD",
        _SUBTOTAL,
        _TAXES_JSON,
        _TAX_TOTAL,
        _TOTAL,
        "[]",
        *_CREATOR,
        _CREATED,
        _CREATED,
    )


def invoice_lines(index: int) -> Iterator[tuple[Any, ...]]:
    for position, rate in enumerate(_RATES):
        yield (
            make_id(4, index * 5 + position),
            invoice_id(index),
            position,
            make_id(2, index * 5 + position),
            f"Widget {position}",
            f"W-{position}",
            _QUANTITY,
            _PRICE,
            rate,
            _AMOUNT,
        )
