"""A database the previous head (revision 0002, commit ebcd080) filled, upgraded to head (0003):
every old invoice becomes a complete one (number, dates, parties, tax categories, settlement),
and the service carries on from it: invoice numbers, cumulative rounding, credit notes, payments
and idempotent replays."""

import asyncio
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from alembic import command
from fastapi.testclient import TestClient

from invoicing.app import create_app
from invoicing.config import Settings, get_settings
from invoicing.core.ids import new_id
from invoicing.core.money import number
from invoicing.core.times import iso, now
from invoicing.db import create_database
from invoicing.db.migrate import alembic_config, upgrade
from invoicing.db.query import Insert, Query
from tests.conftest import Api
from tests.faults.conftest import fresh_postgres_database
from tests.test_migrations import schema_differences

SELLER_NAME = "Northwind Trading Co."
SELLER_ADDRESS = "1 Harbour Road\nPortsmouth PO1 1AA"
SECRET = "inv_a-secret-the-0002-code-issued-before-the-upgrade"
TOKEN_NAME = "Old admin"
KEY = "old-invoice-3"
TERMS = timedelta(days=30)

# What the 0002 code (ebcd080) wrote: its repositories' INSERTs, its invoice counter.
_NEXT_NUMBER = Query("UPDATE counters SET value = value + 1 WHERE name = 'invoice' RETURNING value")
_INSERT_TOKEN = Insert("tokens", ("id", "name", "type", "secret_hash", "created_at"))
_INSERT_ORDER = Insert(
    "orders",
    (
        "id", "customer_name", "customer_email", "customer_address", "currency", "subtotal",
        "taxes", "tax_total", "total", "status", "meta_fields", "created_by_id",
        "created_by_name", "created_by_type", "created_at", "updated_at",
    ),
)  # fmt: skip
_INSERT_ORDER_LINE = Insert(
    "order_lines",
    (
        "id", "order_id", "position", "name", "sku", "quantity", "unit_price", "tax_rate",
        "amount", "invoiced_quantity", "invoiced_amount",
    ),
)  # fmt: skip
_INSERT_INVOICE = Insert(
    "invoices",
    (
        "id", "number", "order_id", "currency", "subtotal", "taxes", "tax_total", "total",
        "meta_fields", "created_by_id", "created_by_name", "created_by_type", "created_at",
        "updated_at",
    ),
)  # fmt: skip
_INSERT_INVOICE_LINE = Insert(
    "invoice_lines",
    (
        "id", "invoice_id", "position", "order_line_id", "name", "sku", "quantity", "unit_price",
        "tax_rate", "amount",
    ),
)  # fmt: skip
_INSERT_MAIL = Insert("invoice_mails", ("invoice_id", "sent_to", "sent_at"))
_INSERT_KEY = Insert(
    "idempotency_keys",
    ("token_id", "key", "request_hash", "status_code", "response", "created_at"),
)

D = Decimal


def _taxes(*groups: tuple[str, str, str]) -> str:
    """0002's `serialize.dumps_taxes`: (rate, taxable, amount) per rate as decimal text."""
    return orjson.dumps([{"rate": r, "taxable": t, "amount": a} for r, t, a in groups]).decode()


def _category(rate: Any) -> str:
    return "S" if D(rate) > 0 else "Z"


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


@dataclass
class Old:
    """The rows the 0002 code left, by their 0002 column names."""

    token_id: str
    full: str  # the order invoiced whole by invoice 1
    split: str  # the order split into invoices 2 and 3, with something left to invoice
    orders: dict[str, dict[str, Any]]
    order_lines: dict[str, list[dict[str, Any]]]
    invoices: list[dict[str, Any]]
    invoice_lines: dict[str, list[dict[str, Any]]]
    mails: dict[str, list[dict[str, Any]]]
    key_request: dict[str, Any]
    key_response: bytes


