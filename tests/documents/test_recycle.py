"""A lane replaces a render process that has grown past its budget once it has been idle a while
(invoicing.documents.lane: RECYCLE_BYTES, RECYCLE_AFTER), with real render processes."""

import asyncio
import time

import pytest

from invoicing.documents import lane as lanes
from invoicing.documents.lane import Lane
from invoicing.documents.model import InvoiceDocument
from tests.documents.test_pdf import simple_invoice

pytestmark = pytest.mark.slow


def one_page() -> InvoiceDocument:
    return InvoiceDocument.from_api(simple_invoice(lines=1), locale="en_US")


async def processes_after(lane: Lane, seconds: float) -> tuple[set[int], set[int]]:
    """The lane's process ids after a render, and `seconds` later (after one more render)."""
    await lane.render(one_page(), "a token")
    before = {process.pid for process in lane._processes}
    await asyncio.sleep(seconds)
    assert (await lane.render(one_page(), "a token")).startswith(b"%PDF-")
    return before, {process.pid for process in lane._processes}


def run(recycle_bytes: int, monkeypatch: pytest.MonkeyPatch) -> tuple[set[int], set[int]]:
    monkeypatch.setattr(lanes, "RECYCLE_BYTES", recycle_bytes)
    monkeypatch.setattr(lanes, "RECYCLE_AFTER", 0.5)

    async def scenario() -> tuple[set[int], set[int]]:
        lane = Lane("small", processes=1, queue_limit=2, per_token=2, time_limit=60)
        lane.start()
        try:
            return await processes_after(lane, 3.0)
        finally:
            await lane.close()

    return asyncio.run(scenario())


def test_a_grown_idle_process_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.monotonic()
    before, after = run(1, monkeypatch)  # every process is past a budget of one byte
    assert before and after and before.isdisjoint(after)
    assert time.monotonic() - started < 30


def test_a_process_within_its_budget_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    before, after = run(2**40, monkeypatch)
    assert before == after
