from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from invoicing.core.money import CURRENCIES
from invoicing.web.parties import (
    Contact,
    ElectronicAddress,
    Email,
    PartyAddress,
    PostalAddress,
    VatId,
)
from invoicing.web.schemas import (
    EXACT,
    META_FIELDS,
    SAME_ID,
    Creator,
    ExactDecimal,
    MetaField,
    MetaFields,
    Name,
    Quantity,
    Strict,
    TaxOut,
)

OrderStatus = Literal["open", "partially_invoiced", "invoiced"]


def _known_currency(code: str) -> str:
    if code not in CURRENCIES:
        raise ValueError("must be an ISO 4217 currency code such as USD")
    return code


Currency = Annotated[
    str, Field(min_length=3, max_length=3, examples=["USD"]), AfterValidator(_known_currency)
]
UnitPrice = Annotated[
    Decimal, ExactDecimal(ge=0, le=10**11, decimal_places=4), Field(examples=[19.99])
]
TaxRate = Annotated[Decimal, ExactDecimal(ge=0, le=100, decimal_places=4), Field(examples=[8.25])]


class CustomerIn(Strict):
    """Who bought: copied onto every invoice of the order as it is at the order's creation."""

    name: Name = Field(
        min_length=1, max_length=200, description="Required; printed.", examples=["Acme GmbH"]
    )
    email: Email | None = Field(
        default=None,
        max_length=320,
        description="Where `send` mails invoices by default. A malformed address (syntax and "
        "domain form; no DNS lookup) is refused here (400).",
        examples=["billing@acme.example"],
    )
    address: PartyAddress = Field(
        default=None,
        description="Free text, or a postal address object (e-invoices need its country).",
        examples=["Main St 1, Berlin"],
    )
    vatId: VatId | None = Field(
        default=None,
        description="The buyer's VAT identifier with its country prefix (BT-48); needed for "
        "reverse charge (AE) and intra-community (K) lines.",
        examples=["DE123456789"],
    )
    legalRegistrationId: str | None = Field(
        default=None,
        max_length=100,
        description="The buyer's legal registration identifier (BT-47).",
        examples=["HRB 98765"],
    )
    buyerReference: str | None = Field(
        default=None,
        max_length=200,
        description="BT-10; the Leitweg-ID for German public buyers (XRechnung requires it).",
        examples=["04011000-12345-03"],
    )
    electronicAddress: ElectronicAddress | None = Field(
        default=None, description="Where the buyer receives e-invoices (BT-49); Peppol needs it."
    )
    contact: Contact | None = Field(default=None, description="The buyer's contact (BG-9).")


# UNCL5305 VAT categories (see the API's line rules and `orders.taxes`).
TaxCategory = Literal["S", "Z", "E", "AE", "K", "G", "O", "L", "M"]
UnitCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z0-9]{2,3}$",
        description='UN/ECE Recommendation 20 unit code; "C62" (one) by default.',
        examples=["C62", "HUR", "KGM"],
    ),
]


class OrderLineIn(Strict):
    """One line of an order; its net amount is round(quantity * unitPrice) in the currency."""

    name: Name = Field(
        min_length=1, max_length=500, description="Required; printed.", examples=["Widget"]
    )
    sku: str | None = Field(
        default=None, max_length=100, description="Your article number.", examples=["W-1"]
    )
    quantity: Quantity = Field(description=f"Above 0, at most 3 decimals. {EXACT}")
    unitCode: UnitCode = Field(
        default="C62",
        description='UN/ECE Recommendation 20 unit code; "C62" (one) by default.',
    )
    unitPrice: UnitPrice = Field(
        description=f"The net price of one unit: 0 or more, at most 4 decimals. {EXACT}"
    )
    taxRate: TaxRate = Field(
        default=Decimal(0),
        description=f"The VAT rate, a percentage from 0 to 100, at most 4 decimals; default 0. "
        f"{EXACT}",
    )
    taxCategory: TaxCategory | None = Field(
        default=None,
        description="The UNCL5305 VAT category: S standard, Z zero-rated, E exempt, AE reverse "
        "charge, K intra-community, G export, O outside the scope of VAT, L/M Canary Islands/"
        "Ceuta-Melilla. Default S when taxRate is above 0, else Z. S needs a rate above 0; Z, E, "
        "AE, K, G and O a rate of 0; an order with O lines has no other category.",
    )
    exemptionReason: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Why the line is not taxed: E, AE, K, G and O lines need this or "
        "exemptionReasonCode, the same on every line of the category.",
        examples=["Reverse charge"],
    )
    exemptionReasonCode: str | None = Field(
        default=None,
        pattern=r"^VATEX-[A-Z0-9-]{1,24}$",
        description="The exemption reason as a code of the CEF VATEX list, for the category.",
        examples=["VATEX-EU-AE"],
    )


