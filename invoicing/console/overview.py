"""The overview: what is due, overdue and paid this month, and the latest invoices."""

from starlette.requests import Request
from starlette.responses import Response

from invoicing.console.common import notice_of, page_items
from invoicing.console.render import page
from invoicing.console.routing import Console, console_router
from invoicing.core.times import today
from invoicing.invoices import repository as invoice_rows
from invoicing.invoices import service as invoices
from invoicing.payments import repository as payment_rows
from invoicing.web import context

router = console_router()


@router.get("")
async def overview(request: Request, session: Console) -> Response:
    settings = request.app.state.settings
    on = today(settings.zone)
    async with context.database(request).read() as connection:
        due = await invoice_rows.due_totals(connection, on)
        paid = await payment_rows.paid_since(connection, on.replace(day=1))
        latest, _ = page_items(
            await invoices.list_page(connection, settings, 10, None, invoice_rows.Filters())
        )
    return page(
        request,
        "overview.html",
        session,
        due=due,
        paid=paid,
        latest=latest,
        month=on.strftime("%B %Y"),
        notice=notice_of(request),
    )
