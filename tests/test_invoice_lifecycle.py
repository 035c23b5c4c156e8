"""The invoice's lifecycle fields: `number` (formats and series), issueDate, dueDate,
deliveryDate, paymentTermsDays, the seller and customer copies, the list's filters, and the
time zone every "today" is in."""

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from invoicing.app import create_app
from invoicing.config import Settings
from invoicing.db.query import Query
from tests.conftest import Api, run
from tests.helpers import WIDGET, create_invoice, create_order, line

GONE = "693738682fa9114d9af87d29"
# 26 hours apart: their calendar dates always differ, by one day or two.
WEST, EAST = "Etc/GMT+12", "Etc/GMT-14"


def utc_today() -> date:
    return datetime.now(UTC).date()


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


@contextlib.contextmanager
def app(api: Api, database_url: str, outbox: Path, **settings: object) -> Iterator[Api]:
    """Another app over the same database, with other settings, and the same token."""
    config = Settings(database_url=database_url, outbox_dir=outbox, smtp_url=None, **settings)
    with TestClient(create_app(config), raise_server_exceptions=False) as other:
        yield Api(other, api.secret, api.token_id)


def invoice_for(api, **body) -> dict:
    return create_invoice(api, create_order(api)["id"], **body)


def refused(api, **body):
    return api.post("/invoices", json={"orderId": create_order(api)["id"], **body})


def get(api, path: str, **params) -> dict:
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    data: dict = response.json()["data"]
    return data


def ids(api, **params) -> list[str]:
    response = api.get("/invoices", params=params)
    assert response.status_code == 200, response.text
    return [invoice["id"] for invoice in response.json()["data"]]


def set_due_date(client, invoice_id: str, due: date) -> None:
    async def work(database):
        async with database.write() as connection:
            await connection.execute(
                Query("UPDATE invoices SET due_date = $2 WHERE id = $1"), invoice_id, due
            )

    run(client, work)


def fixed_day(monkeypatch, day: date) -> None:
    monkeypatch.setattr("invoicing.invoices.service.today", lambda zone: day)


# Numbers


def test_the_default_number_is_the_entity_id(api):
    invoices = [invoice_for(api) for _ in range(3)]
    assert [(i["entityId"], i["number"]) for i in invoices] == [("1", "1"), ("2", "2"), ("3", "3")]
    assert get(api, f"/invoices/{invoices[1]['id']}")["number"] == "2"


def test_a_format_with_year_and_padding(api, database_url, outbox):
    year = utc_today().year
    with app(api, database_url, outbox, invoice_number_format="INV-{year}-{seq:05}") as other:
        made = [invoice_for(other) for _ in range(2)]
        assert [(i["number"], i["entityId"]) for i in made] == [
            (f"INV-{year}-00001", "1"),
            (f"INV-{year}-00002", "2"),
        ]
        assert get(other, f"/invoices/{made[0]['id']}")["number"] == f"INV-{year}-00001"
        pdf = other.get(f"/invoices/{made[1]['id']}/pdf")
        assert pdf.status_code == 200
        assert f'filename="invoice-INV-{year}-00002.pdf"' in pdf.headers["content-disposition"]
    # The number stays what it was issued as, whatever the format is now.
    assert get(api, f"/invoices/{made[0]['id']}")["number"] == f"INV-{year}-00001"


def test_changing_the_format_starts_a_new_series_and_never_repeats(api, database_url, outbox):
    year = utc_today().year
    assert [invoice_for(api)["number"] for _ in range(2)] == ["1", "2"]
    with app(api, database_url, outbox, invoice_number_format="INV-{year}-{seq:05}") as other:
        moved = invoice_for(other)
    assert (moved["number"], moved["entityId"]) == (f"INV-{year}-00001", "3")
    # Back to the default: its series goes on where it was, entityId goes on counting.
    back = invoice_for(api)
    assert (back["number"], back["entityId"]) == ("3", "4")
    # {seq} and {seq:05} leave the same text when {seq} is left out: one series.
    with app(api, database_url, outbox, invoice_number_format="{seq:05}") as other:
        padded = invoice_for(other)
    assert (padded["number"], padded["entityId"]) == ("00004", "5")
    with app(api, database_url, outbox, invoice_number_format="INV-{year}-{seq:05}") as other:
        assert invoice_for(other)["number"] == f"INV-{year}-00002"


