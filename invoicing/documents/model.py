"""The data an invoice document shows: the one place the PDF template's data comes from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from invoicing.core.money import TaxLine
from invoicing.core.times import iso
from invoicing.db.base import Row
from invoicing.web.serialize import loads_taxes


def _optional_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True, slots=True)
class DocumentLine:
    name: str
    sku: str | None
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    seller_name: str
    seller_address: str
    customer_name: str
    customer_email: str | None
    customer_address: str | None
    number: str
    issued_at: str
    order_id: str
    currency: str
    locale: str
    lines: tuple[DocumentLine, ...]
    taxes: tuple[TaxLine, ...]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal

    @property
    def issued_datetime(self) -> datetime:
        """issued_at ("2025-12-08T20:43:20.608Z") as an aware UTC datetime."""
        parsed = datetime.fromisoformat(self.issued_at)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)

    @classmethod
    def from_rows(
        cls,
        invoice: Row,
        lines: Iterable[Row],
        customer: Mapping[str, Any],
        *,
        seller_name: str,
        seller_address: str,
        locale: str,
    ) -> InvoiceDocument:
        """The document of a stored invoice, its lines and its customer, with exact decimals."""
        return cls(
            seller_name=seller_name,
            seller_address=seller_address,
            customer_name=str(customer["name"]),
            customer_email=_optional_str(customer.get("email")),
            customer_address=_optional_str(customer.get("address")),
            number=str(invoice["number"]),
            issued_at=iso(invoice["created_at"]),
            order_id=str(invoice["order_id"]),
            currency=str(invoice["currency"]),
            locale=locale,
            lines=tuple(
                DocumentLine(
                    name=str(line["name"]),
                    sku=_optional_str(line["sku"]),
                    quantity=Decimal(line["quantity"]),
                    unit_price=Decimal(line["unit_price"]),
                    tax_rate=Decimal(line["tax_rate"]),
                    amount=Decimal(line["amount"]),
                )
                for line in lines
            ),
            taxes=loads_taxes(invoice["taxes"]),
            subtotal=Decimal(invoice["subtotal"]),
            tax_total=Decimal(invoice["tax_total"]),
            total=Decimal(invoice["total"]),
        )
