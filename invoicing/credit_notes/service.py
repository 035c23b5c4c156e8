"""Credit notes: the only correction of an issued invoice, never beyond what it billed."""

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from invoicing.auth.principal import Principal
from invoicing.config import Settings
from invoicing.core.errors import Conflict
from invoicing.core.ids import new_id
from invoicing.core.lookup import get_or_404
from invoicing.core.numbering import NumberFormat
from invoicing.core.picking import Lines, pick
from invoicing.core.times import iso, now, today
from invoicing.credit_notes import repository
from invoicing.credit_notes.billing import credit_part, left_to_credit
from invoicing.credit_notes.schemas import CreditNoteCreate
from invoicing.db import counters
from invoicing.db.base import Connection, Row
from invoicing.invoices import repository as invoice_rows
from invoicing.invoices import service as invoices
from invoicing.orders import service as orders
from invoicing.seller import service as seller
from invoicing.web import pagination, serialize
from invoicing.web.schemas import MetaField
from invoicing.webhooks import events

CREDIT_NOTE_NOT_FOUND = "Credit note not found"
FULLY_CREDITED = "Invoice is already fully credited"
INVOICE_LINES = Lines(
    "invoiceLineId", "line of this invoice", left_to_credit, "left to credit on invoice line"
)


async def create(
    connection: Connection,
    caller: Principal,
    invoice_id: str,
    payload: CreditNoteCreate,
    settings: Settings,
) -> dict[str, Any]:
    """Must run in a write transaction. The invoice, then its order, stay locked until it ends:
    concurrent credit notes of one invoice are computed one after the other."""
    invoice = await invoices.lock(connection, invoice_id)
    invoice_lines = await invoice_rows.lines(connection, invoice["id"])
    if all(left_to_credit(line) <= 0 for line in invoice_lines):
        raise Conflict(FULLY_CREDITED)
    if payload.lineItems is None:
        picked = [(li, left_to_credit(li)) for li in invoice_lines if left_to_credit(li) > 0]
    else:
        requested = [(item.invoiceLineId, item.quantity) for item in payload.lineItems]
        picked = pick(invoice_lines, requested, INVOICE_LINES)
    order, order_lines = await orders.lock_for_invoicing(connection, invoice["order_id"])

    currency: str = invoice["currency"]
    part = credit_part(
        invoice_lines,
        picked,
        serialize.loads_taxes(invoice["taxes"]),
        serialize.loads_taxes(invoice["credited_taxes"]),
        currency,
    )
    issued = today(settings.zone)
    created_at = now()
    totals = part.totals
    row = {
        "id": new_id(),
        "invoice_id": invoice["id"],
        "invoice_number": invoice["number"],
        "invoice_issue_date": invoice["issue_date"],
        "deliver_to": invoice["deliver_to"],
        "order_id": invoice["order_id"],
        "currency": currency,
        "issue_date": issued,
        "reason": payload.reason,
        "seller": seller.snapshot(order, settings).text,
        "customer": invoice["customer"],
        "subtotal": totals.subtotal,
        "taxes": serialize.dumps_taxes(totals.taxes, orders.exemptions(invoice_lines)),
        "tax_total": totals.tax_total,
        "total": totals.total,
        "meta_fields": serialize.dumps_meta_fields(payload.metaFields),
        **serialize.authored(caller, created_at),
    }
    lines = [
        {**li, "credit_note_id": row["id"], "position": position}
        for position, li in enumerate(part.lines)
    ]
    await invoice_rows.record_credited_lines(
        connection, [(line_id, *credited) for line_id, credited in part.invoice_lines.items()]
    )
    await invoices.record_settlement(
        connection,
        invoice,
        settings,
        credited=totals.total,
        credited_taxes=serialize.dumps_taxes(part.credited_taxes, {}),
        fully_credited=all(
            part.invoice_lines.get(line["id"], (Decimal(line["credited_quantity"]),))[0]
            == Decimal(line["quantity"])
            for line in invoice_lines
        ),
    )
    await _give_back(connection, order, order_lines, lines, totals.taxes, created_at)
    # The numbers last, as for invoices: their counters stay locked until the commit.
    row["entity_id"], row["number"] = await counters.document_numbers(
        connection, "credit_note", NumberFormat(settings.credit_note_number_format), issued
    )
    await repository.insert(connection, row, lines)
    created = to_json(row, lines, [])
    await events.emit(connection, "creditnote.created", created)
    return created


