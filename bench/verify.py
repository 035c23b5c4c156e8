"""Are the seeded rows what the service writes? Checked against the running service, each run.

For each shape of `bench/rows.py`, the service makes the same order and invoice through the API
(`POST /orders`, `POST /invoices`); their rows and the first seeded ones must agree in every column
but ids, numbers and times (and the dates that follow from the time). Then a payment of 1 and a
credit note of 1 unit go to the first large seeded invoice and to the service's own: the answers
must agree the same way. Anything else is a difference, reported in bench/RESULTS.md.
"""

import asyncio
import sqlite3
import urllib.error
import urllib.request
from datetime import date
from typing import Any

import asyncpg
import orjson

from bench import rows
from bench.seed import Target

# Columns and JSON keys that differ between any two creates: ids, numbers, times, and the dates
# that follow from the time (compared as due - issue and delivery - issue instead).
_VARYING = frozenset(
    {
        "seq", "id", "order_id", "invoice_id", "order_line_id", "invoice_line_id",
        "credit_note_id", "entity_id", "number", "created_at", "updated_at", "issue_date",
        "due_date", "delivery_date", "_id", "order", "invoice", "invoiceNumber", "entityId",
        "lineItemId", "invoiceLineId", "createdAt", "updatedAt", "issueDate", "dueDate",
        "deliveryDate", "paidAt", "invoiceIssueDate",
    }
)  # fmt: skip


def seeded_like_service(target: Target, url: str, secret: str) -> list[str]:
    """The differences found (none when the seed is right)."""
    found: list[str] = []
    credited: list[tuple[str, str]] = [
        (rows.large_invoice_id(0), rows.large_invoice_line_id(0, rows.CREDITED_POSITION))
    ]
    for name, body, kinds in (
        ("order", rows.ORDER_BODY, rows.SMALL),
        ("large order", rows.LARGE_ORDER_BODY, rows.LARGE),
    ):
        order = _post(url, secret, "/orders", body)["id"]
        invoice = _post(url, secret, "/invoices", orjson.dumps({"orderId": order}).decode())
        live = asyncio.run(_read(target, order, invoice["id"]))
        seeded = asyncio.run(_read(target, rows.make_id(kinds[0], 0), rows.make_id(kinds[2], 0)))
        found += _differences(name, seeded, live)
        if live["invoices"] and seeded["invoices"]:
            days = _days_after_issue(seeded["invoices"][0]), _days_after_issue(live["invoices"][0])
            if days[0] != days[1]:
                found.append(f"{name}: due and delivery days after issue: seeded {days[0]}, "
                             f"service {days[1]}")  # fmt: skip
        if kinds == rows.LARGE:
            credited.append((invoice["id"], invoice["lineItems"][rows.CREDITED_POSITION]["id"]))
    answers = []
    for invoice_id, line_id in credited:
        credit = {"reason": "bench", "lineItems": [{"invoiceLineId": line_id, "quantity": 1}]}
        answers.append(
            (
                _post(url, secret, f"/invoices/{invoice_id}/payments", '{"amount":1}'),
                _post(
                    url,
                    secret,
                    f"/invoices/{invoice_id}/credit-notes",
                    orjson.dumps(credit).decode(),
                ),
            )
        )
    found += _differences("payment of 1 on the first large invoice", answers[0][0], answers[1][0])
    found += _differences("credit note of 1 unit of it", answers[0][1], answers[1][1])
    return found


def _post(url: str, secret: str, path: str, body: str) -> dict[str, Any]:
    request = urllib.request.Request(
        url + path,
        data=body.encode(),
        method="POST",
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            data: dict[str, Any] = orjson.loads(response.read())["data"]
            return data
    except urllib.error.HTTPError as error:
        raise RuntimeError(
            f"POST {path} answered {error.code}: {error.read().decode()[:500]}"
        ) from None


async def _read(target: Target, order_id: str, invoice_id: str) -> dict[str, list[dict[str, Any]]]:
    queries = {
        "orders": ("SELECT * FROM orders WHERE id = $1", order_id),
        "order_lines": (
            "SELECT * FROM order_lines WHERE order_id = $1 ORDER BY position",
            order_id,
        ),
        "invoices": ("SELECT * FROM invoices WHERE id = $1", invoice_id),
        "invoice_lines": (
            "SELECT * FROM invoice_lines WHERE invoice_id = $1 ORDER BY position",
            invoice_id,
        ),
    }
    if target.dialect == "sqlite":
        db = sqlite3.connect(target.name)
        db.row_factory = sqlite3.Row
        try:
            return {
                table: [dict(row) for row in db.execute(sql.replace("$1", "?"), (value,))]
                for table, (sql, value) in queries.items()
            }
        finally:
            db.close()
    connection = await asyncpg.connect(target.url)
    try:
        return {
            table: [dict(row) for row in await connection.fetch(sql, value)]
            for table, (sql, value) in queries.items()
        }
    finally:
        await connection.close()


def _differences(where: str, seeded: Any, live: Any) -> list[str]:
    """Where two rows (or answers, or dicts of lists of them) differ, but for `_VARYING` keys."""
    if isinstance(seeded, dict) and isinstance(live, dict):
        found = []
        for key in sorted(set(seeded) | set(live), key=str):
            if key in _VARYING:
                continue
            if key not in seeded or key not in live:
                found.append(
                    f"{where}.{key}: only {'seeded' if key in seeded else 'by the service'}"
                )
            else:
                found += _differences(f"{where}.{key}", seeded[key], live[key])
        return found
    if isinstance(seeded, list) and isinstance(live, list):
        if len(seeded) != len(live):
            return [f"{where}: {len(seeded)} seeded, {len(live)} by the service"]
        return [
            difference
            for index, (a, b) in enumerate(zip(seeded, live, strict=True))
            for difference in _differences(f"{where}[{index}]", a, b)
        ]
    if seeded != live:
        return [f"{where}: seeded {seeded!r}, service {live!r}"]
    return []


def _days_after_issue(row: dict[str, Any]) -> tuple[int, int]:
    issue, due, delivery = (_day(row[key]) for key in ("issue_date", "due_date", "delivery_date"))
    return (due - issue).days, (delivery - issue).days


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
