"""`serialize.money` inlines `money.number`'s common cases: whatever the form of a stored decimal,
the JSON it splices in must be the number `number` spells."""

from decimal import Decimal

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.core.money import number
from invoicing.web.serialize import money

FORMS = [
    "0", "00", "2", "19", "100", "1000000", "0.0000", "0.10", "19.99", "199.90", "20.00", "30.000",
    "649.1800", "100.00", "8.25", "0.0001", "-0", "-0.00", "-5.50", "1E+3", "1.5E+3", "0E-7",
    "584136075291.6402", "9007199254740993.25",
]  # fmt: skip


def _spelled(value: str | Decimal) -> str:
    return orjson.dumps([money(value)]).decode()[1:-1]


@pytest.mark.parametrize("text", FORMS)
def test_money_spells_what_number_does(text: str) -> None:
    assert _spelled(text) == number(text)
    assert _spelled(Decimal(text)) == number(Decimal(text))


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**16), max_value=10**16))
def test_money_spells_what_number_does_for_any_decimal(value: Decimal) -> None:
    for form in (value, str(value), format(value, "f"), format(value, ".4f")):
        assert _spelled(form) == number(form)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_money_refuses_what_json_cannot_say(text: str) -> None:
    with pytest.raises(ValueError):
        money(text)
