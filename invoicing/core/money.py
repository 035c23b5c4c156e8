"""Exact money (EN 16931): per-line nets, per-rate tax, currency minor units, half-up rounding."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

# What the money columns hold: NUMERIC(20, 4) (`Money` in invoicing/db/tables.py), 16 digits
# before the point. No amount of an order or of its invoices (line nets, taxable sums, taxes,
# totals, invoiced amounts) exceeds the order's total, so a total below 10^16 fits every column,
# where PostgreSQL would refuse the row ("numeric field overflow") and SQLite's TEXT would not.
# Below it the arithmetic is exact as well: a taxable sum (20 digits) times a rate (at most 7)
# has 27 digits, inside the default 28-digit decimal context. Amounts leave as their exact
# decimal text (`number`), never through a binary float, so JSON does not limit them.
MAX_AMOUNT = Decimal(10) ** 16
ZERO = Decimal(0)
HUNDRED = Decimal(100)

CURRENCIES: frozenset[str] = frozenset(list_currencies())


@cache
def minor_unit(currency: str) -> Decimal:
    """The currency's smallest unit: Decimal('0.01') for USD, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_money(value: Decimal, currency: str) -> Decimal:
    return value.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def line_amount(quantity: Decimal, unit_price: Decimal, currency: str) -> Decimal:
    return round_money(quantity * unit_price, currency)


# A tax group: (UNCL5305 category, rate). Tax is computed once per group, on its taxable sum.
TaxGroup = tuple[str, Decimal]


@dataclass(frozen=True, slots=True)
class TaxLine:
    category: str
    rate: Decimal
    taxable: Decimal
    amount: Decimal

    @property
    def group(self) -> TaxGroup:
        return (self.category, self.rate)


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Decimal
    taxes: tuple[TaxLine, ...]
    tax_total: Decimal
    total: Decimal


def tax(taxable: Decimal, rate: Decimal, currency: str) -> Decimal:
    return round_money(taxable * rate / HUNDRED, currency)


def taxable_by_group(lines: Iterable[tuple[Decimal, TaxGroup]]) -> dict[TaxGroup, Decimal]:
    """Σ net amounts per tax group of (net amount, group) pairs."""
    sums: dict[TaxGroup, Decimal] = {}
    for amount, group in lines:
        sums[group] = sums.get(group, ZERO) + amount
    return sums


def totals(lines: Iterable[tuple[Decimal, TaxGroup]], currency: str) -> Totals:
    """Totals of (net amount, tax group) pairs: tax is computed once per group, on its taxable
    sum; the breakdown is ordered by category, then rate."""
    taxable = taxable_by_group(lines)
    return with_taxes(
        taxable, {group: tax(sum_, group[1], currency) for group, sum_ in taxable.items()}
    )


def with_taxes(taxable: dict[TaxGroup, Decimal], taxes: dict[TaxGroup, Decimal]) -> Totals:
    """Totals from each group's taxable sum and its (already computed) tax."""
    lines = tuple(
        TaxLine(category, rate, taxable[(category, rate)], taxes[(category, rate)])
        for category, rate in sorted(taxable)
    )
    subtotal = sum(taxable.values(), ZERO)
    tax_total = sum((line.amount for line in lines), ZERO)
    return Totals(subtotal, lines, tax_total, subtotal + tax_total)


def cumulative(target_after: Decimal, billed_before: Decimal) -> Decimal:
    """This document's part of a running amount: what the whole should be after it, minus what
    was billed before, never below 0 (a shortfall is carried to the next document)."""
    return max(ZERO, target_after - billed_before)


def share(part: Decimal, whole: Decimal, amount: Decimal, currency: str) -> Decimal:
    """round(part / whole * amount): a proportional part of an amount, exact before rounding
    (multiplied first, so 1/3 of 0.30 is 0.10, not 0.0999…); all of it when part is whole."""
    if part == whole:
        return amount
    # Two amounts of up to 20 digits multiply to 40: more than the default 28-digit context
    # holds exactly (found by review: 1 cent off at 10^12).
    with localcontext(prec=60):
        return round_money(part * amount / whole, currency)


_DIGITS = "0123456789"


def number(value: Decimal | str) -> str:
    """The exact JSON number a decimal spells, as canonical text: `30` (not `30.000`, `30.0` or
    `3E+1`), `19.99`, `0.1`; never an exponent, never `-0`. `value` is a Decimal or the text of a
    stored one (SQLite keeps `str(Decimal)`, PostgreSQL's NUMERIC arrives as `649.1800`).

    Digit for digit at any size: no binary float on the way. Plain non-negative text, all that
    stored money and quantities are in practice, costs two scans and a strip."""
    text = value if value.__class__ is str else str(value)
    if text[0] in _DIGITS and "E" not in text:
        return text.rstrip("0").rstrip(".") if "." in text else text
    return _written_out(Decimal(text))


def _written_out(value: Decimal) -> str:
    """An exponent form, a negative number or a zero with a sign, written out."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a number JSON can carry")
    if not value:
        return "0"
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
