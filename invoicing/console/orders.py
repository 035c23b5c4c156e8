"""Orders: find them; create one from a form; see one with what is left to invoice, and invoice
all or part of it."""

import re
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing.console import forms
from invoicing.console.common import (
    PAGE_SIZE,
    done,
    exact,
    first_submission,
    new_form_key,
    notice_of,
    page_items,
)
from invoicing.console.render import page
from invoicing.console.routing import Console, console_router
from invoicing.console.sessions import Session
from invoicing.core.errors import AppError, NotFound, ValidationFailed
from invoicing.core.ids import is_id
from invoicing.core.money import number
from invoicing.credit_notes import repository as credit_note_rows
from invoicing.invoices import service as invoices
from invoicing.invoices.repository import Filters
from invoicing.invoices.schemas import InvoiceCreate
from invoicing.orders import service as orders
from invoicing.orders.schemas import OrderCreate, OrderStatus
from invoicing.web import context
from invoicing.web.pagination import FIRST_PAGE

router = console_router()
STATUSES: tuple[str, ...] = get_args(OrderStatus)
ROWS = 5  # item rows on the new order form
LINE_FIELDS = ("name", "quantity", "unitPrice", "taxRate")
CUSTOMER_FIELDS = ("customer.name", "customer.email", "customer.address", "currency")
_LINE_ERROR = re.compile(r"lineItems\[(\d+)\](.*)")


@router.get("/orders")
async def order_list(
    request: Request,
    session: Console,
    status: OrderStatus | Literal[""] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: str | None = None,
) -> Response:
    """`q`: an order's id, else any text of its customer's."""
    text = q.strip()
    async with context.database(request).read() as connection:
        found, next_cursor = [], None
        if is_id(text) and cursor is None:
            try:
                found = [exact(await orders.get(connection, text))]
            except NotFound:
                found = []
        if not found:
            found, next_cursor = page_items(
                await orders.list_page(connection, PAGE_SIZE, cursor, status or None, text or None)
            )
    values = {"status": status, "q": text}
    return page(
        request,
        "orders.html",
        session,
        orders=found,
        next_cursor=next_cursor,
        values=values,
        statuses=STATUSES,
        filtered=bool(status or text),
        notice=notice_of(request),
    )


def _new_form(
    request: Request,
    session: Session,
    *,
    errors: dict[str, str] | None = None,
    form: forms.Form | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "order_new.html",
        session,
        status=status,
        rows=range(ROWS),
        default_currency=request.app.state.settings.default_currency,
        errors=errors or {},
        form=form,
        key=new_form_key(),
    )


@router.get("/orders/new")
async def new_order(request: Request, session: Console) -> Response:
    return _new_form(request, session)


@router.post("/orders")
async def create_order(request: Request, session: Console) -> Response:
    form = await forms.read(request, session.csrf)
    settings = request.app.state.settings
    rows = [row for row in range(ROWS) if any(form[f"lineItems[{row}].{f}"] for f in LINE_FIELDS)]
    try:
        payload = forms.validate(OrderCreate, _order_body(form, rows))
        async with context.database(request).write() as connection:
            order = None
            if await first_submission(connection, session, form):
                order = await orders.create(
                    connection, session.principal, payload, settings.default_currency
                )
    except AppError as error:
        errors = _order_errors(error, rows)
        return _new_form(request, session, errors=errors, form=form, status=error.status)
    if order is None:
        return done("/admin/orders", "Already submitted")
    return done(f"/admin/orders/{order['id']}", "Order created")


def _order_body(form: forms.Form, rows: list[int]) -> dict[str, Any]:
    """The API's order body from the form: blank fields left out, so the API says what is
    required."""
    customer = {
        name: value
        for name in ("name", "email", "address")
        if (value := form.optional(f"customer.{name}")) is not None
    }
    lines = []
    for row in rows:
        line: dict[str, Any] = {}
        for name in LINE_FIELDS:
            value = form[f"lineItems[{row}].{name}"]
            if value:
                line[name] = value if name == "name" else forms.number(value)
        lines.append(line)
    body: dict[str, Any] = {"customer": customer, "lineItems": lines}
    if currency := form.optional("currency"):
        body["currency"] = currency.upper()
    return body