def test_a_year_format_restarts_every_year(api, database_url, outbox, monkeypatch):
    with app(api, database_url, outbox, invoice_number_format="INV-{year}-{seq:05}") as other:
        fixed_day(monkeypatch, date(2025, 12, 31))
        old = invoice_for(other)
        fixed_day(monkeypatch, date(2026, 1, 1))
        new = [invoice_for(other) for _ in range(2)]
    assert [(i["number"], i["entityId"], i["issueDate"]) for i in (old, *new)] == [
        ("INV-2025-00001", "1", "2025-12-31"),
        ("INV-2026-00001", "2", "2026-01-01"),
        ("INV-2026-00002", "3", "2026-01-01"),
    ]


def test_month_and_short_year_are_two_digits(api, database_url, outbox, monkeypatch):
    fixed_day(monkeypatch, date(2026, 3, 1))
    with app(api, database_url, outbox, invoice_number_format="R{yy}{month}-{seq}") as other:
        march = [invoice_for(other)["number"] for _ in range(2)]
        fixed_day(monkeypatch, date(2007, 4, 9))
        april = invoice_for(other)["number"]
    assert march == ["R2603-1", "R2603-2"]
    assert april == "R0704-1"  # another month: another series


def test_the_number_filter_finds_exactly_one(api, database_url, outbox):
    year = utc_today().year
    plain = [invoice_for(api) for _ in range(11)]  # numbers 1 to 11
    with app(api, database_url, outbox, invoice_number_format="INV-{year}-{seq:05}") as other:
        formatted = invoice_for(other)
    assert ids(api, number="1") == [plain[0]["id"]]
    assert ids(api, number="11") == [plain[10]["id"]]
    assert ids(api, number=f"INV-{year}-00001") == [formatted["id"]]
    assert ids(api, number="00001") == []
    assert ids(api, number="INV") == []
    [found] = api.get("/invoices", params={"number": "11"}).json()["data"]
    assert found == get(api, f"/invoices/{plain[10]['id']}")


def test_a_number_with_slashes(api, database_url, outbox):
    year = utc_today().year
    with app(api, database_url, outbox, invoice_number_format="INV/{year}/{seq}") as other:
        invoice = invoice_for(other)
        assert invoice["number"] == f"INV/{year}/1"
        pdf = other.get(f"/invoices/{invoice['id']}/pdf")
    # The file name is the number made safe for one.
    assert f'filename="invoice-INV-{year}-1.pdf"' in pdf.headers["content-disposition"]
    assert ids(api, number=f"INV/{year}/1") == [invoice["id"]]


def test_the_number_format_is_checked_at_start():
    for bad in ("INV-{year}", "{seq}-{seq}", "{seq}-{day}", ""):
        with pytest.raises(ValueError):
            Settings(invoice_number_format=bad)
        with pytest.raises(ValueError):
            Settings(credit_note_number_format=bad)


# Dates


def test_issue_due_and_delivery_dates_by_default(api):
    invoice = invoice_for(api)
    issued = utc_today()
    assert invoice["issueDate"] == issued.isoformat()
    assert invoice["dueDate"] == (issued + timedelta(days=30)).isoformat()
    assert invoice["deliveryDate"] == issued.isoformat()
    assert invoice["overdue"] is False
    got = get(api, f"/invoices/{invoice['id']}")
    assert (got["issueDate"], got["dueDate"], got["deliveryDate"]) == (
        invoice["issueDate"],
        invoice["dueDate"],
        invoice["deliveryDate"],
    )


def test_the_sellers_payment_terms(api):
    response = api.request("PUT", "/seller", json={"name": "Northwind", "paymentTermsDays": 14})
    assert response.status_code == 200
    invoice = invoice_for(api)
    assert invoice["dueDate"] == (utc_today() + timedelta(days=14)).isoformat()
    assert invoice["seller"]["paymentTermsDays"] == 14
    # The body's terms win over the seller's.
    assert invoice_for(api, paymentTermsDays=3)["dueDate"] == str(utc_today() + timedelta(days=3))


@pytest.mark.parametrize("days", [0, 1, 45, 365])
def test_payment_terms_in_the_body(api, days):
    invoice = invoice_for(api, paymentTermsDays=days)
    assert invoice["dueDate"] == (utc_today() + timedelta(days=days)).isoformat()
    assert invoice["issueDate"] == utc_today().isoformat()


def test_a_due_date_in_the_body(api):
    due = (utc_today() + timedelta(days=9)).isoformat()
    assert invoice_for(api, dueDate=due)["dueDate"] == due
    today = utc_today().isoformat()
    assert invoice_for(api, dueDate=today)["dueDate"] == today  # the issue date itself is fine


