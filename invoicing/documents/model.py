"""The data an invoice document shows: the one place the PDF template's data comes from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


def _decimal(value: Any, field: str) -> Decimal:
    """Convert an API number (int, float, Decimal or numeric string) to an exact Decimal."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{field} must be a number, got {value!r}")
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{field} must be a number, got {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"{field} must be a finite number, got {value!r}")
    return result


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
class DocumentTax:
    rate: Decimal
    taxable: Decimal
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
    taxes: tuple[DocumentTax, ...]
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
    def from_invoice(
        cls,
        invoice: Mapping[str, Any],
        customer: Mapping[str, Any],
        *,
        seller_name: str,
        seller_address: str,
        locale: str,
    ) -> InvoiceDocument:
        """Build the document from the API's invoice JSON and the order's customer dict."""
        lines: Iterable[Mapping[str, Any]] = invoice["lineItems"]
        taxes: Iterable[Mapping[str, Any]] = invoice.get("taxes") or ()
        return cls(
            seller_name=seller_name,
            seller_address=seller_address,
            customer_name=str(customer["name"]),
            customer_email=_optional_str(customer.get("email")),
            customer_address=_optional_str(customer.get("address")),
            number=str(invoice["entityId"]),
            issued_at=str(invoice["createdAt"]),
            order_id=str(invoice["order"]),
            currency=str(invoice["currency"]).upper(),
            locale=locale,
            lines=tuple(
                DocumentLine(
                    name=str(line["name"]),
                    sku=_optional_str(line.get("sku")),
                    quantity=_decimal(line["quantity"], "quantity"),
                    unit_price=_decimal(line["unitPrice"], "unitPrice"),
                    tax_rate=_decimal(line.get("taxRate", 0), "taxRate"),
                    amount=_decimal(line["amount"], "amount"),
                )
                for line in lines
            ),
            taxes=tuple(
                DocumentTax(
                    rate=_decimal(tax["rate"], "rate"),
                    taxable=_decimal(tax["taxable"], "taxable"),
                    amount=_decimal(tax["amount"], "amount"),
                )
                for tax in taxes
            ),
            subtotal=_decimal(invoice["subtotal"], "subtotal"),
            tax_total=_decimal(invoice["taxTotal"], "taxTotal"),
            total=_decimal(invoice["total"], "total"),
        )
