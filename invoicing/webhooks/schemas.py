from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from invoicing.web.schemas import Strict
from invoicing.webhooks import addresses
from invoicing.webhooks.events import ALL, EVENT_TYPES


def _http_url(url: str) -> str:
    addresses.parse(url)  # its ValueError names what is wrong
    return url


def _event_filter(events: list[str]) -> list[str]:
    if ALL in events and len(events) > 1:
        raise ValueError('["*"] stands alone: it already means every event type')
    unknown = [event for event in events if event != ALL and event not in EVENT_TYPES]
    if unknown:
        raise ValueError(
            f'unknown event type {unknown[0]!r}; known: {", ".join(EVENT_TYPES)}, or "*"'
        )
    return list(dict.fromkeys(events))  # each type once, in the order given


Url = Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(_http_url)]
EventFilter = Annotated[
    list[str],
    Field(
        min_length=1, max_length=len(EVENT_TYPES), examples=[["invoice.created", "invoice.paid"]]
    ),
    AfterValidator(_event_filter),
]
Description = Annotated[str, Field(max_length=500)]


class WebhookCreate(Strict):
    url: Url = Field(examples=["https://shop.example/hooks"])
    events: EventFilter = Field(default_factory=lambda: [ALL])
    description: Description = ""


class WebhookUpdate(Strict):
    url: Url | None = None
    events: EventFilter | None = None
    description: Description | None = None
    enabled: bool | None = None


class WebhookOut(Strict):
    id: str
    id_: str = Field(alias="_id")
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabledReason: str | None = Field(
        description="Why the service disabled the endpoint (gone, or failing for 3 days)."
    )
    createdAt: str
    updatedAt: str


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_…`). It is shown only in this response."
    )


class DeliveryOut(Strict):
    eventId: str
    eventType: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    lastStatusCode: int | None
    lastError: str | None
    lastAttemptAt: str | None
    nextAttemptAt: str | None
    deliveredAt: str | None
    createdAt: str


class PingOut(Strict):
    eventId: str
