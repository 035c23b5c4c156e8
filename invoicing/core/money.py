"""Exact money (EN 16931): per-line nets, per-rate tax, currency minor units, half-up rounding."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

# Money leaves the service as JSON numbers through binary floats; 15 significant digits
# survive that round trip exactly, so amounts are kept below 10^12 (15 digits with 3 decimals).
MAX_AMOUNT = Decimal(10) ** 12
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


@dataclass(frozen=True, slots=True)
class TaxLine:
    rate: Decimal
    taxable: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Decimal
    taxes: tuple[TaxLine, ...]
    tax_total: Decimal
    total: Decimal


def totals(lines: Iterable[tuple[Decimal, Decimal]], currency: str) -> Totals:
    """Totals of (net amount, tax rate) pairs: tax is computed once per rate, on its taxable sum."""
    taxable_by_rate: dict[Decimal, Decimal] = {}
    subtotal = ZERO
    for amount, rate in lines:
        subtotal += amount
        taxable_by_rate[rate] = taxable_by_rate.get(rate, ZERO) + amount
    taxes = tuple(
        TaxLine(rate, taxable, round_money(taxable * rate / HUNDRED, currency))
        for rate, taxable in sorted(taxable_by_rate.items())
    )
    tax_total = sum((tax.amount for tax in taxes), ZERO)
    return Totals(subtotal, taxes, tax_total, subtotal + tax_total)


def number(value: Decimal) -> int | float:
    """A JSON number: integers stay integers (`30`, not `30.0`); others are shortest-repr floats."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