def test_a_delivery_date_in_the_body(api):
    invoice = invoice_for(api, deliveryDate="2026-01-15")
    assert invoice["deliveryDate"] == "2026-01-15"
    assert invoice["issueDate"] == utc_today().isoformat()
    assert get(api, f"/invoices/{invoice['id']}")["deliveryDate"] == "2026-01-15"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"paymentTermsDays": 366}, "paymentTermsDays must be at most 365"),
        ({"paymentTermsDays": -1}, "paymentTermsDays must be at least 0"),
        ({"paymentTermsDays": 1.5}, None),
        pytest.param({"paymentTermsDays": True}, None, id="paymentTermsDays-true"),
        ({"dueDate": "2026-13-01"}, None),
        ({"dueDate": "soon"}, None),
        ({"dueDate": 1767225600}, None),  # a Unix time is not a date
        ({"dueDate": 1767225600.5}, None),
        ({"deliveryDate": 1767225600}, None),
        ({"deliveryDate": "15.01.2026"}, None),
    ],
)
def test_date_field_errors(api, body, message):
    response = refused(api, **body)
    assert response.status_code == 400, response.text
    [field] = body
    if message is not None:
        assert response.json()["message"] == f"Validation error: {message}"
    assert response.json()["message"].startswith(f"Validation error: {field} ")
    assert response.json()["errors"][0]["field"] == field


def test_a_due_date_before_the_issue_date(api):
    yesterday = utc_today() - timedelta(days=1)
    response = refused(api, dueDate=yesterday.isoformat())
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "message": f"Validation error: dueDate must not be before the issue date {utc_today()}",
        "errors": [
            {"field": "dueDate", "message": f"must not be before the issue date {utc_today()}"}
        ],
    }


def test_due_date_and_payment_terms_together(api):
    due = (utc_today() + timedelta(days=5)).isoformat()
    response = refused(api, dueDate=due, paymentTermsDays=5)
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Validation error: dueDate and paymentTermsDays cannot both be given"
    )


def test_refused_dates_consume_no_number(api):
    assert refused(api, paymentTermsDays=366).status_code == 400
    assert refused(api, dueDate="2000-01-01").status_code == 400
    assert refused(api, dueDate="2099-01-01", paymentTermsDays=1).status_code == 400
    assert invoice_for(api)["entityId"] == "1"
    assert api.get("/invoices").json()["data"][0]["number"] == "1"


def test_lines_carry_their_unit_and_tax_terms(api):
    order = create_order(
        api,
        lineItems=[
            line("Consulting", 2, 100, 19, unitCode="HUR"),
            line(
                "Course",
                1,
                50,
                0,
                taxCategory="E",
                exemptionReason="Education",
                exemptionReasonCode="VATEX-EU-132",
            ),
            line("Book", 1, 10),
        ],
    )
    invoice = create_invoice(api, order["id"])
    terms = [
        {k: li.get(k, "-") for k in ("unitCode", "taxCategory", "exemptionReason", "taxRate")}
        for li in invoice["lineItems"]
    ]
    assert terms == [
        {"unitCode": "HUR", "taxCategory": "S", "exemptionReason": "-", "taxRate": 19},
        {"unitCode": "C62", "taxCategory": "E", "exemptionReason": "Education", "taxRate": 0},
        {"unitCode": "C62", "taxCategory": "Z", "exemptionReason": "-", "taxRate": 0},
    ]
    assert invoice["lineItems"][1]["exemptionReasonCode"] == "VATEX-EU-132"
    assert invoice["taxes"] == [
        {
            "category": "E",
            "rate": 0,
            "taxable": 50,
            "amount": 0,
            "exemptionReason": "Education",
            "exemptionReasonCode": "VATEX-EU-132",
        },
        {"category": "S", "rate": 19, "taxable": 200, "amount": 38},
        {"category": "Z", "rate": 0, "taxable": 10, "amount": 0},
    ]


# Copies of the parties


