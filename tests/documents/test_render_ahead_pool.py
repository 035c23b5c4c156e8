"""Renders ahead of time in the serve's render pool (invoicing.documents.pool), with its real
render processes: they take a process only while one is idle, and give it up to a request that
would otherwise wait for them, whichever server process either comes from."""

import asyncio
import time
from typing import Any

import pytest

from invoicing.core.errors import RENDERER_BUSY, ServiceUnavailable
from invoicing.documents.model import InvoiceDocument
from invoicing.documents.pool import AHEAD_TOKEN, PoolConfig
from invoicing.documents.renderer import PdfRenderer
from tests.documents.test_pdf import simple_invoice

pytestmark = pytest.mark.slow

# The huge render (twice the lines the API allows, of its longest names) takes about 20 s alone;
# a request behind it would wait that long. Given way to, the request waits for the large lane's
# process to be replaced (~1 s) and its own 51 lines (~0.3 s).
PROMPT = 8.0
HUGE = 1000


def document(lines: int, name: str | None = None) -> InvoiceDocument:
    data: dict[str, Any] = simple_invoice(lines=lines)
    if name is not None:
        for item in data["lineItems"]:
            item["name"] = name
    return InvoiceDocument.from_api(data, locale="en_US")


async def started(render: "asyncio.Task[bytes]") -> None:
    """Until the pool has had the render's request (it is under way, not merely queued here)."""
    await asyncio.sleep(1.0)
    assert not render.done()


@pytest.fixture
def renderer() -> Any:
    # A pool of its own for this test (its configuration names it), one process per lane.
    renderer = PdfRenderer(PoolConfig(processes=2, time_limit=120, per_token=5))
    yield renderer
    asyncio.run(renderer.close())


def test_a_request_takes_the_process_of_a_render_ahead(renderer: PdfRenderer) -> None:
    huge, large = document(HUGE, name="W" * 500), document(51)

    async def scenario() -> tuple[BaseException | bytes, float, bytes]:
        await renderer.render(document(1), token="warm-up")  # the pool and its processes up
        ahead = asyncio.ensure_future(renderer.render(huge, token=AHEAD_TOKEN))
        await started(ahead)
        began = time.monotonic()
        pdf = await renderer.render(large, token="a request")
        took = time.monotonic() - began
        given_up = await asyncio.gather(ahead, return_exceptions=True)
        return given_up[0], took, pdf

    given_up, took, pdf = asyncio.run(scenario())
    assert pdf.startswith(b"%PDF-")
    assert took < PROMPT, f"the request waited {took:.1f} s behind a render ahead"
    assert isinstance(given_up, ServiceUnavailable) and given_up.message == RENDERER_BUSY


def test_a_render_ahead_does_not_wait_for_a_busy_lane(renderer: PdfRenderer) -> None:
    huge = document(HUGE, name="W" * 500)

    async def scenario() -> tuple[BaseException | bytes, float]:
        await renderer.render(document(1), token="warm-up")
        request = asyncio.ensure_future(renderer.render(huge, token="a request"))
        await started(request)
        began = time.monotonic()
        [refused] = await asyncio.gather(
            renderer.render(document(60), token=AHEAD_TOKEN), return_exceptions=True
        )
        took = time.monotonic() - began
        request.cancel()  # the large lane's process is killed and replaced
        await asyncio.gather(request, return_exceptions=True)
        return refused, took

    refused, took = asyncio.run(scenario())
    assert isinstance(refused, ServiceUnavailable) and refused.message == RENDERER_BUSY
    assert took < 2.0  # told at once, not after the request's render
