"""What an issued invoice still asks for, after its payments and credit notes."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from invoicing.core.money import ZERO


@dataclass(frozen=True, slots=True)
class Settlement:
    amount_due: Decimal
    status: str


def settle(total: Decimal, credited: Decimal, paid: Decimal, *, fully_credited: bool) -> Settlement:
    """amountDue = total - credited - paid (negative when the customer is owed money);
    `credited` once credit notes cover every quantity of it (paid before or not; told by
    quantities, as an invoice of free lines credits nothing in money), `paid` when nothing is
    due and something was paid, `partially_paid`, or `open`."""
    due = total - credited - paid
    if fully_credited:
        status = "credited"
    elif paid > ZERO:
        status = "paid" if due <= ZERO else "partially_paid"
    else:
        status = "open"
    return Settlement(due, status)


def is_overdue(amount_due: Decimal, due_date: date, today: date) -> bool:
    return amount_due > ZERO and today > due_date