SELLER_A = {
    "name": "Northwind Trading Co.",
    "legalName": "Northwind Trading GmbH",
    "address": {
        "street": "Market St 400",
        "city": "Berlin",
        "postalCode": "10115",
        "country": "DE",
    },
    "vatId": "DE123456789",
    "email": "billing@northwind.example",
    "bankAccount": {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"},
    "paymentTermsDays": 30,
}


def test_the_seller_and_customer_copies_never_change(api):
    first = api.request("PUT", "/seller", json=SELLER_A).json()["data"]
    customer = {
        "name": "Acme GmbH",
        "email": "billing@acme.example",
        "address": {"street": "Main St 1", "city": "Paris", "postalCode": "75001", "country": "FR"},
        "vatId": "FR12345678901",
        "buyerReference": "04011000-1234512345-06",
    }
    order = create_order(api, customer=customer)
    invoice = create_invoice(api, order["id"])
    assert invoice["seller"] == first == get(api, "/seller")
    assert invoice["customer"] == order["customer"]
    assert invoice["customer"]["vatId"] == "FR12345678901"
    changed = {**SELLER_A, "name": "Northwind Holding AG", "vatId": "DE999999999"}
    second = api.request("PUT", "/seller", json=changed).json()["data"]
    assert second["name"] == "Northwind Holding AG"
    after = get(api, f"/invoices/{invoice['id']}")
    assert (after["seller"], after["customer"]) == (first, order["customer"])
    [listed] = api.get("/invoices").json()["data"]
    assert (listed["seller"], listed["customer"]) == (first, order["customer"])
    later = invoice_for(api)
    assert later["seller"] == second


def test_the_seller_from_the_environment_until_a_profile_is_saved(api, database_url, outbox):
    with app(
        api, database_url, outbox, seller_name="Env Seller Ltd", seller_address="Dock 7\nHamburg"
    ) as other:
        invoice = invoice_for(other)
    assert invoice["seller"] == {
        "name": "Env Seller Ltd",
        "legalName": "",
        "address": "Dock 7\nHamburg",
        "vatId": "",
        "taxRegistrationId": "",
        "legalRegistrationId": "",
        "email": "",
        "phone": "",
        "contact": None,
        "electronicAddress": None,
        "bankAccount": None,
        "paymentTermsDays": 30,
        "updatedAt": None,
    }


# The list's filters


def test_filters_by_order_status_number_and_overdue_together(api, client):
    first_order, second_order = create_order(api), create_order(api)
    widget = first_order["lineItems"][0]["id"]
    part = create_invoice(
        api, first_order["id"], lineItems=[{"lineItemId": widget, "quantity": 10}]
    )
    rest = create_invoice(api, first_order["id"])
    other = create_invoice(api, second_order["id"])
    assert ids(api, orderId=first_order["id"]) == [rest["id"], part["id"]]
    assert ids(api, orderId=second_order["id"]) == [other["id"]]
    assert ids(api, orderId=GONE) == [] and ids(api, orderId="nope") == []
    assert api.post(f"/invoices/{part['id']}/payments", json={"amount": 1}).status_code == 201
    assert ids(api, status="partially_paid") == [part["id"]]
    assert ids(api, status="open") == [other["id"], rest["id"]]
    assert ids(api, status="open", orderId=first_order["id"]) == [rest["id"]]
    assert ids(api, number="2", orderId=first_order["id"]) == [rest["id"]]
    assert ids(api, number="2", orderId=second_order["id"]) == []
    set_due_date(client, part["id"], utc_today() - timedelta(days=1))
    set_due_date(client, other["id"], utc_today() - timedelta(days=40))
    assert ids(api, overdue="true") == [other["id"], part["id"]]
    assert ids(api, overdue="true", orderId=first_order["id"]) == [part["id"]]
    assert ids(api, overdue="true", status="open") == [other["id"]]
    assert ids(api, overdue="false") == [rest["id"]]
    assert [get(api, f"/invoices/{i}")["overdue"] for i in (part["id"], rest["id"])] == [
        True,
        False,
    ]
    for bad in ({"status": "late"}, {"overdue": "maybe"}):
        response = api.get("/invoices", params=bad)
        assert response.status_code == 400, bad
        assert response.json()["success"] is False


def test_filtered_pages_are_complete(api, client):
    made = [invoice_for(api) for _ in range(5)]
    for invoice in made[::2]:
        set_due_date(client, invoice["id"], utc_today() - timedelta(days=2))
    first = api.get("/invoices", params={"overdue": "true", "limit": 2}).json()
    assert [i["id"] for i in first["data"]] == [made[4]["id"], made[2]["id"]]
    assert first["nextCursor"] is not None
    second = api.get(
        "/invoices", params={"overdue": "true", "limit": 2, "cursor": first["nextCursor"]}
    ).json()
    assert ([i["id"] for i in second["data"]], second["nextCursor"]) == ([made[0]["id"]], None)


# Time zones


def test_issue_date_is_today_in_the_configured_zone(api, database_url, outbox):
    made = {}
    for zone in (WEST, EAST):
        with app(api, database_url, outbox, timezone=zone) as other:
            made[zone] = invoice_for(other, paymentTermsDays=2)
    for zone, invoice in made.items():
        issued = today_in(zone)
        assert invoice["issueDate"] == issued.isoformat(), zone
        assert invoice["dueDate"] == (issued + timedelta(days=2)).isoformat(), zone
        assert invoice["deliveryDate"] == issued.isoformat(), zone
    assert made[WEST]["issueDate"] < made[EAST]["issueDate"]


def test_due_date_checks_use_the_configured_zone(api, database_url, outbox):
    west_today = today_in(WEST).isoformat()  # before today east of it
    with app(api, database_url, outbox, timezone=EAST) as east:
        response = east.post(
            "/invoices", json={"orderId": create_order(api)["id"], "dueDate": west_today}
        )
        assert response.status_code == 400
        assert response.json()["message"] == (
            f"Validation error: dueDate must not be before the issue date {today_in(EAST)}"
        )
    with app(api, database_url, outbox, timezone=WEST) as west:
        assert invoice_for(west, dueDate=west_today)["dueDate"] == west_today


def test_overdue_uses_today_in_the_configured_zone(api, client, database_url, outbox):
    invoice = invoice_for(api)
    set_due_date(client, invoice["id"], today_in(WEST))  # still today in the west, past east
    with app(api, database_url, outbox, timezone=WEST) as west:
        assert get(west, f"/invoices/{invoice['id']}")["overdue"] is False
        assert ids(west, overdue="true") == []
    with app(api, database_url, outbox, timezone=EAST) as east:
        assert get(east, f"/invoices/{invoice['id']}")["overdue"] is True
        assert ids(east, overdue="true") == [invoice["id"]]


def test_payment_dates_use_the_configured_zone(api, database_url, outbox):
    invoice = invoice_for(api)
    with app(api, database_url, outbox, timezone=WEST) as west:
        response = west.post(
            f"/invoices/{invoice['id']}/payments",
            json={"amount": 1, "paidAt": today_in(EAST).isoformat()},
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "paidAt"
        default = west.post(f"/invoices/{invoice['id']}/payments", json={"amount": 1})
        assert default.json()["data"]["paidAt"] == today_in(WEST).isoformat()
    with app(api, database_url, outbox, timezone=EAST) as east:
        response = east.post(
            f"/invoices/{invoice['id']}/payments",
            json={"amount": 1, "paidAt": today_in(EAST).isoformat()},
        )
        assert response.status_code == 201
        note = east.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "x"})
        assert note.json()["data"]["issueDate"] == today_in(EAST).isoformat()


