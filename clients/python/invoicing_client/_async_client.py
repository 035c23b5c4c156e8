"""The async client: its transport (requests, retries, errors) and every resource, written once.

`_sync_client.py` is generated from this file by `scripts/generate_sync.py` (`async def` ->
`def`, `await x` -> `x`, `AsyncFoo` -> `Foo`, `asyncio.sleep` -> `time.sleep`, ...); a test fails
when it is out of date. Everything that is not I/O (bodies, retry policy, parsing, errors) is in
`_core.py`, shared by both.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel

from invoicing_client import _core
from invoicing_client._core import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, Request, RetryPolicy
from invoicing_client.models import (
    CreditNote,
    Delivery,
    Invoice,
    InvoiceStatus,
    NewToken,
    Order,
    OrderStatus,
    Payment,
    Seller,
    Token,
    WebhookEndpoint,
    WebhookEndpointWithSecret,
    WebhookPing,
)
from invoicing_client.params import (
    BankAccountParams,
    CiiProfile,
    ContactParams,
    CreditNoteLineItemParams,
    CustomerParams,
    ElectronicAddressParams,
    InvoiceLineItemParams,
    MetaFields,
    Number,
    OrderLineItemParams,
    PostalAddressParams,
    TokenType,
    UblProfile,
)

__all__ = ["AsyncClient"]

M = TypeVar("M", bound=BaseModel)
_id = _core.path_id


class AsyncTransport:
    """Sends a `Request`, retrying it as its `Safety` and the `RetryPolicy` allow, and returns the
    2xx response or raises the `InvoicingError` for what happened."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float | httpx.Timeout,
        max_retries: int,
        http_client: httpx.AsyncClient | None,
    ) -> None:
        if not token:
            raise ValueError("an access token is required")
        self.base_url = base_url.rstrip("/")
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": _core.user_agent(),
        }
        self.owns_http = http_client is None
        if http_client is None:  # its own: the headers go on every request by default
            self.http = httpx.AsyncClient(timeout=timeout, headers=self.headers)
            self.request_headers: dict[str, str] = {}
        else:  # the caller's: the headers are added to each request
            self.http = http_client
            self.request_headers = dict(self.headers)
        self.policy = RetryPolicy(max_retries=max_retries)
        self.sleep: Callable[[float], Any] = asyncio.sleep

    async def send(self, request: Request) -> httpx.Response:
        url = self.base_url + request.path
        headers = {**self.request_headers, **request.headers} or None
        retry = 0
        while True:
            try:
                response = await self.http.request(
                    request.method, url, params=request.params, content=request.content,
                    headers=headers,
                )  # fmt: skip
            except httpx.TransportError as error:
                wait = self.policy.after_error(request, error, retry)
                if wait is None:
                    raise _core.network_error(error, retry + 1) from error
            else:
                if response.is_success:
                    return response
                wait = self.policy.after_response(request, response, retry)
                if wait is None:
                    raise _core.error(response)
            retry += 1
            await self.sleep(wait)

    async def data(self, request: Request, model: type[M]) -> M:
        return _core.data(await self.send(request), model)

    async def content(self, request: Request) -> bytes:
        response = await self.send(request)
        return response.content

    async def pages(
        self, path: str, params: Mapping[str, Any], model: type[M]
    ) -> AsyncIterator[M]:
        """Every item of a list, page after page, following `nextCursor` until it is null."""
        cursor: str | None = None
        while True:
            request = _core.get(path, {**params, "cursor": cursor})
            items, cursor = _core.page(await self.send(request), model)
            for item in items:
                yield item
            if cursor is None:
                return

    async def close(self) -> None:
        if self.owns_http:
            await self.http.aclose()


class _AsyncResource:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport


