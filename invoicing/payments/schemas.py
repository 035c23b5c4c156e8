from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field

from invoicing.web.schemas import EXACT, SAME_ID, Creator, Day, ExactDecimal, Strict


class PaymentCreate(Strict):
    """Money received against an invoice."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "amount": 100.5,
                    "paidAt": "2026-03-05",
                    "method": "bank_transfer",
                    "reference": "SEPA 4711",
                }
            ]
        }
    )

    amount: Annotated[
        Decimal,
        ExactDecimal(gt=0, le=10**16, decimal_places=4),
        Field(
            examples=[100.5],
            description="Above 0 and at most the invoice's amountDue, in the invoice's currency "
            f"and at most its minor unit (2 decimals for EUR). {EXACT}",
        ),
    ]
    paidAt: Day | None = Field(
        default=None,
        description="YYYY-MM-DD, when the money arrived; default today; never in the future.",
        examples=["2026-03-05"],
    )
    method: str | None = Field(
        default=None,
        max_length=40,
        description="How it was paid, free text.",
        examples=["bank_transfer"],
    )
    reference: str | None = Field(
        default=None,
        max_length=200,
        description="The bank's or PSP's reference.",
        examples=["SEPA 4711"],
    )


class PaymentOut(Strict):
    """A payment recorded against an invoice; never edited or deleted."""

    id: str = Field(description="The payment's id.", examples=["6939a1b22fa9114d9af87e01"])
    id_: str = Field(alias="_id", description=SAME_ID, examples=["6939a1b22fa9114d9af87e01"])
    invoice: str = Field(description="The invoice's id.", examples=["693738682fa9114d9af87d29"])
    amount: float = Field(description="The amount paid.", examples=[100.5])
    currency: str = Field(description="The invoice's currency.", examples=["USD"])
    paidAt: date = Field(description="When the money arrived.", examples=["2026-03-05"])
    method: str | None = Field(description="How it was paid.", examples=["bank_transfer"])
    reference: str | None = Field(description="The payment's reference.", examples=["SEPA 4711"])
    createdBy: Creator = Field(description="The token that recorded it.")
    createdAt: str = Field(
        description="ISO 8601 UTC, with milliseconds.", examples=["2026-03-05T10:12:44.021Z"]
    )