def _order_errors(error: AppError, rows: list[int]) -> dict[str, str]:
    """The API's errors by the form's field names: the API's `lineItems[0]` is the form's first
    non-blank row, and an error about a line as a whole shows at its name. What no field shows
    goes above the form, with its field's name."""
    found: dict[str, str] = {}
    elsewhere: list[str] = []
    for field, message in forms.errors_of(error).items():
        if match := _LINE_ERROR.fullmatch(field):
            row = rows[int(match[1])] if int(match[1]) < len(rows) else 0
            inner = match[2].removeprefix(".")
            field = f"lineItems[{row}].{inner if inner in LINE_FIELDS else 'name'}"
        elif field not in (*CUSTOMER_FIELDS, "lineItems", ""):
            elsewhere.append(f"{field} {message}")
            continue
        found[field] = message
    if elsewhere:
        found[""] = found.get("") or "Validation error: " + "; ".join(elsewhere)
    return found


async def _detail(
    request: Request,
    session: Session,
    order_id: str,
    *,
    errors: dict[str, str] | None = None,
    form: forms.Form | None = None,
    status: int = 200,
) -> Response:
    settings = request.app.state.settings
    async with context.database(request).read() as connection:
        order = exact(await orders.get(connection, order_id))
        its_invoices, _ = page_items(
            await invoices.list_page(connection, settings, 100, None, Filters(order_id=order["id"]))
        )
        notes = await credit_note_rows.page(
            connection, FIRST_PAGE, 100, credit_note_rows.Filters(order_id=order["id"])
        )
    for line in order["lineItems"]:
        left = Decimal(str(line["quantity"])) - Decimal(str(line["invoicedQuantity"]))
        line["left"] = number(left) if left > 0 else ""
    return page(
        request,
        "order.html",
        session,
        status=status,
        order=order,
        invoices=its_invoices,
        credit_notes=notes,
        anything_left=any(line["left"] for line in order["lineItems"]),
        errors=errors or {},
        form=form,
        key=new_form_key(),
        notice=notice_of(request),
    )


@router.get("/orders/{order_id}")
async def order_detail(request: Request, session: Console, order_id: str) -> Response:
    return await _detail(request, session, order_id)


@router.post("/orders/{order_id}/invoice")
async def invoice_order(request: Request, session: Console, order_id: str) -> Response:
    """The quantities given (0 or blank: none of that line); a form without any quantity field
    invoices everything left, as the API does without lineItems."""
    form = await forms.read(request, session.csrf)
    settings = request.app.state.settings
    asked = [
        (name.removeprefix("invoice-"), forms.number(value))
        for name, value in form.pairs
        if name.startswith("invoice-")
    ]
    lines = [(line_id, quantity) for line_id, quantity in asked if quantity not in ("", 0)]
    body: dict[str, Any] = {"orderId": order_id}
    try:
        if asked:
            if not lines:
                raise ValidationFailed.on("lineItems", "give a quantity to invoice on a line")
            body["lineItems"] = [{"lineItemId": i, "quantity": q} for i, q in lines]
        payload = forms.validate(InvoiceCreate, body)
        async with context.database(request).write() as connection:
            invoice = None
            if await first_submission(connection, session, form):
                invoice = await invoices.create(connection, session.principal, payload, settings)
    except AppError as error:
        errors = _invoice_errors(error, [line_id for line_id, _ in lines])
        return await _detail(
            request, session, order_id, errors=errors, form=form, status=error.status
        )
    if invoice is None:
        return done(f"/admin/orders/{order_id}", "Already submitted")
    return done(f"/admin/invoices/{invoice['id']}", "Invoice created")


def _invoice_errors(error: AppError, line_ids: list[str]) -> dict[str, str]:
    """The API's `lineItems[i]...` errors next to the quantity of the line it sent as the i-th;
    the others (`lineItems`, `orderId`) under the form, named `invoice.<field>`."""
    found: dict[str, str] = {}
    for field, message in forms.errors_of(error).items():
        match = _LINE_ERROR.fullmatch(field)
        if match and int(match[1]) < len(line_ids):
            found[f"invoice-{line_ids[int(match[1])]}"] = message
        else:
            found[f"invoice.{field}" if field else ""] = message
    return found