def _old_rows() -> Old:
    token_id = new_id()

    def authored(at: datetime, updated_at: datetime | None = None) -> dict[str, Any]:
        return {
            "created_by_id": token_id,
            "created_by_name": TOKEN_NAME,
            "created_by_type": "admin",
            "created_at": at,
            "updated_at": updated_at or at,
        }

    def order_line(order_id: str, position: int, *values: Any) -> dict[str, Any]:
        columns = ("name", "sku", "quantity", "unit_price", "tax_rate", "amount")
        columns += ("invoiced_quantity", "invoiced_amount")
        line = {"id": new_id(), "order_id": order_id, "position": position}
        return line | dict(zip(columns, values, strict=True))

    def invoice_lines(invoice_id: str, *picked: tuple[dict[str, Any], D, D]) -> list[Any]:
        return [
            {
                "id": new_id(),
                "invoice_id": invoice_id,
                "position": position,
                "order_line_id": line["id"],
                "name": line["name"],
                "sku": line["sku"],
                "quantity": quantity,
                "unit_price": line["unit_price"],
                "tax_rate": line["tax_rate"],
                "amount": amount,
            }
            for position, (line, quantity, amount) in enumerate(picked)
        ]

    # Order 1: a free-text address and an email; invoiced whole just before midnight UTC, the
    # 0 % line's rate omitted (Decimal(0), "0") and mailed the next morning.
    full, full_at = new_id(), datetime(2026, 3, 31, 21, 30, 0, 125000, tzinfo=UTC)
    invoice_1_at = datetime(2026, 3, 31, 23, 59, 59, 999000, tzinfo=UTC)
    mailed_at = datetime(2026, 4, 1, 8, 0, 0, 250000, tzinfo=UTC)
    widget = order_line(
        full, 0, "Widget", "W-1", D(30), D("19.99"), D("8.25"), D("599.70"), D(30), D("599.70")
    )
    wrap = order_line(full, 1, "Gift wrap", None, D(1), D("4.5"), D(0), D("4.50"), D(1), D("4.50"))
    widget_taxes = _taxes(("0", "4.50", "0.00"), ("8.25", "599.70", "49.48"))
    full_order = {
        "id": full,
        "customer_name": "Acme GmbH",
        "customer_email": "billing@acme.example",
        "customer_address": "Acme GmbH\nMain St 1\n10115 Berlin",
        "currency": "USD",
        "subtotal": D("604.20"),
        "taxes": widget_taxes,
        "tax_total": D("49.48"),
        "total": D("653.68"),
        "status": "invoiced",
        "meta_fields": '[{"key":"po","value":"PO-4711"}]',
        **authored(full_at, invoice_1_at),
    }
    invoice_1 = {
        "id": new_id(),
        "number": 1,
        "order_id": full,
        "currency": "USD",
        "subtotal": D("604.20"),
        "taxes": widget_taxes,
        "tax_total": D("49.48"),
        "total": D("653.68"),
        "meta_fields": "[]",
        **authored(invoice_1_at, mailed_at),  # sending touched updatedAt
    }

    # Order 2: no address, no email; 3 x 10.00 at 8.25 % and 3 x 12.50 at 0 % (sent as `0.0`,
    # kept as "0.0"), invoiced one of each twice, each time rounding 0.825 of tax up to 0.83.
    split = new_id()
    split_at, invoice_2_at, invoice_3_at = (now() - timedelta(hours=h) for h in (3, 2, 1))
    hours = order_line(
        split, 0, "Consulting hour", "C-1", D(3), D(10), D("8.25"), D("30.00"), D(2), D("20.00")
    )
    book = order_line(
        split, 1, "Book", None, D(3), D("12.5"), D("0.0"), D("37.50"), D(2), D("25.00")
    )
    part_taxes = _taxes(("0.0", "12.50", "0.00"), ("8.25", "10.00", "0.83"))
    split_order = {
        "id": split,
        "customer_name": "Jane Doe",
        "customer_email": None,
        "customer_address": None,
        "currency": "USD",
        "subtotal": D("67.50"),
        "taxes": _taxes(("0.0", "37.50", "0.00"), ("8.25", "30.00", "2.48")),
        "tax_total": D("2.48"),
        "total": D("69.98"),
        "status": "partially_invoiced",
        "meta_fields": "[]",
        **authored(split_at, invoice_3_at),
    }
    parts = [
        {
            "id": new_id(),
            "number": seq,
            "order_id": split,
            "currency": "USD",
            "subtotal": D("22.50"),
            "taxes": part_taxes,
            "tax_total": D("0.83"),
            "total": D("23.33"),
            "meta_fields": meta_fields,
            **authored(at, touched),
        }
        for seq, at, touched, meta_fields in [
            (2, invoice_2_at, invoice_2_at + timedelta(minutes=10), "[]"),
            (3, invoice_3_at, invoice_3_at, '[{"key":"ref","value":"second half"}]'),
        ]
    ]
    invoices = [invoice_1, *parts]
    lines = {
        invoice_1["id"]: invoice_lines(
            invoice_1["id"], (widget, D(30), D("599.70")), (wrap, D(1), D("4.50"))
        ),
        **{
            part["id"]: invoice_lines(
                part["id"], (hours, D(1), D("10.00")), (book, D(1), D("12.50"))
            )
            for part in parts
        },
    }
    mails = {
        invoice_1["id"]: [{"sent_to": "billing@acme.example", "sent_at": mailed_at}],
        parts[0]["id"]: [
            {"sent_to": "jane@doe.example", "sent_at": invoice_2_at + timedelta(minutes=5)},
            {"sent_to": "ap@doe.example", "sent_at": invoice_2_at + timedelta(minutes=10)},
        ],
        parts[1]["id"]: [],
    }
    # Invoice 3 was made with an Idempotency-Key; 0002 kept its request's hash and its answer.
    request = {
        "orderId": split,
        "lineItems": [{"lineItemId": line["id"], "quantity": 1} for line in (hours, book)],
        "metaFields": [{"key": "ref", "value": "second half"}],
    }
    response = orjson.dumps(
        {
            "success": True,
            "data": _old_invoice_json(parts[1], lines[parts[1]["id"]]),
            "message": "Invoice created successfully",
        }
    )
    return Old(
        token_id=token_id,
        full=full,
        split=split,
        orders={full: full_order, split: split_order},
        order_lines={full: [widget, wrap], split: [hours, book]},
        invoices=invoices,
        invoice_lines=lines,
        mails=mails,
        key_request=request,
        key_response=response,
    )


