"""invoicing.core.money: pure functions, no database, no HTTP."""

import re
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.core.money import (
    MAX_AMOUNT,
    ZERO,
    TaxLine,
    line_amount,
    minor_unit,
    number,
    round_money,
    share,
    totals,
)
from invoicing.db import tables

D = Decimal
CANONICAL = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?")
CURRENCY_DIGITS = {"JPY": 0, "USD": 2, "EUR": 2, "KWD": 3, "BHD": 3, "CLF": 4, "UYW": 4}
currencies = st.sampled_from(sorted(CURRENCY_DIGITS))
amounts = st.decimals(min_value=-(10**16), max_value=10**16, places=6, allow_nan=False)


# --- minor_unit ------------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "digits"), sorted(CURRENCY_DIGITS.items()))
def test_minor_unit(currency, digits):
    assert minor_unit(currency) == D(1).scaleb(-digits)
    assert minor_unit(currency).as_tuple().exponent == -digits


# --- round_money: half up, i.e. ties away from zero, to the currency's minor unit -------------


@pytest.mark.parametrize(
    ("value", "currency", "rounded"),
    [
        ("0.005", "USD", "0.01"),  # halfway: up, not to even (banker's would give 0.00)
        ("0.015", "USD", "0.02"),
        ("0.025", "USD", "0.03"),  # banker's would give 0.02
        ("0.0049999", "USD", "0.00"),
        ("2.675", "USD", "2.68"),  # float(2.675) is below the tie and rounds to 2.67
        ("-0.005", "USD", "-0.01"),  # negative ties go away from zero too
        ("-0.025", "USD", "-0.03"),
        ("-0.0049", "USD", "-0.00"),
        ("1000.5", "JPY", "1001"),
        ("1000.49", "JPY", "1000"),
        ("-1000.5", "JPY", "-1001"),
        ("1.2345", "KWD", "1.235"),
        ("1.23449", "KWD", "1.234"),
        ("0.00005", "CLF", "0.0001"),
        ("584136075291.64015", "CLF", "584136075291.6402"),
        ("9999999999999999.995", "USD", "10000000000000000.00"),
    ],
)
def test_round_money_half_up(value, currency, rounded):
    result = round_money(D(value), currency)
    assert result == D(rounded)
    assert result.as_tuple().exponent == minor_unit(currency).as_tuple().exponent


@given(amounts, currencies)
def test_round_money_is_the_nearest_minor_unit_ties_away_from_zero(value, currency):
    unit = minor_unit(currency)
    result = round_money(value, currency)
    assert result % unit == 0
    assert abs(result - value) <= unit / 2
    if abs(result - value) == unit / 2:  # a tie: away from zero
        assert abs(result) > abs(value)
    assert round_money(-value, currency) == -result  # symmetric
    assert round_money(result, currency) == result  # idempotent


# --- line_amount -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "unit_price", "currency", "amount"),
    [
        ("30", "19.99", "USD", "599.70"),
        ("3", "0.1", "USD", "0.30"),
        ("0.005", "1", "USD", "0.01"),
        ("3", "333.5", "JPY", "1001"),
        ("1", "1.2345", "KWD", "1.235"),
        ("6", "97356012548.6067", "CLF", "584136075291.6402"),
        ("1000000000", "100000000000", "USD", "100000000000000000000.00"),  # exact, no overflow
        ("0.001", "0.0001", "USD", "0.00"),
    ],
)
def test_line_amount(quantity, unit_price, currency, amount):
    assert line_amount(D(quantity), D(unit_price), currency) == D(amount)


@given(
    st.decimals(min_value="0.001", max_value=10**9, places=3),
    st.decimals(min_value=0, max_value=10**11, places=4),
    currencies,
)
def test_line_amount_is_the_exact_product_rounded(quantity, unit_price, currency):
    with localcontext(prec=60):
        exact = quantity * unit_price
    # at most 12 + 15 digits: the default 28-digit context computes it exactly too
    assert line_amount(quantity, unit_price, currency) == round_money(exact, currency)


# --- totals: tax per (category, rate) group, on its taxable sum (EN 16931) ----------------------


def s(rate: object) -> tuple[str, D]:
    return ("S", D(str(rate)))


def test_totals_tax_once_per_rate_not_per_line():
    # per line: 3 x round(0.05 x 0.10) = 3 x 0.01 = 0.03; per rate: round(0.15 x 0.10) = 0.02
    result = totals([(D("0.05"), s(10))] * 3, "USD")
    assert result.taxes == (TaxLine("S", D(10), D("0.15"), D("0.02")),)
    assert (result.subtotal, result.tax_total, result.total) == (D("0.15"), D("0.02"), D("0.17"))


