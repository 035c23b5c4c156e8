from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from invoicing.web.schemas import Creator, Day, ExactDecimal, Strict


class PaymentCreate(Strict):
    amount: Annotated[
        Decimal,
        ExactDecimal(gt=0, le=10**16, decimal_places=4),
        Field(
            examples=[100.5],
            description="In the invoice's currency, at most its minor unit (2 decimals for EUR).",
        ),
    ]
    paidAt: Day | None = Field(
        default=None, description="Default today; never in the future.", examples=["2026-03-05"]
    )
    method: str | None = Field(default=None, max_length=40, examples=["bank_transfer"])
    reference: str | None = Field(default=None, max_length=200, examples=["SEPA 4711"])


class PaymentOut(Strict):
    id: str
    id_: str = Field(alias="_id")
    invoice: str
    amount: float
    currency: str
    paidAt: date
    method: str | None
    reference: str | None
    createdBy: Creator
    createdAt: str