def _old_invoice_json(row: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """An invoice as 0002's `invoices.service.to_json` showed it."""

    def money(value: Any) -> orjson.Fragment:
        return orjson.Fragment(number(value))

    return {
        "id": row["id"],
        "_id": row["id"],
        "order": row["order_id"],
        "entityId": str(row["number"]),
        "currency": row["currency"],
        "lineItems": [
            {
                "id": line["id"],
                "lineItemId": line["order_line_id"],
                "quantity": money(line["quantity"]),
                "name": line["name"],
                "sku": line["sku"],
                "unitPrice": money(line["unit_price"]),
                "taxRate": money(line["tax_rate"]),
                "amount": money(line["amount"]),
            }
            for line in lines
        ],
        "subtotal": money(row["subtotal"]),
        "taxes": [
            {key: money(value) for key, value in tax.items()} for tax in orjson.loads(row["taxes"])
        ],
        "taxTotal": money(row["tax_total"]),
        "total": money(row["total"]),
        "metaFields": orjson.loads(row["meta_fields"]),
        "mailsSent": [],
        "createdBy": {
            "id": row["created_by_id"],
            "name": row["created_by_name"],
            "type": row["created_by_type"],
        },
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }


def _request_hash(method: str, path: str, body: dict[str, Any]) -> str:
    """0002's `idempotency.fingerprint`."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


async def _fill_as_0002(url: str, old: Old) -> None:
    """Write `old` through the database layer as the 0002 code did: Decimals (TEXT on SQLite,
    NUMERIC on PostgreSQL), aware datetimes (ISO text with milliseconds on SQLite), JSON text."""
    database = create_database(url)
    await database.connect()
    try:
        async with database.write() as connection:
            secret_hash = hashlib.sha256(SECRET.encode()).hexdigest()
            created = old.invoices[0]["created_at"] - timedelta(days=30)
            await connection.execute(
                _INSERT_TOKEN.query, old.token_id, TOKEN_NAME, "admin", secret_hash, created
            )
            for order_id, order in old.orders.items():
                await connection.execute(_INSERT_ORDER.query, *_INSERT_ORDER.values(order))
                await connection.executemany(
                    _INSERT_ORDER_LINE.query,
                    [_INSERT_ORDER_LINE.values(line) for line in old.order_lines[order_id]],
                )
            for invoice in old.invoices:
                assert await connection.fetchval(_NEXT_NUMBER) == invoice["number"]
                await connection.execute(_INSERT_INVOICE.query, *_INSERT_INVOICE.values(invoice))
                await connection.executemany(
                    _INSERT_INVOICE_LINE.query,
                    [
                        _INSERT_INVOICE_LINE.values(line)
                        for line in old.invoice_lines[invoice["id"]]
                    ],
                )
                for mail in old.mails[invoice["id"]]:
                    await connection.execute(
                        _INSERT_MAIL.query, invoice["id"], mail["sent_to"], mail["sent_at"]
                    )
            key = {
                "token_id": old.token_id,
                "key": KEY,
                "request_hash": _request_hash("POST", "/invoices", old.key_request),
                "status_code": 201,
                "response": old.key_response.decode(),
                "created_at": old.invoices[-1]["created_at"],
            }
            await connection.execute(_INSERT_KEY.query, *_INSERT_KEY.values(key))
    finally:
        await database.close()


@dataclass
class Upgraded:
    url: str
    old: Old
    api: Api
    # Right after the upgrade, before any test changed them: the API's JSON by id.
    invoices: dict[str, dict[str, Any]]
    orders: dict[str, dict[str, Any]]
    seller: dict[str, Any]


def _data(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json(parse_float=Decimal)["data"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def upgraded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Upgraded]:
    """A database made at revision 0002, filled as the 0002 code would have, upgraded to head
    with the seller in the environment; and the app over it, called with the old token."""
    directory = tmp_path_factory.mktemp("upgrade")
    if request.param == "sqlite":
        url, drop = f"sqlite:///{directory / 'invoicing.db'}", None
    else:
        url, drop = fresh_postgres_database()
    try:
        command.upgrade(alembic_config(url), "0002")
        old = _old_rows()
        asyncio.run(_fill_as_0002(url, old))
        with pytest.MonkeyPatch.context() as env:
            env.setenv("INVOICING_SELLER_NAME", SELLER_NAME)
            env.setenv("INVOICING_SELLER_ADDRESS", SELLER_ADDRESS)
            env.delenv("INVOICING_TIMEZONE", raising=False)  # issue dates are UTC dates
            get_settings.cache_clear()
            try:
                upgrade(url)
            finally:
                get_settings.cache_clear()
        settings = Settings(
            database_url=url,
            outbox_dir=directory / "outbox",
            smtp_url=None,
            seller_name=SELLER_NAME,
            seller_address=SELLER_ADDRESS,
            timezone="UTC",
        )
        with TestClient(create_app(settings)) as client:
            api = Api(client, SECRET, old.token_id)
            yield Upgraded(
                url=url,
                old=old,
                api=api,
                invoices={i["id"]: _data(api.get(f"/invoices/{i['id']}")) for i in old.invoices},
                orders={o: _data(api.get(f"/orders/{o}")) for o in old.orders},
                seller=_data(api.get("/seller")),
            )
    finally:
        if drop is not None:
            drop()


def _customer(order: dict[str, Any]) -> dict[str, Any]:
    """The customer snapshot an old order's columns make: everything 0002 had not, null."""
    return {
        "name": order["customer_name"],
        "email": order["customer_email"],
        "address": order["customer_address"],
        "vatId": None,
        "legalRegistrationId": None,
        "buyerReference": None,
        "electronicAddress": None,
        "contact": None,
    }


def _groups(taxes: list[dict[str, Any]]) -> dict[tuple[str, Decimal], tuple[Decimal, Decimal]]:
    """A taxes breakdown by (category, rate): (taxable, amount)."""
    groups = {(t["category"], D(t["rate"])): (D(t["taxable"]), D(t["amount"])) for t in taxes}
    assert len(groups) == len(taxes), taxes
    return groups


def _old_groups(stored: str) -> dict[tuple[str, Decimal], tuple[Decimal, Decimal]]:
    return {
        (_category(t["rate"]), D(t["rate"])): (D(t["taxable"]), D(t["amount"]))
        for t in orjson.loads(stored)
    }


def _line_terms(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": line["name"],
        "sku": line["sku"],
        "quantity": line["quantity"],
        "unitCode": "C62",
        "unitPrice": line["unit_price"],
        "taxCategory": _category(line["tax_rate"]),
        "taxRate": line["tax_rate"],
        "amount": line["amount"],
    }


def test_migrated_schema_matches_the_tables(upgraded: Upgraded) -> None:
    assert schema_differences(upgraded.url) == []


def test_old_invoices_are_complete_invoices(upgraded: Upgraded) -> None:
    old = upgraded.old
    assert upgraded.seller["name"] == SELLER_NAME
    assert upgraded.seller["address"] == SELLER_ADDRESS
    for row in old.invoices:
        invoice = upgraded.invoices[row["id"]]
        issued = _day(row["created_at"])
        assert invoice["entityId"] == invoice["number"] == str(row["number"])
        assert (invoice["issueDate"], invoice["dueDate"], invoice["deliveryDate"]) == (
            issued,
            (date.fromisoformat(issued) + TERMS).isoformat(),
            issued,
        )
        assert invoice["seller"] == upgraded.seller
        assert invoice["customer"] == _customer(old.orders[row["order_id"]])
        assert invoice["customer"] == upgraded.orders[row["order_id"]]["customer"]
        assert _groups(invoice["taxes"]) == _old_groups(row["taxes"])
        assert [
            {key: line[key] for key in (*_line_terms(stored), "lineItemId")}
            for line, stored in zip(invoice["lineItems"], old.invoice_lines[row["id"]], strict=True)
        ] == [
            {**_line_terms(stored), "lineItemId": stored["order_line_id"]}
            for stored in old.invoice_lines[row["id"]]
        ]
        assert (invoice["subtotal"], invoice["taxTotal"], invoice["total"]) == (
            row["subtotal"],
            row["tax_total"],
            row["total"],
        )
        assert (invoice["paidTotal"], invoice["creditedTotal"], invoice["payments"]) == (0, 0, [])
        assert invoice["amountDue"] == invoice["total"]
        assert invoice["status"] == "open"
        assert invoice["mailsSent"] == [
            {"sentTo": mail["sent_to"], "sentAt": iso(mail["sent_at"])}
            for mail in old.mails[row["id"]]
        ]
        assert invoice["order"] == row["order_id"] and invoice["currency"] == "USD"
        assert invoice["metaFields"] == orjson.loads(row["meta_fields"])
        assert invoice["createdBy"] == {"id": old.token_id, "name": TOKEN_NAME, "type": "admin"}
        assert (invoice["createdAt"], invoice["updatedAt"]) == (
            iso(row["created_at"]),
            iso(row["updated_at"]),
        )


def test_orders_keep_their_customer_and_status(upgraded: Upgraded) -> None:
    for order_id, row in upgraded.old.orders.items():
        order = upgraded.orders[order_id]
        assert order["customer"] == _customer(row)
        assert order["status"] == row["status"]
        assert order["deliverTo"] is None
        assert _groups(order["taxes"]) == _old_groups(row["taxes"])
        assert (order["subtotal"], order["taxTotal"], order["total"]) == (
            row["subtotal"],
            row["tax_total"],
            row["total"],
        )
        lines = upgraded.old.order_lines[order_id]
        assert [
            {key: line[key] for key in (*_line_terms(stored), "id", "invoicedQuantity")}
            for line, stored in zip(order["lineItems"], lines, strict=True)
        ] == [
            {
                **_line_terms(stored),
                "id": stored["id"],
                "invoicedQuantity": stored["invoiced_quantity"],
            }
            for stored in lines
        ]


def test_a_new_invoice_continues_the_numbers_and_rounds_on_top_of_the_old(
    upgraded: Upgraded,
) -> None:
    api, old = upgraded.api, upgraded.old
    invoice = _data(api.post("/invoices", json={"orderId": old.split}), 201)
    assert invoice["entityId"] == invoice["number"] == str(len(old.invoices) + 1)
    hours, book = old.order_lines[old.split]
    assert [(li["lineItemId"], li["quantity"], li["amount"]) for li in invoice["lineItems"]] == [
        (hours["id"], 1, D("10.00")),
        (book["id"], 1, D("12.50")),
    ]
    # The order's tax at 8.25 % is 2.48 on 30.00; the old invoices billed 0.83 twice: 0.82 is
    # left (this invoice's own 10.00 alone would round to 0.83).
    assert _groups(invoice["taxes"]) == {
        ("S", D("8.25")): (D("10.00"), D("0.82")),
        ("Z", D(0)): (D("12.50"), D(0)),
    }
    assert invoice["total"] == D("23.32")
    today = datetime.now(UTC).date()
    assert invoice["issueDate"] == today.isoformat()
    assert invoice["dueDate"] == (today + TERMS).isoformat()
    assert invoice["seller"] == upgraded.seller
    assert invoice["customer"] == _customer(old.orders[old.split])
    assert invoice["createdBy"] == {"id": old.token_id, "name": TOKEN_NAME, "type": "admin"}

    order = _data(api.get(f"/orders/{old.split}"))
    assert order["status"] == "invoiced"
    listed = _data(api.get("/invoices", params={"orderId": old.split}))
    assert {i["id"] for i in listed} == {
        invoice["id"],
        *(row["id"] for row in old.invoices if row["order_id"] == old.split),
    }
    assert sum(i["total"] for i in listed) == order["total"] == D("69.98")
    billed: dict[tuple[str, Decimal], Decimal] = {}
    for each in listed:
        for key, (_, amount) in _groups(each["taxes"]).items():
            billed[key] = billed.get(key, D(0)) + amount
    assert billed == {key: amount for key, (_, amount) in _groups(order["taxes"]).items()}


def test_the_first_credit_note_is_cn_1(upgraded: Upgraded) -> None:
    api, old = upgraded.api, upgraded.old
    invoice_1 = old.invoices[0]
    note = _data(
        api.post(f"/invoices/{invoice_1['id']}/credit-notes", json={"reason": "Goods returned"}),
        201,
    )
    assert (note["number"], note["entityId"]) == ("CN-1", "1")
    assert (note["invoice"], note["invoiceNumber"]) == (invoice_1["id"], "1")
    assert note["total"] == invoice_1["total"]
    assert _groups(note["taxes"]) == _old_groups(invoice_1["taxes"])
    assert note["seller"] == upgraded.seller
    assert note["customer"] == _customer(old.orders[old.full])
    credited = _data(api.get(f"/invoices/{invoice_1['id']}"))
    assert (credited["creditedTotal"], credited["amountDue"], credited["status"]) == (
        invoice_1["total"],
        0,
        "credited",
    )


def test_a_payment_settles_part_of_an_old_invoice(upgraded: Upgraded) -> None:
    api, old = upgraded.api, upgraded.old
    invoice_2 = old.invoices[1]
    payment = _data(
        api.post(f"/invoices/{invoice_2['id']}/payments", json={"amount": "10.00"}), 201
    )
    assert (payment["invoice"], payment["amount"]) == (invoice_2["id"], 10)
    paid = _data(api.get(f"/invoices/{invoice_2['id']}"))
    assert (paid["paidTotal"], paid["amountDue"], paid["status"]) == (
        10,
        D("13.33"),
        "partially_paid",
    )
    assert [p["id"] for p in paid["payments"]] == [payment["id"]]


def test_the_old_idempotency_key_still_replays(upgraded: Upgraded) -> None:
    api, old = upgraded.api, upgraded.old
    counted = len(_data(api.get("/invoices", params={"limit": 100})))
    headers = {"Idempotency-Key": KEY}
    replay = api.post("/invoices", json=old.key_request, headers=headers)
    assert replay.status_code == 201, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.content == old.key_response
    other = {**old.key_request, "metaFields": []}
    assert api.post("/invoices", json=other, headers=headers).status_code == 409
    assert len(_data(api.get("/invoices", params={"limit": 100}))) == counted