def test_totals_groups_by_category_then_rate():
    lines = [
        (D("599.70"), s("8.25")),
        (D("10.00"), ("Z", D(0))),
        (D("0.01"), s("8.25")),
        (D(5), s(19)),
        (D(7), ("E", D(0))),
    ]
    result = totals(lines, "USD")
    assert result.taxes == (
        TaxLine("E", D(0), D(7), D("0.00")),
        TaxLine("S", D("8.25"), D("599.71"), D("49.48")),  # 49.476075 -> 49.48
        TaxLine("S", D(19), D(5), D("0.95")),
        TaxLine("Z", D(0), D("10.00"), D("0.00")),
    )
    assert result.subtotal == D("621.71")
    assert result.tax_total == D("50.43")
    assert result.total == D("672.14")


def test_totals_of_nothing():
    result = totals([], "USD")
    assert (result.subtotal, result.taxes, result.tax_total, result.total) == (ZERO, (), 0, 0)


def test_totals_half_up_per_currency():
    assert totals([(D(1001), s(10))], "JPY").tax_total == D(100)  # 100.1
    assert totals([(D(1005), s(10))], "JPY").tax_total == D(101)  # 100.5 -> up
    assert totals([(D("0.05"), s(10))], "USD").tax_total == D("0.01")  # 0.005 -> up
    assert totals([(D("1.2345"), s(10))], "CLF").tax_total == D("0.1235")  # 0.12345 -> up


@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=10**12, places=2),
            st.sampled_from(
                [("Z", D(0)), ("E", D(0))]
                + [s(rate) for rate in ("5", "7.5", "8.25", "19", "21.125", "100")]
            ),
        ),
        max_size=8,
    )
)
def test_totals_add_up(lines):
    result = totals(lines, "USD")
    assert result.subtotal == sum((amount for amount, _ in lines), ZERO)
    assert [tax.group for tax in result.taxes] == sorted({group for _, group in lines})
    for tax in result.taxes:
        assert tax.taxable == sum((a for a, group in lines if group == tax.group), ZERO)
        assert tax.amount == round_money(tax.taxable * tax.rate / 100, "USD")
    assert result.tax_total == sum((tax.amount for tax in result.taxes), ZERO)
    assert result.total == result.subtotal + result.tax_total


# --- number: a decimal's exact, canonical JSON number text -----------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("30"), "30"),
        (D("30.000"), "30"),
        ("30.000", "30"),  # SQLite's stored text
        ("649.1800", "649.18"),  # PostgreSQL's NUMERIC(20, 4) text
        (D("19.99"), "19.99"),
        (D("0.1"), "0.1"),
        ("0.0000", "0"),
        (D("0E-7"), "0"),
        (D("-0"), "0"),
        ("-0.00", "0"),
        (D("1E+3"), "1000"),  # exponent forms (str(Decimal) of some values) are written out
        ("1.5E+3", "1500"),
        ("1.50E+30", "15" + "0" * 29),
        (D("1E-4"), "0.0001"),
        (D("584136075291.6402"), "584136075291.6402"),  # 16 digits: a float says ...6403
        (D("9007199254740993.25"), "9007199254740993.25"),
        (D("100"), "100"),
        ("100.00", "100"),
        (D("-5.50"), "-5.5"),
    ],
)
def test_number_is_the_exact_canonical_text(value, text):
    assert number(value) == text


@pytest.mark.parametrize("value", [D("NaN"), D("Infinity"), D("-Infinity"), "NaN", "sNaN"])
def test_number_refuses_what_json_cannot_say(value):
    with pytest.raises(ValueError):
        number(value)


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20))
def test_number_round_trips_exactly(value):
    for form in (value, str(value), format(value, "f")):
        text = number(form)
        assert D(text) == value
        assert CANONICAL.fullmatch(text.removeprefix("-")), text
        assert text.startswith("-") == (value < 0)  # never -0


# --- the cap ---------------------------------------------------------------------------------


def test_the_cap_is_what_the_money_columns_hold():
    """Every amount of an order (and of its invoices, which never exceed it) is at most its total,
    so totals below MAX_AMOUNT fit NUMERIC(20, 4): 16 digits before the point."""
    money = tables.order_lines.c.amount.type
    assert (money.precision, money.scale) == (20, 4)
    for column in ("subtotal", "tax_total", "total"):
        assert tables.orders.c[column].type.precision == 20
        assert tables.invoices.c[column].type.precision == 20
    assert D(10) ** (money.precision - money.scale) == MAX_AMOUNT
    largest = MAX_AMOUNT - minor_unit("CLF")
    assert len(largest.as_tuple().digits) == money.precision
    # and the arithmetic below the cap stays exact in the default 28-digit context
    assert largest * D("100.0000") / 100 == largest


def test_share_is_exact_for_amounts_of_twenty_digits():
    # part * amount has 31 digits here: the default 28-digit context rounded it to .72.
    part, whole, amount = D("20509379136277.5"), D("83382714731050"), D("15842715798899.50")
    assert share(part, whole, amount, "EUR") == D("3896782035892.73")  # exact: ...892.725
