"""The seeded rows, written by the service's own code.

`Shape` runs `seller.replace`, `orders.create` and `invoices.create` once, on `_Scratch`: a
connection that keeps what they write in memory and answers their reads with those rows as the
database would give them back (SQLite: text; PostgreSQL: NUMERIC as text at the column's scale,
JSONB with its keys reordered, dates and times as objects). Every seeded row is a copy of one of
those rows with its own ids, numbers and times, so the seed holds exactly what `PUT /seller`,
`POST /orders` and `POST /invoices` would have stored, column for column, on either database.
`bench/verify.py` checks that against the running service.

Two shapes: the orders of `POST /orders` in the bench (5 lines, 2 x 19.99 each, tax rates 0, 8.25
and 19 %), and large ones (5 lines of 1,000,000 x 19.99) that payments of 1 and credit notes of
1 unit never use up.
"""

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from bench.load import POST_ORDER_BODY
from invoicing.auth.principal import Principal
from invoicing.config import Settings
from invoicing.core.numbering import NumberFormat
from invoicing.core.times import iso
from invoicing.db.base import Connection, Row
from invoicing.db.query import Query
from invoicing.db.tables import metadata
from invoicing.invoices import repository as invoices_repository
from invoicing.invoices import service as invoices_service
from invoicing.invoices.schemas import InvoiceCreate
from invoicing.orders import repository as orders_repository
from invoicing.orders import service as orders_service
from invoicing.orders.schemas import OrderCreate
from invoicing.seller import repository as seller_repository
from invoicing.seller import service as seller_service
from invoicing.seller.schemas import SellerIn

LINES = 5
ORDER_BODY = POST_ORDER_BODY  # the orders `POST /orders` makes in the bench
LARGE_QUANTITY = 1_000_000
CREDITED_POSITION = 3  # the large invoices' credit notes take back 1 unit of this line (19 %)

LARGE_ORDER_BODY = orjson.dumps(
    {
        "customer": {
            "name": "Acme GmbH",
            "email": "billing@acme.example",
            "address": "Main St 1, Berlin",
        },
        "currency": "USD",
        "lineItems": [
            {
                "name": f"Widget {i}",
                "sku": f"W-{i}",
                "quantity": LARGE_QUANTITY,
                "unitPrice": 19.99,
                "taxRate": float(rate),
            }
            for i, rate in enumerate(("0", "8.25", "8.25", "19", "19"))
        ],
        "metaFields": [],
    }
).decode()

# A complete seller profile (the example of API.md), as `PUT /seller` would save it.
SELLER_BODY = orjson.dumps(
    {
        "name": "Northwind Trading Co.",
        "legalName": "Northwind Trading GmbH",
        "address": {
            "street": "Market St 400",
            "city": "Berlin",
            "postalCode": "10115",
            "country": "DE",
        },
        "vatId": "DE123456789",
        "taxRegistrationId": "",
        "legalRegistrationId": "HRB 12345",
        "email": "billing@northwind.example",
        "phone": "+49 30 1234567",
        "contact": {
            "name": "Accounts receivable",
            "phone": "+49 30 1234567",
            "email": "ar@northwind.example",
        },
        "electronicAddress": {"scheme": "0204", "id": "991-12345-67"},
        "bankAccount": {
            "iban": "DE89370400440532013000",
            "bic": "COBADEFFXXX",
            "accountName": "Northwind Trading GmbH",
        },
        "paymentTermsDays": 30,
    }
).decode()

CREATED = datetime(2025, 1, 1, tzinfo=UTC)

# The service's own insert column lists: the seeded rows follow its schema by construction.
ORDER_INSERT = orders_repository.INSERT_ORDER
ORDER_LINE_INSERT = orders_repository.INSERT_LINE
INVOICE_INSERT = invoices_repository.INSERT_INVOICE
INVOICE_LINE_INSERT = invoices_repository.INSERT_LINE
SELLER_COLUMNS = ("id", "profile", "updated_at")
COLUMNS: dict[str, tuple[str, ...]] = {
    "seller_profile": SELLER_COLUMNS,
    "orders": ORDER_INSERT.columns,
    "order_lines": ORDER_LINE_INSERT.columns,
    "invoices": INVOICE_INSERT.columns,
    "invoice_lines": INVOICE_LINE_INSERT.columns,
}

