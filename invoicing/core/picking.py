"""Which quantities of a document's lines a request picks (an invoice of an order's lines, a
credit note of an invoice's lines): each line at most once, never more than is left."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from invoicing.core.errors import ValidationFailed
from invoicing.core.ids import ID_FORMAT, is_id
from invoicing.core.money import number
from invoicing.db.base import Row


@dataclass(frozen=True, slots=True)
class Lines:
    """How a request names the lines (`lineItemId`), how the lines are called in messages
    ("line item of this order"), and what is left of each (`left`, "left to invoice")."""

    id_field: str
    of_what: str
    left: Callable[[Row], Decimal]
    left_to: str


def pick(
    lines: Sequence[Row], requested: Sequence[tuple[str, Decimal]], kind: Lines
) -> list[tuple[Row, Decimal]]:
    """(line, quantity) for each requested (line id, quantity); 400 naming the request's line
    for an unknown or repeated line or a quantity above what is left."""
    by_id = {line["id"]: line for line in lines}
    picked: list[tuple[Row, Decimal]] = []
    for index, (line_id, quantity) in enumerate(requested):
        field = f"lineItems[{index}]"
        line = by_id.get(line_id)
        if line is None:
            problem = f"{line_id} is not a {kind.of_what}" if is_id(line_id) else ID_FORMAT
            raise ValidationFailed.on(f"{field}.{kind.id_field}", problem)
        if any(earlier["id"] == line_id for earlier, _ in picked):
            raise ValidationFailed.on(
                f"{field}.{kind.id_field}", f"{line_id} is listed more than once"
            )
        left = kind.left(line)
        if quantity > left:
            raise ValidationFailed.on(
                f"{field}.quantity",
                f"{number(quantity)} exceeds the {number(left)} {kind.left_to} {line_id}",
            )
        picked.append((line, quantity))
    return picked