class AsyncOrdersResource(_AsyncResource):
    async def create(
        self,
        *,
        customer: CustomerParams,
        line_items: Sequence[OrderLineItemParams],
        currency: str | None = None,
        deliver_to: PostalAddressParams | None = None,
        meta_fields: MetaFields | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """Create an order (`POST /orders`). Sent with an `Idempotency-Key` (yours, or one made
        for this call), so a retry after a lost answer creates it once."""
        body = _core.body(
            customer=customer, deliver_to=deliver_to, currency=currency, line_items=line_items,
            meta_fields=meta_fields,
        )  # fmt: skip
        return await self._t.data(_core.create("/orders", body, idempotency_key), Order)

    async def get(self, order_id: str) -> Order:
        return await self._t.data(_core.get(f"/orders/{_id(order_id)}"), Order)

    def list(
        self, *, status: OrderStatus | None = None, limit: int = 100
    ) -> AsyncIterator[Order]:
        """Every order (or those with `status`), newest first; `limit` is the page size (1 to
        100): the iterator fetches the next page when it needs it."""
        return self._t.pages("/orders", {"status": status, "limit": limit}, Order)


class AsyncInvoicesResource(_AsyncResource):
    async def create(
        self,
        *,
        order_id: str,
        line_items: Sequence[InvoiceLineItemParams] | None = None,
        meta_fields: MetaFields | None = None,
        due_date: date | None = None,
        payment_terms_days: int | None = None,
        delivery_date: date | None = None,
        idempotency_key: str | None = None,
    ) -> Invoice:
        """Invoice an order (`POST /invoices`): all of what is left, or the `line_items` given
        (`[{"line_item_id": ..., "quantity": 5}]`). Sent with an `Idempotency-Key`, so a retry
        after a lost answer creates one invoice."""
        body = _core.body(
            order_id=order_id, line_items=line_items, meta_fields=meta_fields,
            due_date=due_date, payment_terms_days=payment_terms_days,
            delivery_date=delivery_date,
        )  # fmt: skip
        return await self._t.data(_core.create("/invoices", body, idempotency_key), Invoice)

    async def get(self, invoice_id: str) -> Invoice:
        return await self._t.data(_core.get(f"/invoices/{_id(invoice_id)}"), Invoice)

    def list(
        self,
        *,
        order_id: str | None = None,
        status: InvoiceStatus | None = None,
        overdue: bool | None = None,
        number: str | None = None,
        limit: int = 100,
    ) -> AsyncIterator[Invoice]:
        """Every invoice matching the filters, newest first; `limit` is the page size (1 to
        100): the iterator fetches the next page when it needs it."""
        params = {
            "order_id": order_id, "status": status, "overdue": overdue, "number": number,
            "limit": limit,
        }  # fmt: skip
        return self._t.pages("/invoices", params, Invoice)

    async def update(self, invoice_id: str, *, meta_fields: MetaFields) -> Invoice:
        """Replace the invoice's metaFields (nothing else of an issued invoice changes)."""
        body = _core.body(meta_fields=meta_fields)
        request = _core.replace("PATCH", f"/invoices/{_id(invoice_id)}", body)
        return await self._t.data(request, Invoice)

    async def pdf(self, invoice_id: str) -> bytes:
        """The invoice as PDF (a PDF/A-3 with its Factur-X XML when its data is complete)."""
        return await self._t.content(_core.get(f"/invoices/{_id(invoice_id)}/pdf"))

    async def ubl(self, invoice_id: str, profile: UblProfile | None = None) -> bytes:
        """The invoice as UBL 2.1 XML (Peppol BIS 3 by default; `profile="xrechnung"`).
        Raises UnprocessableEntity naming what the e-invoice lacks."""
        request = _core.get(f"/invoices/{_id(invoice_id)}/ubl", {"profile": profile})
        return await self._t.content(request)

    async def cii(self, invoice_id: str, profile: CiiProfile | None = None) -> bytes:
        """The invoice as UN/CEFACT CII XML (EN 16931 by default; `profile="xrechnung"`)."""
        request = _core.get(f"/invoices/{_id(invoice_id)}/cii", {"profile": profile})
        return await self._t.content(request)

    async def send(self, invoice_id: str, to: str | None = None) -> Invoice:
        """Email the invoice with its PDF, to `to` or the order's customer.

        Not retried once the request may have reached the service (the service has no
        idempotency key for it, and a retry could mail it twice): only a connection that could
        not be made is retried. A 429 (the sends per hour are used up) raises RateLimited."""
        request = _core.action("POST", f"/invoices/{_id(invoice_id)}/send", _core.body(to=to))
        return await self._t.data(request, Invoice)


class AsyncPaymentsResource(_AsyncResource):
    async def create(
        self,
        invoice_id: str,
        *,
        amount: Number,
        paid_at: date | None = None,
        method: str | None = None,
        reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Payment:
        """Record a payment against an invoice (its amountDue and status follow). Sent with an
        `Idempotency-Key`, so a retry after a lost answer records it once."""
        body = _core.body(amount=amount, paid_at=paid_at, method=method, reference=reference)
        request = _core.create(f"/invoices/{_id(invoice_id)}/payments", body, idempotency_key)
        return await self._t.data(request, Payment)


class AsyncCreditNotesResource(_AsyncResource):
    async def create(
        self,
        invoice_id: str,
        *,
        reason: str,
        line_items: Sequence[CreditNoteLineItemParams] | None = None,
        meta_fields: MetaFields | None = None,
        idempotency_key: str | None = None,
    ) -> CreditNote:
        """Credit an invoice: all of what is not credited yet, or the `line_items` given
        (`[{"invoice_line_id": ..., "quantity": 2}]`). Sent with an `Idempotency-Key`."""
        body = _core.body(reason=reason, line_items=line_items, meta_fields=meta_fields)
        path = f"/invoices/{_id(invoice_id)}/credit-notes"
        return await self._t.data(_core.create(path, body, idempotency_key), CreditNote)

    async def get(self, credit_note_id: str) -> CreditNote:
        return await self._t.data(_core.get(f"/credit-notes/{_id(credit_note_id)}"), CreditNote)

    def list(
        self,
        *,
        invoice_id: str | None = None,
        order_id: str | None = None,
        limit: int = 100,
    ) -> AsyncIterator[CreditNote]:
        """Every credit note matching the filters, newest first (`limit`: the page size)."""
        params = {"invoice_id": invoice_id, "order_id": order_id, "limit": limit}
        return self._t.pages("/credit-notes", params, CreditNote)

    async def update(self, credit_note_id: str, *, meta_fields: MetaFields) -> CreditNote:
        """Replace the credit note's metaFields."""
        body = _core.body(meta_fields=meta_fields)
        request = _core.replace("PATCH", f"/credit-notes/{_id(credit_note_id)}", body)
        return await self._t.data(request, CreditNote)

    async def pdf(self, credit_note_id: str) -> bytes:
        return await self._t.content(_core.get(f"/credit-notes/{_id(credit_note_id)}/pdf"))

    async def ubl(self, credit_note_id: str, profile: UblProfile | None = None) -> bytes:
        request = _core.get(f"/credit-notes/{_id(credit_note_id)}/ubl", {"profile": profile})
        return await self._t.content(request)

    async def cii(self, credit_note_id: str, profile: CiiProfile | None = None) -> bytes:
        request = _core.get(f"/credit-notes/{_id(credit_note_id)}/cii", {"profile": profile})
        return await self._t.content(request)

    async def send(self, credit_note_id: str, to: str | None = None) -> CreditNote:
        """Email the credit note with its PDF. Retried only when the connection could not be
        made (as `invoices.send`)."""
        path = f"/credit-notes/{_id(credit_note_id)}/send"
        return await self._t.data(_core.action("POST", path, _core.body(to=to)), CreditNote)


class AsyncWebhooksResource(_AsyncResource):
    """Webhook endpoints (admin token). Verify what they receive with
    `invoicing_client.webhooks.verify`."""

    async def create(
        self,
        *,
        url: str,
        events: Sequence[str] | None = None,
        description: str | None = None,
    ) -> WebhookEndpointWithSecret:
        """Add an endpoint; its `secret` is in this answer only. The service does not dedupe
        this create, so it is retried only when the connection could not be made."""
        body = _core.body(url=url, events=events, description=description)
        request = _core.action("POST", "/webhooks", body)
        return await self._t.data(request, WebhookEndpointWithSecret)

    async def get(self, endpoint_id: str) -> WebhookEndpoint:
        return await self._t.data(_core.get(f"/webhooks/{_id(endpoint_id)}"), WebhookEndpoint)

    def list(self, *, limit: int = 100) -> AsyncIterator[WebhookEndpoint]:
        return self._t.pages("/webhooks", {"limit": limit}, WebhookEndpoint)

    async def update(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> WebhookEndpoint:
        """Change what is given (`enabled=True` re-enables a disabled endpoint)."""
        body = _core.body(url=url, events=events, description=description, enabled=enabled)
        request = _core.replace("PATCH", f"/webhooks/{_id(endpoint_id)}", body)
        return await self._t.data(request, WebhookEndpoint)

    async def delete(self, endpoint_id: str) -> WebhookEndpoint:
        """Delete the endpoint. Retried like a read: should the first answer be lost, the retry
        raises NotFound (the endpoint is gone either way)."""
        request = _core.replace("DELETE", f"/webhooks/{_id(endpoint_id)}")
        return await self._t.data(request, WebhookEndpoint)

    async def rotate_secret(self, endpoint_id: str) -> WebhookEndpointWithSecret:
        """A new secret (the old one keeps signing too for 24 hours). Not repeated: retried
        only when the connection could not be made."""
        request = _core.action("POST", f"/webhooks/{_id(endpoint_id)}/rotate-secret")
        return await self._t.data(request, WebhookEndpointWithSecret)

    async def test(self, endpoint_id: str) -> WebhookPing:
        """Queue a signed `ping` to the endpoint. Retried only when the connection could not be
        made (a retry after a lost answer would ping twice)."""
        request = _core.action("POST", f"/webhooks/{_id(endpoint_id)}/test")
        return await self._t.data(request, WebhookPing)

    def deliveries(self, endpoint_id: str, *, limit: int = 100) -> AsyncIterator[Delivery]:
        """Every event delivery to the endpoint and how it went, newest first."""
        path = f"/webhooks/{_id(endpoint_id)}/deliveries"
        return self._t.pages(path, {"limit": limit}, Delivery)

    async def retry(self, endpoint_id: str, event_id: str) -> Delivery:
        """Send an event to the endpoint again now. Retried only when the connection could not
        be made."""
        path = f"/webhooks/{_id(endpoint_id)}/deliveries/{_id(event_id)}/retry"
        return await self._t.data(_core.action("POST", path), Delivery)


class AsyncSellerResource(_AsyncResource):
    async def get(self) -> Seller:
        return await self._t.data(_core.get("/seller"), Seller)

    async def put(
        self,
        *,
        name: str,
        legal_name: str | None = None,
        address: PostalAddressParams | str | None = None,
        vat_id: str | None = None,
        tax_registration_id: str | None = None,
        legal_registration_id: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        contact: ContactParams | None = None,
        electronic_address: ElectronicAddressParams | None = None,
        bank_account: BankAccountParams | None = None,
        payment_terms_days: int | None = None,
    ) -> Seller:
        """Replace the whole seller profile (admin token): what is not given takes its default.
        The same profile sent twice is the same profile, so it is retried like a read."""
        body = _core.body(
            name=name, legal_name=legal_name, address=address, vat_id=vat_id,
            tax_registration_id=tax_registration_id, legal_registration_id=legal_registration_id,
            email=email, phone=phone, contact=contact, electronic_address=electronic_address,
            bank_account=bank_account, payment_terms_days=payment_terms_days,
        )  # fmt: skip
        return await self._t.data(_core.replace("PUT", "/seller", body), Seller)


class AsyncTokensResource(_AsyncResource):
    """Access tokens (admin token)."""

    async def create(self, *, name: str, type: TokenType = "api") -> NewToken:
        """A new token; its secret (`.token`) is in this answer only. The service does not dedupe
        this create, so it is retried only when the connection could not be made."""
        body = _core.body(name=name, type=type)
        return await self._t.data(_core.action("POST", "/tokens", body), NewToken)

    async def list(self, *, include_revoked: bool = False) -> builtins.list[Token]:
        request = _core.get("/tokens", {"include_revoked": include_revoked})
        return _core.data_list(await self._t.send(request), Token)

    async def revoke(self, token_id: str) -> Token:
        """Revoke a token: it stops working at its next request."""
        return await self._t.data(_core.replace("DELETE", f"/tokens/{_id(token_id)}"), Token)


class AsyncClient:
    """The invoicing service's API, asynchronously (over `httpx.AsyncClient`):

        async with AsyncClient("https://invoicing.example", token) as client:
            invoice = await client.invoices.get("6b06...")
            async for invoice in client.invoices.list(status="open"):
                ...

    `timeout`: seconds (or an `httpx.Timeout`) for each attempt. `max_retries`: how many times a
    call is retried after a network error or a 429, 502, 503 or 504 (creates reuse their
    Idempotency-Key; actions the service does not dedupe are retried only when the connection
    could not be made); see `_core.RetryPolicy`. `http_client`: an `httpx.AsyncClient` of your
    own (proxies, TLS, transports); then closing it stays yours."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._transport = transport = AsyncTransport(
            base_url, token, timeout=timeout, max_retries=max_retries, http_client=http_client
        )
        self.orders = AsyncOrdersResource(transport)
        self.invoices = AsyncInvoicesResource(transport)
        self.payments = AsyncPaymentsResource(transport)
        self.credit_notes = AsyncCreditNotesResource(transport)
        self.webhooks = AsyncWebhooksResource(transport)
        self.seller = AsyncSellerResource(transport)
        self.tokens = AsyncTokensResource(transport)

    async def aclose(self) -> None:
        """Close the connections (only those of an `http_client` this client made itself)."""
        await self._transport.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

