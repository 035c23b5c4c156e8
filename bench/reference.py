"""The reference: GET /invoices/{id} and POST /invoices as fast as plain Python does them here.

Starlette on uvicorn and the raw driver (sqlite3 called on the event loop; an asyncpg pool),
doing the service's queries: the token looked up by its SHA-256 hash, the order locked, its lines
read, the invoice number taken with UPDATE … RETURNING, the invoice and its lines inserted, the
order lines and the order updated, JSON written by orjson. Same database, same pragmas.
Money is USD-only here. It stays the minimal bar it was before schema 0003: it writes the columns
the schema now requires (see `reference_invoice.INSERT_INVOICE`) but none of the lifecycle (number
series, seller profile, billed taxes, payments, credit notes); its GET shows what it showed.
Run: `INVOICING_DATABASE_URL=... uvicorn bench.reference:create_app --factory`.
"""

import hashlib
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.reference_invoice import (
    ID,
    INSERT_INVOICE,
    INSERT_LINE,
    INVOICE,
    LINES,
    MAILS,
    NEXT_NUMBER,
    ORDER,
    ORDER_LINES,
    TOKEN,
    UPDATE_LINE,
    UPDATE_ORDER,
    Invoice,
    error,
    invoice_json,
    iso,
    sqlite,
)


class SQLite:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
            "busy_timeout=5000",
        ):
            self.db.execute(f"PRAGMA {pragma}")

    async def close(self) -> None:
        self.db.close()

    async def get(self, secret_hash: str, invoice_id: str) -> tuple[int, bytes]:
        db = self.db
        if db.execute(_Q.token, (secret_hash,)).fetchone() is None:
            return error(401, "Invalid or missing access token")
        row = db.execute(_Q.invoice, (invoice_id,)).fetchone()
        if row is None:
            return error(404, "Invoice not found")
        lines = db.execute(_Q.lines, (invoice_id,)).fetchall()
        mails = db.execute(_Q.mails, (invoice_id,)).fetchall()
        return 200, orjson.dumps({"success": True, "data": invoice_json(row, lines, mails)})

    async def create(self, secret_hash: str, order_id: str) -> tuple[int, bytes]:
        db = self.db
        caller = db.execute(_Q.token, (secret_hash,)).fetchone()
        if caller is None:
            return error(401, "Invalid or missing access token")
        db.execute("BEGIN IMMEDIATE")
        try:
            order = db.execute(_Q.order, (order_id,)).fetchone()
            if order is None:
                db.execute("ROLLBACK")
                return error(404, "Order not found")
            lines = db.execute(_Q.order_lines, (order_id,)).fetchall()
            invoice = Invoice(order_id, order[1], order[2], lines, caller)
            if not invoice.lines:
                db.execute("ROLLBACK")
                return error(409, "Order is already fully invoiced")
            invoice.number(db.execute(_Q.next_number).fetchone()[0])
            db.execute(_Q.insert_invoice, [_text(v) for v in invoice.row])
            db.executemany(_Q.insert_line, [[_text(v) for v in li] for li in invoice.lines])
            db.executemany(_Q.update_line, [[_text(v) for v in u] for u in invoice.updates])
            db.execute(_Q.update_order, (order_id, "invoiced", _text(invoice.at)))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return 201, invoice.body()


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Q:
    token, invoice, lines, mails = map(sqlite, (TOKEN, INVOICE, LINES, MAILS))
    order, order_lines, next_number = map(sqlite, (ORDER, ORDER_LINES, NEXT_NUMBER))
    insert_invoice, insert_line = map(sqlite, (INSERT_INVOICE, INSERT_LINE))
    update_line, update_order = map(sqlite, (UPDATE_LINE, UPDATE_ORDER))


class Postgres:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def close(self) -> None:
        await self.pool.close()

    async def get(self, secret_hash: str, invoice_id: str) -> tuple[int, bytes]:
        async with self.pool.acquire() as conn:
            if await conn.fetchrow(TOKEN, secret_hash) is None:
                return error(401, "Invalid or missing access token")
            row = await conn.fetchrow(INVOICE, invoice_id)
            if row is None:
                return error(404, "Invoice not found")
            lines = await conn.fetch(LINES, invoice_id)
            mails = await conn.fetch(MAILS, invoice_id)
        return 200, orjson.dumps({"success": True, "data": invoice_json(row, lines, mails)})

    async def create(self, secret_hash: str, order_id: str) -> tuple[int, bytes]:
        async with self.pool.acquire() as conn:
            caller = await conn.fetchrow(TOKEN, secret_hash)
            if caller is None:
                return error(401, "Invalid or missing access token")
            async with conn.transaction():
                order = await conn.fetchrow(ORDER, order_id)
                if order is None:
                    return error(404, "Order not found")
                lines = await conn.fetch(ORDER_LINES, order_id)
                invoice = Invoice(order_id, order[1], order[2], lines, tuple(caller))
                if not invoice.lines:
                    return error(409, "Order is already fully invoiced")
                invoice.number(await conn.fetchval(NEXT_NUMBER))
                await conn.execute(INSERT_INVOICE, *invoice.row)
                await conn.executemany(INSERT_LINE, invoice.lines)
                await conn.executemany(UPDATE_LINE, invoice.updates)
                await conn.execute(UPDATE_ORDER, order_id, "invoiced", invoice.at)
        return 201, invoice.body()


def _secret_hash(request: Request) -> str:
    secret = request.headers.get("accesstoken")
    if secret is None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        secret = credentials.strip() if scheme.lower() == "bearer" else ""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_app() -> Starlette:
    url = os.environ.get("INVOICING_DATABASE_URL", "sqlite:///./invoicing.db")
    backend: SQLite | Postgres | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal backend
        if url.startswith("sqlite"):
            backend = SQLite(url.split(":///", 1)[1])
        else:
            dsn = "postgresql://" + url.split("://", 1)[1]
            backend = Postgres(await asyncpg.create_pool(dsn, min_size=1, max_size=10))
        yield
        await backend.close()

    def respond(result: tuple[int, bytes]) -> Response:
        return Response(result[1], result[0], media_type="application/json")

    async def get_invoice(request: Request) -> Response:
        invoice_id: str = request.path_params["invoice_id"]
        if backend is None or not ID.fullmatch(invoice_id):
            return respond(error(404, "Invoice not found"))
        return respond(await backend.get(_secret_hash(request), invoice_id))

    async def create_invoice(request: Request) -> Response:
        try:
            order_id = orjson.loads(await request.body()).get("orderId")
        except (orjson.JSONDecodeError, AttributeError):
            return respond(error(400, "Validation error: request body must be a JSON object"))
        if not isinstance(order_id, str) or not order_id:
            return respond(error(400, "Validation error: orderId is required"))
        if backend is None or not ID.fullmatch(order_id):
            return respond(error(404, "Order not found"))
        return respond(await backend.create(_secret_hash(request), order_id))

    async def health(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    routes = [
        Route("/health", health),
        Route("/invoices", create_invoice, methods=["POST"]),
        Route("/invoices/{invoice_id}", get_invoice),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