async def _give_back(
    connection: Connection,
    order: Row,
    order_lines: Sequence[Row],
    lines: Sequence[Row],
    taxes: Sequence[Any],
    at: Any,
) -> None:
    """The credited quantities and amounts go back to the order: they may be invoiced again."""
    by_id = {line["id"]: line for line in order_lines}
    billed: dict[str, tuple[Decimal, Decimal]] = {}
    for line in lines:
        order_line = by_id[line["order_line_id"]]
        quantity, amount = billed.get(
            order_line["id"],
            (Decimal(order_line["invoiced_quantity"]), Decimal(order_line["invoiced_amount"])),
        )
        billed[order_line["id"]] = (quantity - line["quantity"], amount - line["amount"])
    billed_taxes = orders.loads_billed_taxes(order["billed_taxes"])
    for tax in taxes:
        billed_taxes[tax.group] = billed_taxes[tax.group] - tax.amount
    await orders.record_billed(connection, order["id"], order_lines, billed, billed_taxes, at)


async def get(connection: Connection, credit_note_id: str) -> dict[str, Any]:
    row = await get_or_404(
        partial(repository.get, connection), credit_note_id, CREDIT_NOTE_NOT_FOUND
    )
    return await _whole(connection, row)


async def list_page(
    connection: Connection, limit: int, cursor: str | None, filters: repository.Filters
) -> bytes:
    async def fetch(before: int, count: int) -> list[Row]:
        return await repository.page(connection, before, count, filters)

    async def render(rows: list[Row]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        lines: dict[str, list[Row]] = defaultdict(list)
        for line in await repository.lines_of(connection, ids):
            lines[line["credit_note_id"]].append(line)
        mails: dict[str, list[Row]] = defaultdict(list)
        for mail in await repository.mails_of(connection, ids):
            mails[mail["credit_note_id"]].append(mail)
        return [to_json(row, lines[row["id"]], mails[row["id"]]) for row in rows]

    return await pagination.list_page(fetch, render, limit=limit, cursor=cursor)


async def update_meta_fields(
    connection: Connection, credit_note_id: str, meta_fields: list[MetaField]
) -> dict[str, Any]:
    dumped = serialize.dumps_meta_fields(meta_fields)
    row = await get_or_404(
        lambda id: repository.update_meta_fields(connection, id, dumped, now()),
        credit_note_id,
        CREDIT_NOTE_NOT_FOUND,
    )
    return await _whole(connection, row)


async def record_sent(
    connection: Connection, credit_note_id: str, recipient: str
) -> dict[str, Any]:
    row = await get_or_404(
        lambda id: repository.record_mail(connection, id, recipient, now()),
        credit_note_id,
        CREDIT_NOTE_NOT_FOUND,
    )
    sent = await _whole(connection, row)
    await events.emit(connection, "creditnote.sent", sent)
    return sent


async def _whole(connection: Connection, row: Row) -> dict[str, Any]:
    lines = await repository.lines(connection, row["id"])
    return to_json(row, lines, await repository.mails(connection, row["id"]))


def to_json(row: Row, lines: Sequence[Row], mails: Sequence[Row]) -> dict[str, Any]:
    money = serialize.money
    return {
        **serialize.identity(row),
        "invoice": row["invoice_id"],
        "invoiceNumber": row["invoice_number"],
        "invoiceIssueDate": serialize.day(row["invoice_issue_date"]),
        "order": row["order_id"],
        "number": row["number"],
        "entityId": str(row["entity_id"]),
        "currency": row["currency"],
        "issueDate": serialize.day(row["issue_date"]),
        "deliverTo": None if row["deliver_to"] is None else serialize.document(row["deliver_to"]),
        "reason": row["reason"],
        "lineItems": [
            {
                "id": line["id"],
                "invoiceLineId": line["invoice_line_id"],
                "lineItemId": line["order_line_id"],
                "name": line["name"],
                "sku": line["sku"],
                "quantity": money(line["quantity"]),
                **serialize.line_terms(line),
                "amount": money(line["amount"]),
            }
            for line in lines
        ],
        **serialize.totals(row),
        "seller": serialize.document(row["seller"]),
        "customer": serialize.document(row["customer"]),
        "metaFields": serialize.meta_fields(row["meta_fields"]),
        "mailsSent": [{"sentTo": m["sent_to"], "sentAt": iso(m["sent_at"])} for m in mails],
        **serialize.authorship(row),
    }
