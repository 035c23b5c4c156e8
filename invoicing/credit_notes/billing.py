"""A credit note's amounts, rounded cumulatively within the invoice it credits (API.md, Money).

A line's amount is round(C_after / Q * A) minus what was already credited on it (Q, A: the
invoice line's quantity and amount; C_after: its quantity credited after this note); a group's
tax is round(credited taxable so far / the invoice's group taxable * the invoice's group tax)
minus the tax already credited for it. So crediting all of an invoice, in one or several notes,
gives back exactly its amounts, and never more."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from invoicing.core.ids import new_id
from invoicing.core.money import (
    ZERO,
    TaxGroup,
    TaxLine,
    Totals,
    cumulative,
    share,
    taxable_by_group,
    with_taxes,
)
from invoicing.db.base import Row
from invoicing.invoices.billing import group


@dataclass(frozen=True, slots=True)
class CreditPart:
    lines: list[dict[str, Any]]
    totals: Totals
    # The invoice's new figures: credited (quantity, amount) per invoice line id, and what its
    # credit notes gave back per tax group so far.
    invoice_lines: dict[str, tuple[Decimal, Decimal]]
    credited_taxes: tuple[TaxLine, ...]


def left_to_credit(line: Row) -> Decimal:
    return Decimal(line["quantity"]) - Decimal(line["credited_quantity"])


def credit_part(
    invoice_lines: Sequence[Row],
    picked: Sequence[tuple[Row, Decimal]],
    invoice_taxes: Sequence[TaxLine],
    credited_taxes: Sequence[TaxLine],
    currency: str,
) -> CreditPart:
    lines: list[dict[str, Any]] = []
    credited: dict[str, tuple[Decimal, Decimal]] = {}
    for line, quantity in picked:
        quantity_after = Decimal(line["credited_quantity"]) + quantity
        before = Decimal(line["credited_amount"])
        amount = cumulative(
            share(quantity_after, Decimal(line["quantity"]), Decimal(line["amount"]), currency),
            before,
        )
        credited[line["id"]] = (quantity_after, before + amount)
        lines.append(
            {
                "id": new_id(),
                "invoice_line_id": line["id"],
                "order_line_id": line["order_line_id"],
                "name": line["name"],
                "sku": line["sku"],
                "quantity": quantity,
                "unit_code": line["unit_code"],
                "unit_price": Decimal(line["unit_price"]),
                "tax_category": line["tax_category"],
                "tax_rate": Decimal(line["tax_rate"]),
                "exemption_reason": line["exemption_reason"],
                "exemption_reason_code": line["exemption_reason_code"],
                "amount": amount,
            }
        )
    taxable = taxable_by_group((li["amount"], group(li)) for li in lines)
    invoiced = {tax.group: tax for tax in invoice_taxes}
    so_far = {tax.group: tax for tax in credited_taxes}
    taxes: dict[TaxGroup, Decimal] = {}
    after: dict[TaxGroup, TaxLine] = dict(so_far)
    for key, credited_now in taxable.items():
        whole = invoiced[key]
        earlier = so_far.get(key, TaxLine(key[0], key[1], ZERO, ZERO))
        taxable_after = earlier.taxable + credited_now
        if whole.taxable:
            tax_after = share(taxable_after, whole.taxable, whole.amount, currency)
        else:  # lines that billed nothing: their group's tax goes back with the last of them
            fully = all(
                credited.get(line["id"], (Decimal(line["credited_quantity"]),))[0]
                == Decimal(line["quantity"])
                for line in invoice_lines
                if group(line) == key
            )
            tax_after = whole.amount if fully else ZERO
        taxes[key] = cumulative(tax_after, earlier.amount)
        after[key] = TaxLine(key[0], key[1], taxable_after, earlier.amount + taxes[key])
    return CreditPart(
        lines,
        with_taxes(taxable, taxes),
        credited,
        tuple(after[key] for key in sorted(after)),
    )