class OrderCreate(Strict):
    """What a customer bought. Invoices are made from it, in whole or in parts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer": {
                        "name": "Acme GmbH",
                        "email": "billing@acme.example",
                        "address": "Main St 1, Berlin",
                    },
                    "currency": "USD",
                    "lineItems": [
                        {
                            "name": "Widget",
                            "sku": "W-1",
                            "quantity": 30,
                            "unitPrice": 19.99,
                            "taxRate": 8.25,
                        }
                    ],
                    "metaFields": [],
                }
            ]
        }
    )

    customer: CustomerIn = Field(description="Who bought; `name` is required.")
    deliverTo: PostalAddress | None = Field(
        default=None,
        description="Where the goods go, if not to the customer's address; required for "
        "intra-community supplies (category K).",
    )
    currency: Currency | None = Field(
        default=None,
        description="ISO 4217 code; default from configuration (USD). Amounts round to its "
        "minor unit (2 decimals for USD and EUR, 0 for JPY, 3 for KWD).",
    )
    lineItems: list[OrderLineIn] = Field(
        min_length=1, max_length=500, description="1 to 500 lines."
    )
    metaFields: MetaFields = Field(default=[], description=META_FIELDS)


class CustomerOut(Strict):
    """The customer as the order gave it."""

    name: str = Field(description="The customer's name.", examples=["Acme GmbH"])
    email: str | None = Field(
        description="Where `send` mails by default.", examples=["billing@acme.example"]
    )
    address: PostalAddress | str | None = Field(
        description="Free text, or a postal address object.", examples=["Main St 1, Berlin"]
    )
    vatId: str | None = Field(description="BT-48.", examples=["DE123456789"])
    legalRegistrationId: str | None = Field(description="BT-47.")
    buyerReference: str | None = Field(description="BT-10.")
    electronicAddress: ElectronicAddress | None = Field(description="BT-49.")
    contact: Contact | None = Field(description="The buyer's contact (BG-9).")


class DocumentLineTerms(Strict):
    """What every document line states about its unit and its tax."""

    unitCode: str = Field(description="UN/ECE Recommendation 20 unit code.", examples=["C62"])
    unitPrice: float = Field(description="The net price of one unit.", examples=[19.99])
    taxCategory: TaxCategory = Field(description="The UNCL5305 VAT category.", examples=["S"])
    taxRate: float = Field(description="The VAT rate, a percentage.", examples=[8.25])
    exemptionReason: str | None = Field(
        default=None, description="Why the line is not taxed, where its category needs one."
    )
    exemptionReasonCode: str | None = Field(
        default=None, description="The VATEX code of that reason, where given."
    )


class OrderLineOut(DocumentLineTerms):
    """A line of an order, with how much of it is invoiced."""

    id: str = Field(
        description="The line's id: name it as `lineItemId` to invoice part of the order.",
        examples=["6932f96b8cd64c28a4fb5876"],
    )
    name: str = Field(description="What was sold.", examples=["Widget"])
    sku: str | None = Field(description="Your article number.", examples=["W-1"])
    quantity: float = Field(description="How many were ordered.", examples=[30])
    amount: float = Field(description="round(quantity * unitPrice): the net.", examples=[599.7])
    invoicedQuantity: float = Field(
        description="Net invoiced so far: invoiced minus credited.", examples=[0]
    )


class OrderOut(Strict):
    """An order: what a customer bought, its exact totals, and how far it is invoiced."""

    id: str = Field(description="The order's id.", examples=["6932f96b8cd64c28a4fb5873"])
    id_: str = Field(alias="_id", description=SAME_ID, examples=["6932f96b8cd64c28a4fb5873"])
    customer: CustomerOut = Field(description="Who bought.")
    deliverTo: PostalAddress | None = Field(description="Where the goods go, if given.")
    currency: str = Field(description="ISO 4217 code.", examples=["USD"])
    lineItems: list[OrderLineOut] = Field(description="The lines, in the order given.")
    subtotal: float = Field(description="The sum of the line amounts.", examples=[599.7])
    taxes: list[TaxOut] = Field(
        description="One entry per (category, rate), ordered by category then rate."
    )
    taxTotal: float = Field(description="The sum of the tax amounts.", examples=[49.48])
    total: float = Field(description="subtotal + taxTotal.", examples=[649.18])
    status: OrderStatus = Field(
        description="open (nothing invoiced), partially_invoiced, or invoiced (all of it).",
        examples=["open"],
    )
    metaFields: list[MetaField] = Field(description="Your own key/value pairs.")
    createdBy: Creator = Field(description="The token that created it.")
    createdAt: str = Field(
        description="ISO 8601 UTC, with milliseconds.", examples=["2025-12-08T20:43:20.608Z"]
    )
    updatedAt: str = Field(
        description="ISO 8601 UTC, with milliseconds.", examples=["2025-12-08T20:43:20.608Z"]
    )
