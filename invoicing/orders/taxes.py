"""Which VAT category each order line falls in, and the EN 16931 rules the categories impose."""

from collections.abc import Sequence
from decimal import Decimal

from invoicing.core.errors import ValidationFailed
from invoicing.orders import vatex
from invoicing.orders.schemas import OrderLineIn

# Categories taxed at 0 % for a reason the invoice must state (BR-E-10, BR-AE-10, BR-IC-10,
# BR-G-10, BR-O-10): a text or a VATEX code, the same for every line of the category.
NEEDS_REASON = frozenset({"E", "AE", "K", "G", "O"})
ZERO_RATED = NEEDS_REASON | {"Z"}


def category(line: OrderLineIn) -> str:
    if line.taxCategory is not None:
        return line.taxCategory
    return "S" if line.taxRate > 0 else "Z"


def check(lines: Sequence[OrderLineIn]) -> dict[str, tuple[str | None, str | None]]:
    """Refuse lines that break a category's rules (400 naming the line and field); return each
    exempt category's (reason, code)."""
    exemptions: dict[str, tuple[str | None, str | None]] = {}
    categories = [category(line) for line in lines]
    for index, (line, kind) in enumerate(zip(lines, categories, strict=True)):
        field = f"lineItems[{index}]"
        if kind == "S" and line.taxRate <= 0:
            raise ValidationFailed.on(f"{field}.taxRate", "must be above 0 for category S")
        if kind in ZERO_RATED and line.taxRate != Decimal(0):
            raise ValidationFailed.on(f"{field}.taxRate", f"must be 0 for category {kind}")
        reason = (line.exemptionReason, line.exemptionReasonCode)
        if kind not in NEEDS_REASON:
            if reason != (None, None):
                raise ValidationFailed.on(
                    f"{field}.exemptionReason", f"is only for categories {_names(NEEDS_REASON)}"
                )
            continue
        if reason == (None, None):
            raise ValidationFailed.on(
                f"{field}.exemptionReason",
                f"or exemptionReasonCode is required for category {kind}",
            )
        code = line.exemptionReasonCode
        if code is not None and (wrong := vatex.problem(code, kind)):
            raise ValidationFailed.on(f"{field}.exemptionReasonCode", wrong)
        if exemptions.setdefault(kind, reason) != reason:
            raise ValidationFailed.on(
                f"{field}.exemptionReason",
                f"must be the same on every line of category {kind} (with exemptionReasonCode)",
            )
    if "O" in categories and set(categories) != {"O"}:
        index = next(i for i, kind in enumerate(categories) if kind != "O")
        raise ValidationFailed.on(
            f"lineItems[{index}].taxCategory",
            "cannot be mixed with category O (outside the scope of VAT) in one order",
        )
    return exemptions


def _names(categories: frozenset[str]) -> str:
    return ", ".join(sorted(categories))
