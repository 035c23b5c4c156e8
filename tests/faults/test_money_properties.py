"""Money properties, with hypothesis through the HTTP API: for random orders (quantities
with up to 3 decimals, prices with up to 4, several tax rates, currencies with 0, 2 and 3 minor
digits) and random sequences of partial invoices, every invoice is internally consistent to the
minor unit (EN 16931: per-line nets, one tax entry per rate on that rate's taxable sum, total =
subtotal + taxTotal), and the nets of an order's invoices add up exactly to the order's subtotal."""

from collections import defaultdict
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import line, order_body

MINOR_DIGITS = {"JPY": 0, "USD": 2, "KWD": 3}
RATES = [Decimal(r) for r in ("0", "5", "7.5", "8.25", "19", "21.125")]
THOUSANDTH = Decimal("0.001")


def d(value: Any) -> Decimal:
    """A JSON number (or decimal string) as the exact decimal it spells."""
    return Decimal(str(value))


def unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_DIGITS[currency])


def half_up(value: Decimal, currency: str) -> Decimal:
    return value.quantize(unit(currency), rounding=ROUND_HALF_UP)


def at_minor_unit(value: Any, currency: str) -> bool:
    return d(value) == d(value).quantize(unit(currency))


quantities = st.decimals(min_value="0.001", max_value="1000", places=3)
prices = st.decimals(min_value="0", max_value="10000", places=4)
lines = st.lists(
    st.tuples(quantities, prices, st.sampled_from(RATES), st.booleans()), min_size=1, max_size=4
)
# Each step invoices a part (1..100 %) of what is left on some lines.
steps = st.lists(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(1, 100)),
        min_size=1,
        max_size=3,
        unique_by=lambda pick: pick[0],
    ),
    max_size=4,
)


def _json(value: Decimal, as_string: bool) -> Any:
    """Sent either as a decimal string or as a JSON number."""
    return str(value) if as_string else float(value)


def check_totals(document: dict[str, Any], currency: str) -> None:
    """subtotal = Σ line amounts; one tax entry per rate, ascending, on that rate's taxable sum;
    taxTotal = Σ taxes; total = subtotal + taxTotal; every amount at the minor unit."""
    amounts = [d(item["amount"]) for item in document["lineItems"]]
    assert d(document["subtotal"]) == sum(amounts, Decimal(0))
    taxable: dict[Decimal, Decimal] = defaultdict(Decimal)
    for item in document["lineItems"]:
        taxable[d(item["taxRate"])] += d(item["amount"])
    expected = [
        (rate, base, half_up(base * rate / 100, currency)) for rate, base in sorted(taxable.items())
    ]
    actual = [(d(t["rate"]), d(t["taxable"]), d(t["amount"])) for t in document["taxes"]]
    assert actual == expected
    assert d(document["taxTotal"]) == sum((amount for _, _, amount in expected), Decimal(0))
    assert d(document["total"]) == d(document["subtotal"]) + d(document["taxTotal"])
    money = [document["subtotal"], document["taxTotal"], document["total"]]
    money += [item["amount"] for item in document["lineItems"]]
    money += [t["taxable"] for t in document["taxes"]] + [t["amount"] for t in document["taxes"]]
    assert all(at_minor_unit(value, currency) for value in money), money


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(currency=st.sampled_from(sorted(MINOR_DIGITS)), order_lines=lines, plan=steps)
def test_invoices_are_consistent_and_add_up_to_the_order(
    api: Any,
    currency: str,
    order_lines: list[tuple[Decimal, Decimal, Decimal, bool]],
    plan: list[list[tuple[int, int]]],
) -> None:
    body = order_body(
        currency=currency,
        lineItems=[
            line(f"Item {i}", _json(q, as_string), _json(p, not as_string), _json(r, as_string))
            for i, (q, p, r, as_string) in enumerate(order_lines)
        ],
    )
    response = api.post("/orders", json=body)
    assert response.status_code == 201, response.text
    order = response.json()["data"]
    assert order["currency"] == currency
    for item, (q, p, r, _) in zip(order["lineItems"], order_lines, strict=True):
        assert (d(item["quantity"]), d(item["unitPrice"]), d(item["taxRate"])) == (q, p, r)
        assert d(item["amount"]) == half_up(q * p, currency)
    check_totals(order, currency)

    left = {item["id"]: d(item["quantity"]) for item in order["lineItems"]}
    billed: dict[str, Decimal] = defaultdict(Decimal)  # net billed per order line
    by_id = {item["id"]: item for item in order["lineItems"]}
    invoices = []
    for step in plan:
        picks = []
        for index, percent in step:
            if index >= len(order["lineItems"]):
                continue
            line_id = order["lineItems"][index]["id"]
            quantity = (left[line_id] * percent / 100).quantize(THOUSANDTH, rounding=ROUND_DOWN)
            if quantity > 0:
                picks.append({"lineItemId": line_id, "quantity": str(quantity)})
        if not picks:
            continue
        invoices.append(_invoice(api, order, {"lineItems": picks}, left, billed, by_id, currency))
    if any(quantity > 0 for quantity in left.values()):
        invoices.append(_invoice(api, order, {}, left, billed, by_id, currency))

    # Fully invoiced now: nothing left, and the nets add up to the order's, line by line too.
    assert all(quantity == 0 for quantity in left.values())
    response = api.post("/invoices", json={"orderId": order["id"]})
    assert response.status_code == 409, response.text
    assert sum((d(i["subtotal"]) for i in invoices), Decimal(0)) == d(order["subtotal"])
    for line_id, item in by_id.items():
        assert billed[line_id] == d(item["amount"])
    after = api.get(f"/orders/{order['id']}").json()["data"]
    assert after["status"] == "invoiced"
    assert [d(i["invoicedQuantity"]) for i in after["lineItems"]] == [
        d(i["quantity"]) for i in order["lineItems"]
    ]


def _invoice(
    api: Any,
    order: dict[str, Any],
    extra: dict[str, Any],
    left: dict[str, Decimal],
    billed: dict[str, Decimal],
    by_id: dict[str, dict[str, Any]],
    currency: str,
) -> dict[str, Any]:
    response = api.post("/invoices", json={"orderId": order["id"], **extra})
    assert response.status_code == 201, response.text
    invoice: dict[str, Any] = response.json()["data"]
    assert invoice["currency"] == currency
    check_totals(invoice, currency)
    # Each line's net is round(quantity * unitPrice), except the one that takes a line's last
    # quantity: it takes the line's remaining net (the remainder rule).
    for item in invoice["lineItems"]:
        ordered = by_id[item["lineItemId"]]
        quantity = d(item["quantity"])
        assert 0 < quantity <= left[item["lineItemId"]]
        assert d(item["unitPrice"]) == d(ordered["unitPrice"])
        assert d(item["taxRate"]) == d(ordered["taxRate"])
        if quantity == left[item["lineItemId"]]:
            expected = d(ordered["amount"]) - billed[item["lineItemId"]]
        else:
            expected = half_up(quantity * d(ordered["unitPrice"]), currency)
        assert d(item["amount"]) == expected
        left[item["lineItemId"]] -= quantity
        billed[item["lineItemId"]] += d(item["amount"])
    if not extra.get("lineItems"):
        assert {item["lineItemId"] for item in invoice["lineItems"]} <= set(left)
    return invoice
