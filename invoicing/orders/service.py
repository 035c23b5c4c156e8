"""Orders: what a customer bought, with exact per-line nets and per-rate taxes."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

import orjson
from pydantic import BaseModel

from invoicing.auth.principal import Principal
from invoicing.core.errors import ValidationFailed
from invoicing.core.ids import new_id
from invoicing.core.lookup import get_or_404
from invoicing.core.money import MAX_AMOUNT, ZERO, TaxGroup, line_amount, totals
from invoicing.core.times import now
from invoicing.db.base import Connection, Row
from invoicing.orders import repository, taxes
from invoicing.orders.schemas import OrderCreate
from invoicing.web import pagination, serialize
from invoicing.webhooks import events

ORDER_NOT_FOUND = "Order not found"


async def create(
    connection: Connection, caller: Principal, payload: OrderCreate, default_currency: str
) -> dict[str, Any]:
    currency = payload.currency or default_currency
    exemptions = taxes.check(payload.lineItems)
    categories = [taxes.category(li) for li in payload.lineItems]
    amounts = [line_amount(li.quantity, li.unitPrice, currency) for li in payload.lineItems]
    order_totals = totals(
        zip(
            amounts,
            ((kind, li.taxRate) for kind, li in zip(categories, payload.lineItems, strict=True)),
            strict=True,
        ),
        currency,
    )
    if order_totals.total >= MAX_AMOUNT:
        raise ValidationFailed(
            f"lineItems: the order total must be below {MAX_AMOUNT:f}",
            errors=[{"field": "lineItems", "message": f"total must be below {MAX_AMOUNT:f}"}],
        )
    order_id, created_at = new_id(), now()
    customer = payload.customer
    order = {
        "id": order_id,
        "customer_name": customer.name,
        "customer_email": customer.email,
        "customer": orjson.dumps(customer.model_dump(mode="json")).decode(),
        "deliver_to": _optional_json(payload.deliverTo),
        "currency": currency,
        "subtotal": order_totals.subtotal,
        "taxes": serialize.dumps_taxes(order_totals.taxes, exemptions),
        "tax_total": order_totals.tax_total,
        "total": order_totals.total,
        "billed_taxes": "[]",
        "status": "open",
        "meta_fields": serialize.dumps_meta_fields(payload.metaFields),
        **serialize.authored(caller, created_at),
    }
    lines = [
        {
            "id": new_id(),
            "order_id": order_id,
            "position": position,
            "name": li.name,
            "sku": li.sku,
            "quantity": li.quantity,
            "unit_code": li.unitCode,
            "unit_price": li.unitPrice,
            "tax_category": kind,
            "tax_rate": li.taxRate,
            "exemption_reason": li.exemptionReason,
            "exemption_reason_code": li.exemptionReasonCode,
            "amount": amount,
            "invoiced_quantity": ZERO,
            "invoiced_amount": ZERO,
        }
        for position, (li, kind, amount) in enumerate(
            zip(payload.lineItems, categories, amounts, strict=True)
        )
    ]
    await repository.insert(connection, order, lines)
    created = to_json(order, lines)
    await events.emit(connection, "order.created", created)
    return created


async def get(connection: Connection, order_id: str) -> dict[str, Any]:
    row = await get_or_404(partial(repository.get, connection), order_id, ORDER_NOT_FOUND)
    return to_json(row, await repository.lines(connection, order_id))


async def list_page(
    connection: Connection,
    limit: int,
    cursor: str | None,
    status: str | None,
    customer: str | None = None,
) -> bytes:
    async def fetch(before: int, count: int) -> list[Row]:
        return await repository.page(connection, before, count, status, customer)

    async def render(rows: list[Row]) -> list[dict[str, Any]]:
        lines_by_order: dict[str, list[Row]] = defaultdict(list)
        for line in await repository.lines_of(connection, [row["id"] for row in rows]):
            lines_by_order[line["order_id"]].append(line)
        return [to_json(row, lines_by_order[row["id"]]) for row in rows]

    return await pagination.list_page(fetch, render, limit=limit, cursor=cursor)


async def lock_for_invoicing(
    connection: Connection, order_id: str, field: str | None = None
) -> tuple[Row, list[Row]]:
    """The order and its lines, locked until the transaction ends (so that two invoices cannot
    both take what is left); 404 when there is no such order (`field`: the body's name for it).
    The order's row also holds the seller profile to copy (`seller.service.snapshot`)."""
    order = await get_or_404(
        partial(repository.lock_with_seller, connection), order_id, ORDER_NOT_FOUND, field
    )
    return order, await repository.lines(connection, order["id"])


async def record_billed(
    connection: Connection,
    order_id: str,
    lines: Sequence[Row],
    billed: dict[str, tuple[Decimal, Decimal]],
    billed_taxes: dict[TaxGroup, Decimal],
    at: datetime,
) -> None:
    """Store the order lines' new net invoiced (quantity, amount) (`billed`, by line id; an
    invoice adds to them, a credit note takes back), the order's net tax per group, and the
    status that follows."""
    invoiced = [billed.get(line["id"], (Decimal(line["invoiced_quantity"]),))[0] for line in lines]
    if all(
        quantity == Decimal(line["quantity"])
        for quantity, line in zip(invoiced, lines, strict=True)
    ):
        status = "invoiced"
    elif any(invoiced):
        status = "partially_invoiced"
    else:
        status = "open"
    await repository.record_billed(
        connection,
        [(line_id, quantity, amount) for line_id, (quantity, amount) in billed.items()],
        order_id,
        dumps_billed_taxes(billed_taxes),
        status,
        at,
    )


def loads_billed_taxes(stored: str) -> dict[TaxGroup, Decimal]:
    billed: dict[TaxGroup, Decimal] = {}
    for t in orjson.loads(stored):
        group = (t["category"], Decimal(t["rate"]))  # "19" and "19.0" are one group
        billed[group] = billed.get(group, ZERO) + Decimal(t["amount"])
    return billed


def dumps_billed_taxes(billed: dict[TaxGroup, Decimal]) -> str:
    return orjson.dumps(
        [
            {"category": category, "rate": str(rate), "amount": str(amount)}
            for (category, rate), amount in sorted(billed.items())
        ]
    ).decode()


def _optional_json(model: BaseModel | None) -> str | None:
    return None if model is None else orjson.dumps(model.model_dump(mode="json")).decode()


def to_json(row: Row, lines: Sequence[Row]) -> dict[str, Any]:
    money = serialize.money
    return {
        **serialize.identity(row),
        "customer": serialize.document(row["customer"]),
        "deliverTo": None if row["deliver_to"] is None else serialize.document(row["deliver_to"]),
        "currency": row["currency"],
        "lineItems": [
            {
                "id": line["id"],
                "name": line["name"],
                "sku": line["sku"],
                "quantity": money(line["quantity"]),
                **serialize.line_terms(line),
                "amount": money(line["amount"]),
                "invoicedQuantity": money(line["invoiced_quantity"]),
            }
            for line in lines
        ],
        **serialize.totals(row),
        "status": row["status"],
        "metaFields": serialize.meta_fields(row["meta_fields"]),
        **serialize.authorship(row),
    }


def left_to_invoice(line: Row) -> Decimal:
    """The quantity of an order line not invoiced yet (net of credit notes)."""
    return Decimal(line["quantity"]) - Decimal(line["invoiced_quantity"])


def exemptions(lines: Sequence[Row]) -> serialize.Exemptions:
    """Each exempt category's (reason, code), as the order's lines state it."""
    return {
        line["tax_category"]: (line["exemption_reason"], line["exemption_reason_code"])
        for line in lines
        if line["tax_category"] in taxes.NEEDS_REASON
    }
