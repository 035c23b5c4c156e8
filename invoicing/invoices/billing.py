"""An invoice's amounts, rounded cumulatively over its order (API.md, Money: split documents).

Each line's amount is round(Q_after * unitPrice) minus what the order line has been billed so
far, net of credit notes; each tax group's tax is the rounded tax of the order's net taxable in
that group after this invoice, minus the tax billed so far. So the invoices of an order add up
exactly to the order, and none of their amounts is ever negative (`money.cumulative`)."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from invoicing.core.ids import new_id
from invoicing.core.money import (
    ZERO,
    TaxGroup,
    Totals,
    cumulative,
    line_amount,
    tax,
    taxable_by_group,
    with_taxes,
)
from invoicing.db.base import Row


@dataclass(frozen=True, slots=True)
class InvoicePart:
    lines: list[dict[str, Any]]
    totals: Totals
    # The order's new net figures: (quantity, amount) per order line id, tax per group.
    order_lines: dict[str, tuple[Decimal, Decimal]]
    order_taxes: dict[TaxGroup, Decimal]


def group(line: Row) -> TaxGroup:
    return (line["tax_category"], Decimal(line["tax_rate"]))


def invoice_part(
    order_lines: Sequence[Row],
    picked: Sequence[tuple[Row, Decimal]],
    billed_taxes: dict[TaxGroup, Decimal],
    currency: str,
) -> InvoicePart:
    """The invoice of `picked` (order line, quantity) pairs of an order whose lines and net
    billed tax per group are `order_lines` and `billed_taxes`."""
    lines: list[dict[str, Any]] = []
    billed: dict[str, tuple[Decimal, Decimal]] = {}
    for line, quantity in picked:
        unit_price = Decimal(line["unit_price"])
        quantity_after = Decimal(line["invoiced_quantity"]) + quantity
        billed_before = Decimal(line["invoiced_amount"])
        amount = cumulative(line_amount(quantity_after, unit_price, currency), billed_before)
        billed[line["id"]] = (quantity_after, billed_before + amount)
        lines.append(
            {
                "id": new_id(),
                "order_line_id": line["id"],
                "name": line["name"],
                "sku": line["sku"],
                "quantity": quantity,
                "unit_code": line["unit_code"],
                "unit_price": unit_price,
                "tax_category": line["tax_category"],
                "tax_rate": Decimal(line["tax_rate"]),
                "exemption_reason": line["exemption_reason"],
                "exemption_reason_code": line["exemption_reason_code"],
                "amount": amount,
                "credited_quantity": ZERO,
                "credited_amount": ZERO,
            }
        )
    order_taxable = taxable_by_group(
        (billed.get(line["id"], (ZERO, Decimal(line["invoiced_amount"])))[1], group(line))
        for line in order_lines
    )
    taxable = taxable_by_group((li["amount"], (li["tax_category"], li["tax_rate"])) for li in lines)
    taxes: dict[TaxGroup, Decimal] = {}
    order_taxes = dict(billed_taxes)
    for key in taxable:
        before = billed_taxes.get(key, ZERO)
        taxes[key] = cumulative(tax(order_taxable[key], key[1], currency), before)
        order_taxes[key] = before + taxes[key]
    return InvoicePart(lines, with_taxes(taxable, taxes), billed, order_taxes)