# Ids in the service's format (24 hex), by kind, increasing with the index so index inserts
# append. Kinds 1-4: the seeded invoiced orders, their lines, invoices, invoice lines; 5-6: open
# orders and their lines; 7-10: the large invoiced orders, lines, invoices, invoice lines.
SMALL = (1, 2, 3, 4)
LARGE = (7, 8, 9, 10)
OPEN = (5, 6)


def make_id(kind: int, index: int) -> str:
    return f"{0x67750000 + kind:08x}{index:016x}"


def invoice_id(index: int) -> str:
    return make_id(SMALL[2], index)


def large_invoice_id(index: int) -> str:
    return make_id(LARGE[2], index)


def large_invoice_line_id(index: int, position: int) -> str:
    return make_id(LARGE[3], index * LINES + position)


def stored(dialect: str, table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A written row as the service reads it back (see the module's docstring)."""
    columns = metadata.tables[table].c
    return {name: _stored(dialect, columns[name].type, value) for name, value in row.items()}


def _stored(dialect: str, kind: sa.types.TypeEngine[Any], value: Any) -> Any:
    if value is None:
        return None
    if dialect == "sqlite":
        return write_form("sqlite", value)
    if isinstance(kind, sa.Numeric) and kind.scale is not None:  # the service reads NUMERIC as text
        return str(Decimal(value).quantize(Decimal(1).scaleb(-kind.scale)))
    if isinstance(kind.dialect_impl(_POSTGRES), postgresql.JSONB):
        return _jsonb(value)
    return value


_POSTGRES = postgresql.dialect()  # type: ignore[no-untyped-call]


def _jsonb(text: str) -> str:
    """JSON text as PostgreSQL's JSONB gives it back: object keys shortest first, then bytewise."""

    def ordered(value: Any) -> Any:
        if isinstance(value, dict):
            keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
            return {key: ordered(value[key]) for key in keys}
        if isinstance(value, list):
            return [ordered(item) for item in value]
        return value

    return orjson.dumps(ordered(orjson.loads(text))).decode()


def write_form(dialect: str, value: Any) -> Any:
    """A value as the seeder hands it to the driver: on SQLite what the service's sqlite3
    adapters make of it (Decimal as its text, times as ISO strings with ms, dates as ISO);
    asyncpg's COPY takes the objects."""
    if dialect != "sqlite":
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


_INSERT = re.compile(r"INSERT INTO (\w+) \(([^)]*)\) VALUES \(([^)]*)\)")
# A statement that writes an event too (`webhooks.events.Emitting`, PostgreSQL): its own part.
_WITH_EVENT = re.compile(r"WITH change AS \((.*)\), targets AS \(SELECT id FROM webhook_endpoints ")
_UPDATE = re.compile(r"UPDATE (\w+) SET (.*) WHERE id = \$1$")
_ASSIGNMENT = re.compile(r"(\w+) = \$(\d+)")
_FROM = re.compile(r"\bFROM (\w+) WHERE (\w+) = (\$1|1)\b")
# The webhook outbox (invoicing.webhooks.events.emit): the stand-in has no endpoints, so the lookup
# of those listening finds none and the PostgreSQL form (one statement) writes nothing, as on a
# fresh database.
_WEBHOOK_ENDPOINTS = "FROM webhook_endpoints WHERE"


class _Scratch(Connection):
    """An in-memory stand-in for the database, enough for the service's creates: inserts (with
    `$n` or integer values), `UPDATE ... WHERE id = $1`, `SELECT ... FROM t WHERE c = $1`, the
    counters' upserts, and the webhook outbox with no endpoint. Any other statement means the
    service changed: update this file."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.counters: dict[str, int] = {}

    async def fetch(self, query: Query, *args: Any) -> list[Row]:
        sql = query.postgres
        if sql.startswith("INSERT INTO counters") and sql.endswith("RETURNING name, value"):
            return [{"name": name, "value": self._next(name)} for name in args]
        return self._select(sql, args)

    async def fetchrow(self, query: Query, *args: Any) -> Row | None:
        rows = self._select(query.postgres, args)
        return rows[0] if rows else None

    async def fetchval(self, query: Query, *args: Any) -> Any:
        raise self._unknown(query.postgres)

    def _next(self, counter: str) -> int:
        self.counters[counter] = self.counters.get(counter, 0) + 1
        return self.counters[counter]

    async def execute(self, query: Query, *args: Any) -> None:
        self._write(query.postgres, args)

    async def executemany(self, query: Query, rows: Iterable[Sequence[Any]]) -> None:
        for args in rows:
            self._write(query.postgres, args)

    def _write(self, sql: str, args: Sequence[Any]) -> None:
        if sql.startswith("WITH targets AS (SELECT id " + _WEBHOOK_ENDPOINTS):
            return
        if carried := _WITH_EVENT.match(sql):  # its event goes to no endpoint here
            sql = carried.group(1)
        if match := _INSERT.match(sql):
            table, columns, values = match.groups()
            row = {
                column.strip(): args[int(value[1:]) - 1] if value.startswith("$") else int(value)
                for column, value in zip(
                    columns.split(","), map(str.strip, values.split(",")), strict=True
                )
            }
            rows = self.tables.setdefault(table, [])
            if "ON CONFLICT (id)" in sql:  # the seller profile's upsert
                rows[:] = [r for r in rows if r["id"] != row["id"]]
            rows.append(row)
        elif match := _UPDATE.match(sql):
            table, assignments = match.groups()
            for row in self.tables[table]:
                if row["id"] == args[0]:
                    for column, parameter in _ASSIGNMENT.findall(assignments):
                        row[column] = args[int(parameter) - 1]
        else:
            raise self._unknown(sql)

    def _select(self, sql: str, args: Sequence[Any]) -> list[Row]:
        if sql.startswith("SELECT id " + _WEBHOOK_ENDPOINTS):
            return []
        # The order an invoice locks comes with the seller profile's columns (the subqueries'
        # own FROM taken out, so that the order's is the one matched).
        with_seller = seller_repository.COLUMNS_ALONGSIDE in sql
        match = _FROM.search(sql.replace(seller_repository.COLUMNS_ALONGSIDE, ""))
        if not sql.startswith("SELECT") or match is None:
            raise self._unknown(sql)
        table, column, parameter = match.groups()
        wanted = args[0] if parameter == "$1" else 1
        found = [row for row in self.tables.get(table, []) if row[column] == wanted]
        if "ORDER BY position" in sql:
            found.sort(key=lambda row: row["position"])
        rows = [stored(self.dialect, table, row) for row in found]
        if with_seller:
            (saved,) = self.tables.get("seller_profile") or [{"profile": None, "updated_at": None}]
            seller = stored(self.dialect, "seller_profile", saved)
            for row in rows:
                row["seller_profile"] = seller["profile"]
                row["seller_updated_at"] = seller["updated_at"]
        return list(rows)

    @staticmethod
    def _unknown(sql: str) -> Exception:
        return RuntimeError(f"bench/rows.py does not know this statement of the service: {sql}")


class Shape:
    """One order (from an order body), invoiced whole: the rows of each table as the service
    wrote them, by column name. `seller` is the seller profile row both were made with."""

    def __init__(self, dialect: str, order_body: str, creator: Principal, settings: Settings):
        scratch = _Scratch(dialect)
        asyncio.run(self._make(scratch, order_body, creator, settings))
        tables = scratch.tables
        self.seller = tables["seller_profile"][0]
        (self.order,) = tables["orders"]
        self.order_lines = tables["order_lines"]
        (self.invoice,) = tables["invoices"]
        self.invoice_lines = tables["invoice_lines"]
        self.open_order, self.open_order_lines = self._open

    async def _make(
        self, scratch: _Scratch, order_body: str, creator: Principal, settings: Settings
    ) -> None:
        await seller_service.replace(scratch, SellerIn.model_validate_json(SELLER_BODY))
        # Saved at a fixed time, so that every shape (and every run) copies the same profile.
        scratch.tables["seller_profile"][0]["updated_at"] = CREATED
        payload = OrderCreate.model_validate_json(order_body)
        order = await orders_service.create(scratch, creator, payload, settings.default_currency)
        # The order before it was invoiced (the rows are updated in place by the invoice).
        self._open = (
            dict(scratch.tables["orders"][0]),
            [dict(line) for line in scratch.tables["order_lines"]],
        )
        invoice = InvoiceCreate.model_validate({"orderId": order["id"]})
        await invoices_service.create(scratch, creator, invoice, settings)


class Stamp:
    """Copies of one written row, as a tuple in its insert's column order, in the seeder's
    value forms (`write_form`), with the given columns replaced."""

    def __init__(
        self, dialect: str, columns: Sequence[str], row: Mapping[str, Any], varying: Sequence[str]
    ) -> None:
        self.dialect = dialect
        self.template = [write_form(dialect, row[column]) for column in columns]
        self.positions = [columns.index(column) for column in varying]

    def __call__(self, *values: Any) -> tuple[Any, ...]:
        row = self.template.copy()
        for position, value in zip(self.positions, values, strict=True):
            row[position] = value
        return tuple(row)


class Rows:
    """The rows of seeded invoiced orders (orders, lines, invoices, invoice lines) and of open
    orders, copied from a `Shape` with ids of the given kinds and the times of `CREATED`."""

    def __init__(self, dialect: str, shape: Shape, settings: Settings, kinds: Sequence[int]):
        self.kinds = kinds
        self.created = write_form(dialect, CREATED)
        issued = CREATED.astimezone(settings.zone).date()
        due = issued + (shape.invoice["due_date"] - shape.invoice["issue_date"])
        self.issued, self.due = write_form(dialect, issued), write_form(dialect, due)
        self.number_format = NumberFormat(settings.invoice_number_format)
        self.series = f"invoice:{self.number_format.series(issued)}"
        self._issue_day = issued
        times = ("created_at", "updated_at")
        self._order = Stamp(dialect, ORDER_INSERT.columns, shape.order, ("id", *times))
        self._order_lines = [
            Stamp(dialect, ORDER_LINE_INSERT.columns, line, ("id", "order_id"))
            for line in shape.order_lines
        ]
        self._open_order = Stamp(dialect, ORDER_INSERT.columns, shape.open_order, ("id", *times))
        self._open_lines = [
            Stamp(dialect, ORDER_LINE_INSERT.columns, line, ("id", "order_id"))
            for line in shape.open_order_lines
        ]
        dates = ("issue_date", "due_date", "delivery_date")
        self._invoice = Stamp(
            dialect,
            INVOICE_INSERT.columns,
            shape.invoice,
            ("id", "entity_id", "number", "order_id", *dates, *times),
        )
        self._invoice_lines = [
            Stamp(dialect, INVOICE_LINE_INSERT.columns, line, ("id", "invoice_id", "order_line_id"))
            for line in shape.invoice_lines
        ]
        self.seller = Stamp(dialect, SELLER_COLUMNS, shape.seller, ())()

    def order(self, index: int) -> tuple[Any, ...]:
        return self._order(make_id(self.kinds[0], index), self.created, self.created)

    def order_lines(self, index: int) -> Iterable[tuple[Any, ...]]:
        order_id = make_id(self.kinds[0], index)
        for position, stamp in enumerate(self._order_lines):
            yield stamp(make_id(self.kinds[1], index * LINES + position), order_id)

    def invoice(self, index: int, entity_id: int) -> tuple[Any, ...]:
        return self._invoice(
            make_id(self.kinds[2], index),
            entity_id,
            self.number_format.number(self._issue_day, entity_id),
            make_id(self.kinds[0], index),
            self.issued,
            self.due,
            self.issued,
            self.created,
            self.created,
        )

    def invoice_lines(self, index: int) -> Iterable[tuple[Any, ...]]:
        invoice = make_id(self.kinds[2], index)
        for position, stamp in enumerate(self._invoice_lines):
            yield stamp(
                make_id(self.kinds[3], index * LINES + position),
                invoice,
                make_id(self.kinds[1], index * LINES + position),
            )

    def open_order(self, index: int) -> tuple[Any, ...]:
        return self._open_order(make_id(OPEN[0], index), self.created, self.created)

    def open_order_lines(self, index: int) -> Iterable[tuple[Any, ...]]:
        order_id = make_id(OPEN[0], index)
        for position, stamp in enumerate(self._open_lines):
            yield stamp(make_id(OPEN[1], index * LINES + position), order_id)
