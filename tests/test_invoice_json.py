"""`invoices.service.to_json` reads stored rows by position (`repository.FIELDS`) and rows built in
Python by name: both must give the same JSON, and the queries must return the fields in order."""

from datetime import date
from typing import Any

import orjson

from invoicing.db.base import Database
from invoicing.invoices import repository
from invoicing.invoices.service import to_json
from tests.conftest import run
from tests.helpers import create_invoice, create_order, line

EXEMPT = {"taxCategory": "E", "exemptionReason": "Education", "exemptionReasonCode": "VATEX-EU-132"}


def _stored(client: Any, invoice_id: str) -> tuple[Any, list[Any]]:
    async def work(database: Database) -> tuple[Any, list[Any]]:
        async with database.read() as connection:
            row = await repository.get(connection, invoice_id)
            return row, await repository.lines(connection, invoice_id)

    result: tuple[Any, list[Any]] = run(client, work)
    return result


def test_stored_rows_come_in_field_order(api, client):
    order = create_order(api, lineItems=[line("Widget", 2, "19.90", 19)])
    invoice = create_invoice(api, order["id"])
    row, lines = _stored(client, invoice["id"])
    assert list(row.keys()) == list(repository.FIELDS)
    assert [list(stored.keys()) for stored in lines] == [list(repository.LINE_FIELDS)]


def test_a_row_by_position_and_by_name_give_the_same_json(api, client):
    order = create_order(
        api,
        lineItems=[line("Widget", 3, "19.90", 19), line("Course", "1.5", "100.00", 0, **EXEMPT)],
    )
    invoice = create_invoice(api, order["id"], metaFields=[{"key": "po", "value": "7"}])
    row, lines = _stored(client, invoice["id"])
    by_name = {name: row[name] for name in repository.FIELDS}
    lines_by_name = [{name: stored[name] for name in repository.LINE_FIELDS} for stored in lines]
    today = date(2030, 1, 1)  # overdue: the invoice is due in 30 days

    by_position_json = orjson.dumps(to_json(row, lines, [], [], today=today))
    assert by_position_json == orjson.dumps(to_json(by_name, lines_by_name, [], [], today=today))
    shown = orjson.loads(by_position_json)
    assert shown["overdue"] is True
    assert shown["lineItems"][1]["exemptionReasonCode"] == "VATEX-EU-132"
    assert "exemptionReason" not in shown["lineItems"][0]
    assert {key: shown[key] for key in ("lineItems", "total", "metaFields")} == {
        key: invoice[key] for key in ("lineItems", "total", "metaFields")
    }
