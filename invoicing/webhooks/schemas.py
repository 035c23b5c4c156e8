from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from invoicing.web.schemas import SAME_ID, Strict
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


URL = (
    "An http:// or https:// URL, without user or fragment. Loopback, private and link-local "
    "addresses are refused unless INVOICING_WEBHOOK_ALLOW_PRIVATE=true."
)
EVENTS = (
    "The event types to send (order.created, invoice.created, invoice.sent, invoice.paid, "
    'payment.created, creditnote.created, creditnote.sent), or ["*"] for all of them.'
)


class WebhookCreate(Strict):
    """A URL to receive events, and which."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://shop.example/hooks",
                    "events": ["invoice.created"],
                    "description": "",
                }
            ]
        }
    )

    url: Url = Field(description=f"Required. {URL}", examples=["https://shop.example/hooks"])
    events: EventFilter = Field(
        default_factory=lambda: [ALL], description=f'{EVENTS} Default ["*"].'
    )
    description: Description = Field(
        default="", description="A note for people, at most 500 characters.", examples=["ERP"]
    )


class WebhookUpdate(Strict):
    """Only the fields sent change; none of them may be null."""

    url: Url | None = Field(default=None, description=URL, examples=["https://shop.example/hooks"])
    events: EventFilter | None = Field(default=None, description=EVENTS)
    description: Description | None = Field(
        default=None, description="A note for people, at most 500 characters."
    )
    enabled: bool | None = Field(
        default=None,
        description="false pauses deliveries; true resumes them (the pending ones go out).",
    )


class WebhookOut(Strict):
    """A webhook endpoint, without its secret."""

    id: str = Field(description="The endpoint's id.", examples=["6939c3d02fa9114d9af87f00"])
    id_: str = Field(alias="_id", description=SAME_ID, examples=["6939c3d02fa9114d9af87f00"])
    url: str = Field(
        description="Where events are POSTed.", examples=["https://shop.example/hooks"]
    )
    events: list[str] = Field(
        description='The event types it receives, or ["*"].', examples=[["invoice.created"]]
    )
    description: str = Field(description="A note for people.", examples=["ERP"])
    enabled: bool = Field(description="Whether deliveries go out.", examples=[True])
    disabledReason: str | None = Field(
        description="Why the service disabled the endpoint (gone, or failing for 3 days)."
    )
    createdAt: str = Field(
        description="ISO 8601 UTC, with milliseconds.", examples=["2026-03-01T09:00:00.000Z"]
    )
    updatedAt: str = Field(
        description="ISO 8601 UTC, with milliseconds.", examples=["2026-03-01T09:00:00.000Z"]
    )


class WebhookWithSecretOut(WebhookOut):
    """A webhook endpoint with its signing secret (this once)."""

    secret: str = Field(
        description="The signing secret (`whsec_…`), for any Standard Webhooks library. It is "
        "shown only in this response."
    )


class DeliveryOut(Strict):
    """One event's delivery to one endpoint."""

    eventId: str = Field(
        description="The event's id: the `webhook-id` header, to dedupe on.",
        examples=["6939c4112fa9114d9af87f10"],
    )
    eventType: str = Field(description="The event type.", examples=["invoice.created"])
    status: Literal["pending", "delivered", "failed"] = Field(
        description="pending (an attempt is due), delivered (a 2xx), or failed (given up).",
        examples=["delivered"],
    )
    attempts: int = Field(description="How many attempts were made.", examples=[1])
    lastStatusCode: int | None = Field(
        description="The receiver's status code at the last attempt.", examples=[200]
    )
    lastError: str | None = Field(
        description="What went wrong at the last attempt; null after a success."
    )
    lastAttemptAt: str | None = Field(description="ISO 8601 UTC.")
    nextAttemptAt: str | None = Field(description="ISO 8601 UTC; null unless pending.")
    deliveredAt: str | None = Field(description="ISO 8601 UTC; null until delivered.")
    createdAt: str = Field(description="When the event happened (ISO 8601 UTC).")


class PingOut(Strict):
    """The ping event queued."""

    eventId: str = Field(
        description="The id of the ping event queued.", examples=["6939c4112fa9114d9af87f11"]
    )