def test_an_unknown_zone_is_refused_at_start():
    with pytest.raises(ValueError, match="IANA time zone"):
        Settings(timezone="Mars/Olympus_Mons")


def test_the_financial_content_is_the_same_in_every_view(api):
    order = create_order(api, lineItems=[dict(WIDGET), line("Book", 2, "12.5", 7)])
    invoice = create_invoice(api, order["id"], metaFields=[{"key": "po", "value": "1"}])
    assert get(api, f"/invoices/{invoice['id']}") == invoice
    [listed] = api.get("/invoices").json()["data"]
    assert listed == invoice


def test_a_number_filter_with_a_control_character_finds_nothing(api):
    create_invoice(api, create_order(api)["id"])
    response = api.get("/invoices", params={"number": "1\x00"})
    assert (response.status_code, response.json()["data"]) == (200, [])


def test_dates_are_read_alike_when_a_body_holds_a_long_digit_run(api):
    """A body with 16 digits in a row (an id may hold them by chance, or a metaField) is validated
    a second time, exactly, in Python mode; a date in it must still read as a date (found when an
    order id happened to hold 16 digits: `dueDate` answered "input should be a valid date")."""
    digits = [{"key": "ref", "value": "1234567890123456"}]
    today = utc_today().isoformat()
    invoice = invoice_for(api, dueDate=today, deliveryDate="2026-01-15", metaFields=digits)
    assert (invoice["dueDate"], invoice["deliveryDate"]) == (today, "2026-01-15")
    bad = refused(api, dueDate="2026-13-01", metaFields=digits)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "dueDate"
    paid = api.post(
        f"/invoices/{invoice['id']}/payments",
        json={"amount": 1, "paidAt": today, "reference": "1234567890123456"},
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["data"]["paidAt"] == today
